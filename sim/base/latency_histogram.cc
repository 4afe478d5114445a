#include "sim/base/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace hooksim {
namespace {

// Buckets: 128 linear ones, then 64 per power of two from 2^7 to 2^63.
constexpr size_t kBucketCount = 128 + 57 * 64;

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBucketCount, 0) {}

size_t LatencyHistogram::BucketOf(uint64_t value) {
  if (value < (uint64_t{1} << kLinearBits)) return static_cast<size_t>(value);
  // value has bit_width >= 8; keep its top kSubBits + 1 bits.
  const int shift = std::bit_width(value) - (kSubBits + 1);  // >= 1.
  const uint64_t top = value >> shift;                       // [64, 128).
  return (size_t{1} << kLinearBits) +
         static_cast<size_t>(shift - 1) * (size_t{1} << kSubBits) +
         static_cast<size_t>(top - (uint64_t{1} << kSubBits));
}

uint64_t LatencyHistogram::HighestIn(size_t bucket) {
  if (bucket < (size_t{1} << kLinearBits)) return bucket;
  const size_t rest = bucket - (size_t{1} << kLinearBits);
  const int shift = static_cast<int>(rest >> kSubBits) + 1;
  const uint64_t top =
      (uint64_t{1} << kSubBits) + (rest & ((size_t{1} << kSubBits) - 1));
  const uint64_t next = (top + 1) << shift;
  return next == 0 ? UINT64_MAX : next - 1;  // The last bucket ends at 2^64.
}

void LatencyHistogram::Record(Duration value) {
  const uint64_t v =
      value.count() < 0 ? 0 : static_cast<uint64_t>(value.count());
  ++buckets_[BucketOf(v)];
  ++count_;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
  sum_ += static_cast<long double>(v);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

Duration LatencyHistogram::min() const {
  return Duration(count_ == 0 ? 0 : static_cast<int64_t>(min_));
}

Duration LatencyHistogram::mean() const {
  if (count_ == 0) return Duration(0);
  return Duration(
      static_cast<int64_t>(std::llround(static_cast<double>(sum_ / count_))));
}

Duration LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return Duration(0);
  if (!(q > 0)) q = 0;  // NaN too.
  if (q > 1) q = 1;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * count_));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      return Duration(static_cast<int64_t>(std::min(HighestIn(i), max_)));
    }
  }
  return Duration(static_cast<int64_t>(max_));
}

uint64_t LatencyHistogram::CountAtOrBelow(Duration value) const {
  if (value.count() < 0) return 0;
  const size_t last = BucketOf(static_cast<uint64_t>(value.count()));
  uint64_t n = 0;
  for (size_t i = 0; i <= last && i < buckets_.size(); ++i) n += buckets_[i];
  return n;
}

}  // namespace hooksim
