#include "sim/base/throughput_series.h"

#include <algorithm>

namespace hooksim {
namespace {

void MergePairs(std::vector<uint64_t>& v) {
  std::vector<uint64_t> merged((v.size() + 1) / 2, 0);
  for (size_t i = 0; i < v.size(); ++i) merged[i / 2] += v[i];
  v = std::move(merged);
}

}  // namespace

ThroughputSeries::ThroughputSeries(Duration bucket)
    : bucket_(std::max(bucket, Duration(1))) {}

size_t ThroughputSeries::Slot(Duration at) {
  const int64_t us = std::max<int64_t>(at.count(), 0);
  uint64_t index = static_cast<uint64_t>(us / bucket_.count());
  // Bounded: each round halves the index.
  while (index >= kMaxBuckets) {
    MergePairs(deliveries_);
    MergePairs(attempts_);
    MergePairs(failed_);
    bucket_ *= 2;
    index = static_cast<uint64_t>(us / bucket_.count());
  }
  if (index >= deliveries_.size()) {
    deliveries_.resize(index + 1, 0);
    attempts_.resize(index + 1, 0);
    failed_.resize(index + 1, 0);
  }
  return static_cast<size_t>(index);
}

void ThroughputSeries::RecordDelivery(Duration at) { ++deliveries_[Slot(at)]; }

void ThroughputSeries::RecordAttempt(Duration at, bool failed) {
  const size_t i = Slot(at);
  ++attempts_[i];
  if (failed) ++failed_[i];
}

nlohmann::ordered_json ThroughputSeries::ToJson() const {
  nlohmann::ordered_json j;
  j["bucket_s"] = static_cast<double>(bucket_.count()) / 1e6;
  j["deliveries"] = deliveries_;
  j["attempts"] = attempts_;
  j["failed_attempts"] = failed_;
  return j;
}

}  // namespace hooksim
