// Counts per interval of a run's wall time (per second at first): ended
// deliveries, ended attempts and attempts that got no 2xx, for throughput
// over time. Memory is bounded: past kMaxBuckets intervals, neighbouring
// intervals are merged in pairs and the interval doubles.
// Thread: not thread-safe.
#ifndef HOOKSIM_SIM_BASE_THROUGHPUT_SERIES_H_
#define HOOKSIM_SIM_BASE_THROUGHPUT_SERIES_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/base/time.h"

namespace hooksim {

class ThroughputSeries {
 public:
  static constexpr size_t kMaxBuckets = 4096;

  explicit ThroughputSeries(Duration bucket = std::chrono::seconds(1));

  // `at` is the time since the run started (negative counts as 0).
  void RecordDelivery(Duration at);
  void RecordAttempt(Duration at, bool failed);

  Duration bucket() const { return bucket_; }
  // One entry per interval from the start to the last one recorded.
  const std::vector<uint64_t>& deliveries() const { return deliveries_; }
  const std::vector<uint64_t>& attempts() const { return attempts_; }
  const std::vector<uint64_t>& failed_attempts() const { return failed_; }

  // {"bucket_s": 1, "deliveries": [...], "attempts": [...],
  //  "failed_attempts": [...]}
  nlohmann::ordered_json ToJson() const;

 private:
  // The index of `at`'s interval, growing (and merging) the vectors.
  size_t Slot(Duration at);

  Duration bucket_;
  std::vector<uint64_t> deliveries_;
  std::vector<uint64_t> attempts_;
  std::vector<uint64_t> failed_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_THROUGHPUT_SERIES_H_
