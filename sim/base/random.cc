#include "sim/base/random.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace hooksim {
namespace {

inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

inline uint64_t Mix(uint64_t x) { return Mix64(x); }

}  // namespace

uint64_t Hash64(std::string_view bytes, uint64_t seed) {
  // xxHash64-style: four independent lanes of 8 bytes per 32-byte stripe,
  // one multiply each, so long bodies hash at memory speed; then the tail
  // word by word. Every byte and the length reach the result.
  constexpr uint64_t kP1 = 0x9e3779b185ebca87ULL;
  constexpr uint64_t kP2 = 0xc2b2ae3d27d4eb4fULL;
  const char* p = bytes.data();
  size_t n = bytes.size();
  auto read = [](const char* at) {
    uint64_t w;
    std::memcpy(&w, at, 8);
    return w;
  };
  auto round = [](uint64_t acc, uint64_t w) {
    return Rotl(acc + w * kP2, 31) * kP1;
  };
  uint64_t h;
  if (n >= 32) {
    uint64_t a = seed + kP1 + kP2, b = seed + kP2, c = seed, d = seed - kP1;
    while (n >= 32) {
      a = round(a, read(p));
      b = round(b, read(p + 8));
      c = round(c, read(p + 16));
      d = round(d, read(p + 24));
      p += 32;
      n -= 32;
    }
    h = Rotl(a, 1) + Rotl(b, 7) + Rotl(c, 12) + Rotl(d, 18);
    for (uint64_t lane : {a, b, c, d}) h = (h ^ round(0, lane)) * kP1;
  } else {
    h = seed + 0x27d4eb2f165667c5ULL;
  }
  h += static_cast<uint64_t>(bytes.size());
  while (n >= 8) {
    h = Rotl(h ^ round(0, read(p)), 27) * kP1 + 0x85ebca77c2b2ae63ULL;
    p += 8;
    n -= 8;
  }
  // The last 0..7 bytes as memcpy would load them into a zeroed word,
  // without a library call for a variable size (p may be null for empty
  // input: nothing is read then).
  uint64_t tail = 0;
  if constexpr (std::endian::native == std::endian::little) {
    for (size_t i = 0; i < n; ++i) {
      const auto byte = static_cast<unsigned char>(p[i]);
      tail |= static_cast<uint64_t>(byte) << (8 * i);
    }
  } else if (n > 0) {
    std::memcpy(&tail, p, n);
  }
  h ^= Mix(tail ^ (static_cast<uint64_t>(n) << 56));
  return Mix(h);
}

Random::Random(uint64_t seed) : seed_(seed) {
  uint64_t sm = seed;
  for (uint64_t& s : s_) s = SplitMix64(sm);
}

uint64_t Random::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double Random::NextDouble() {
  return static_cast<double>(Next() >> 11) * 0x1.0p-53;
}

double Random::Uniform(double lo, double hi) {
  if (!(hi > lo)) return lo;
  return lo + (hi - lo) * NextDouble();
}

int64_t Random::UniformInt(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  if (span == 0) return static_cast<int64_t>(Next());  // Full 64-bit range.
  // Rejection sampling for an unbiased result.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return lo + static_cast<int64_t>(x % span);
}

bool Random::Bernoulli(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return NextDouble() < p;
}

double Random::Normal(double mean, double stddev) {
  double u1 = NextDouble();
  const double u2 = NextDouble();
  if (u1 < 1e-300) u1 = 1e-300;
  const double z =
      std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  return mean + stddev * z;
}

Random Random::Fork(std::string_view tag) const {
  return Fork(Hash64(tag, 0x5eedf00dULL));
}

Random Random::Fork(uint64_t tag) const {
  uint64_t sm = seed_ ^ Mix(tag + 0x243f6a8885a308d3ULL);
  return Random(SplitMix64(sm));
}

}  // namespace hooksim
