// Seeded, portable randomness.
//
// All randomness in hooksim comes from Random, a xoshiro256** generator
// seeded through splitmix64. The distributions are written here rather than
// taken from <random> because std::*_distribution differ between standard
// libraries, and a seed must give the same run everywhere.
//
// Components never share a generator: each gets a child from Fork(tag), so
// adding draws in one component does not shift the draws of another.
// Thread: a Random is not thread-safe; give each thread its own.
#ifndef HOOKSIM_SIM_BASE_RANDOM_H_
#define HOOKSIM_SIM_BASE_RANDOM_H_

#include <cstdint>
#include <string_view>

namespace hooksim {

class Random {
 public:
  explicit Random(uint64_t seed);

  uint64_t Next();
  // Uniform in [0, 1).
  double NextDouble();
  // Uniform in [lo, hi); returns lo when hi <= lo.
  double Uniform(double lo, double hi);
  // Uniform integer in [lo, hi] (inclusive); returns lo when hi <= lo.
  int64_t UniformInt(int64_t lo, int64_t hi);
  // True with probability p (p clamped to [0, 1]).
  bool Bernoulli(double p);
  // Standard normal (Box-Muller), then scaled.
  double Normal(double mean, double stddev);

  // A child generator whose stream depends on this generator's seed and the
  // tag only (not on how many draws were made from this one).
  Random Fork(std::string_view tag) const;
  Random Fork(uint64_t tag) const;

  uint64_t seed() const { return seed_; }

 private:
  uint64_t seed_;
  uint64_t s_[4];
};

// splitmix64 step, exposed for hashing seeds and ids. Inline: the engine
// and the run's fingerprint call it for every attempt.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// MurmurHash3's 64-bit finalizer: every bit of x reaches every bit of the
// result (a bijection).
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Fast 64-bit non-cryptographic hash of bytes (stable across platforms of
// the same endianness). Used for body fingerprints and log fingerprints.
uint64_t Hash64(std::string_view bytes, uint64_t seed = 0);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_RANDOM_H_
