#include "sim/engine/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace hooksim {
namespace {

constexpr Duration kMaxDelay = std::chrono::hours(24 * 30);

Duration Scale(Duration d, double factor) {
  return Duration(static_cast<Duration::rep>(
      std::llround(static_cast<double>(d.count()) * factor)));
}

}  // namespace

Status RetryPolicy::Validate() const {
  if (max_reattempts < 0 || max_reattempts > 100) {
    return Status::InvalidArgument(
        "expected 0..100 re-attempts, got " + std::to_string(max_reattempts),
        "/max_reattempts");
  }
  if (schedule.empty() && max_reattempts > 0) {
    return Status::InvalidArgument("expected at least one delay",
                                   "/schedule_ms");
  }
  for (size_t i = 0; i < schedule.size(); ++i) {
    if (schedule[i] < Duration::zero() || schedule[i] > kMaxDelay) {
      return Status::InvalidArgument(
          "expected a delay of 0..2592000000 ms, got " +
              std::to_string(ToMillis(schedule[i])),
          "/schedule_ms/" + std::to_string(i));
    }
  }
  if (!(jitter >= 0.0 && jitter <= 1.0)) {
    return Status::InvalidArgument(
        "expected a fraction 0..1, got " + std::to_string(jitter), "/jitter");
  }
  if (timeout < std::chrono::milliseconds(1) ||
      timeout > std::chrono::hours(1)) {
    return Status::InvalidArgument(
        "expected 1..3600000 ms, got " + std::to_string(ToMillis(timeout)),
        "/timeout_ms");
  }
  return Status::Ok();
}

Duration RetryPolicy::BaseDelay(int reattempt) const {
  if (schedule.empty()) return Duration::zero();
  size_t i = reattempt < 1 ? 0 : static_cast<size_t>(reattempt - 1);
  if (i >= schedule.size()) i = schedule.size() - 1;
  return schedule[i];
}

Duration RetryPolicy::DelayBefore(int reattempt, Random& rng) const {
  const double factor = 1.0 + rng.Uniform(-jitter, jitter);
  return Scale(BaseDelay(reattempt), factor);
}

std::pair<Duration, Duration> RetryPolicy::DelayBounds(int reattempt) const {
  const Duration base = BaseDelay(reattempt);
  return {Scale(base, 1.0 - jitter), Scale(base, 1.0 + jitter)};
}

RetryPolicy RetryPolicy::FromContract(const Contract& contract) {
  RetryPolicy policy;
  policy.max_reattempts = contract.max_reattempts;
  policy.schedule = contract.retry_schedule;
  policy.jitter = contract.jitter;
  policy.timeout = contract.timeout;
  return policy;
}

RetryPolicy RetryPolicy::WithAttemptsOf(const Contract& contract,
                                        std::vector<Duration> schedule,
                                        double jitter, Duration timeout) {
  RetryPolicy policy;
  policy.max_reattempts = contract.max_reattempts;
  policy.schedule = std::move(schedule);
  policy.jitter = jitter;
  policy.timeout = timeout;
  return policy;
}

Duration ContractDelay(const Contract& contract, const AttemptResult& result,
                       Duration scheduled) {
  Duration delay = scheduled;
  const bool answered = result.error == AttemptError::kNone;
  if (answered && result.retry_after_ms >= 0 &&
      contract.HonoursRetryAfter(result.status)) {
    const Duration hint = std::chrono::milliseconds(result.retry_after_ms);
    if (contract.retry_after == RetryAfterMode::kHonour) {
      delay = std::max(scheduled, std::min(hint, contract.retry_after_max));
    } else {
      delay = std::clamp(hint, Scale(scheduled, contract.retry_after_clamp_min),
                         Scale(scheduled, contract.retry_after_clamp_max));
    }
  }
  const bool throttled = result.error == AttemptError::kTimeout ||
                         (answered && result.status == 429);
  if (throttled && contract.throttle_floor > Duration::zero()) {
    delay = std::max(delay, contract.throttle_floor);
  }
  return delay;
}

}  // namespace hooksim
