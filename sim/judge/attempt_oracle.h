// Derives, from a behaviour and a retry policy alone, how many attempts a
// contract-following sender must make for one delivery and how it ends.
//
// This is the runner's independent oracle for scenarios that state no
// attempt count: it does not run the engine. It walks the attempts with the
// earliest and latest start time the policy's jitter allows, so a receiver
// whose answer depends on time (outage windows) yields an exact count when
// the window edges cannot fall between those bounds, and a range otherwise.
// Behaviours that draw random numbers, or whose sequence runs per receiver
// (so it depends on how deliveries interleave), or that have routes (the
// route depends on each request), give no derivation.
#ifndef HOOKSIM_SIM_JUDGE_ATTEMPT_ORACLE_H_
#define HOOKSIM_SIM_JUDGE_ATTEMPT_ORACLE_H_

#include <optional>

#include "mock-receivers/behavior.h"
#include "sim/contract/contract.h"
#include "sim/engine/retry_policy.h"
#include "sim/scenario/scenario.h"

namespace hooksim {

struct DerivedAttempts {
  Range attempts;
  OutcomeExpectation outcome = OutcomeExpectation::kAny;
};

// `first_attempt` is when the delivery's first attempt starts on the run
// timeline. Returns nullopt when the behaviour is not deterministic, or
// when the contract makes the outcome depend on more than this delivery:
// a 410 it stops on (which also ends the hook's other deliveries), or
// delays that Retry-After or a throttle floor stretch across an outage
// window's edge.
std::optional<DerivedAttempts> DeriveAttempts(
    const BehaviorSpec& behavior, const RetryPolicy& policy,
    TimePoint first_attempt, const Contract& contract = DivshotContract());

// The same for a hook whose URL has nothing behind it: every attempt is
// refused, so the delivery gives up after max_attempts.
DerivedAttempts DeriveRefusedAttempts(const RetryPolicy& policy);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_JUDGE_ATTEMPT_ORACLE_H_
