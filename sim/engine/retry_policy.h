// The retry policy is a value: how many re-attempts, the delays between
// them, their jitter and the per-attempt timeout.
//
// Defaults follow the contract (DivshotContract(), sim/contract/contract.h):
// 5 re-attempts (6 attempts at most), delays 5 s, 5 min, 30 min, 2 h, 5 h
// (the delay before re-attempt k is schedule[k-1]; past the end the last
// delay repeats), +-20 % jitter and a 10 s timeout per attempt. The delay
// runs from the end of the previous attempt (its answer, error or timeout).
#ifndef HOOKSIM_SIM_ENGINE_RETRY_POLICY_H_
#define HOOKSIM_SIM_ENGINE_RETRY_POLICY_H_

#include <utility>
#include <vector>

#include "sim/base/random.h"
#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/contract/contract.h"
#include "sim/contract/http_types.h"

namespace hooksim {

struct RetryPolicy {
  int max_reattempts = DivshotContract().max_reattempts;
  std::vector<Duration> schedule = DivshotContract().retry_schedule;
  // Fraction: the delay is scaled by 1 +- jitter.
  double jitter = DivshotContract().jitter;
  Duration timeout = DivshotContract().timeout;

  int max_attempts() const { return max_reattempts + 1; }

  // Checks the ranges (max_reattempts 0..100, schedule non-empty with each
  // delay 0..30 days, jitter 0..1, timeout 1 ms..1 h); the error's path
  // names the field ("/max_reattempts", "/schedule_ms/2", ...).
  Status Validate() const;

  // Un-jittered delay before re-attempt `reattempt` (1-based).
  Duration BaseDelay(int reattempt) const;
  // The jittered delay before re-attempt `reattempt`; draws one number
  // from rng when jitter > 0.
  Duration DelayBefore(int reattempt, Random& rng) const;
  // Smallest and largest delay DelayBefore can return.
  std::pair<Duration, Duration> DelayBounds(int reattempt) const;

  // The contract profile's attempts, schedule, jitter and timeout.
  static RetryPolicy FromContract(const Contract& contract);
  // The profile's attempt limit with a command's own schedule, jitter and
  // timeout (deliver, worker and bench take those as flags, whose defaults
  // are the profile's).
  static RetryPolicy WithAttemptsOf(const Contract& contract,
                                    std::vector<Duration> schedule,
                                    double jitter, Duration timeout);
};

// The delay before the next attempt after `result` under `contract`, given
// the jittered scheduled delay: a Retry-After the profile honours on that
// status (kHonour: not before the hint capped at retry_after_max, i.e.
// max(scheduled, hint); kClamp: the hint clamped into [min, max] x
// scheduled), then at least the throttle floor after a timeout or a 429.
// A missing or unreadable Retry-After leaves `scheduled`.
Duration ContractDelay(const Contract& contract, const AttemptResult& result,
                       Duration scheduled);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_ENGINE_RETRY_POLICY_H_
