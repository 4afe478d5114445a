// A latency histogram of fixed size: log-linear buckets over microseconds,
// as HdrHistogram does, so recording a million samples costs no more
// memory than recording ten.
//
// Values below 128 us have a bucket each; above, every power of two is cut
// into 64 equal buckets, so a bucket spans under 1/64 (1.6 %) of its
// values. Percentile(q) returns the highest value of the bucket holding
// the sample of rank ceil(q * count), capped at the largest value
// recorded, so it never under-reports and is at most 1.6 % high.
// Negative durations are recorded as 0.
// Thread: not thread-safe. Memory: about 30 KB, fixed at construction.
#ifndef HOOKSIM_SIM_BASE_LATENCY_HISTOGRAM_H_
#define HOOKSIM_SIM_BASE_LATENCY_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/base/time.h"

namespace hooksim {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(Duration value);
  // Adds every sample of `other`.
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // 0 when empty.
  Duration min() const;
  Duration max() const { return Duration(max_); }
  Duration mean() const;
  // q in [0, 1] (clamped); 0 when empty. Percentile(0.99) is p99.
  Duration Percentile(double q) const;

  // Samples at or below `value` (bucket resolution: at most 1.6 % off).
  uint64_t CountAtOrBelow(Duration value) const;

 private:
  static constexpr int kLinearBits = 7;  // 128 single-value buckets.
  static constexpr int kSubBits = 6;     // 64 buckets per power of two.
  static size_t BucketOf(uint64_t value);
  static uint64_t HighestIn(size_t bucket);

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_LATENCY_HISTOGRAM_H_
