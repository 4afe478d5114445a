// The conformance battery of `hooksim conform`, as data.
//
// Each case is a receiver behaviour, the events the sender is given (the
// lines of HOOKSIM_EVENT_FILE), and what the webhook contract then demands:
// how many attempts each event gets at the hook path (1 after a 2xx, up to
// 6 when every answer is a failure), plus the request-shape rules that hold
// for every case (C1 method, C2 content type, C3 body, C4 release schema,
// C7 unchanged body). The judge (conform_judge.h) turns a case and what its
// receiver recorded into verdicts; the command (conform_command.h) runs it.
//
// Durations the case depends on come from BatteryOptions: `slow` is how
// long the slow-but-sane 2xx takes (must be below any sane sender timeout),
// `hang` how long the held reply takes (must be above the sender's
// timeout). The test suite compresses both for a sender with a short
// timeout.
// Thread: pure functions over values.
#ifndef HOOKSIM_SIM_CONFORM_CONFORM_CASES_H_
#define HOOKSIM_SIM_CONFORM_CONFORM_CASES_H_

#include <optional>
#include <string>
#include <vector>

#include "mock-receivers/behavior.h"
#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/contract/contract.h"
#include "sim/contract/sender_env.h"

namespace hooksim {

// The path of HOOKSIM_URL; requests elsewhere are not attempts.
inline constexpr char kConformHookPath[] = "/hook";

// The Retry-After the receiver of 429-retry-after / 503-retry-after sends.
inline constexpr Duration kConformRetryAfter = std::chrono::seconds(1);
// retry-timing: how far a gap may lie outside the jittered delay (the
// request's travel, the answer, the sender's own scheduling), each way.
inline constexpr Duration kConformTimingSlack = std::chrono::milliseconds(300);
// Retry-after: how much earlier than the hint a next attempt may arrive
// (clock granularity: the hint counts from the answer, which comes after
// the request's arrival).
inline constexpr Duration kConformRetryAfterSlack =
    std::chrono::milliseconds(20);

struct BatteryOptions {
  Duration slow = Millis(1500);
  Duration hang = Millis(30000);
  uint64_t seed = 1;  // Of the generated release events.
  // The profile the sender promises (--contract): the expected attempts
  // per case, and what the judge holds it to.
  Contract contract = DivshotContract();
  // The profile's own cases where it makes them meaningful (--contract
  // given): 429-retry-after and 503-retry-after (a profile that honours
  // Retry-After on that status), signed (a signing profile), retry-timing
  // (a profile with re-attempts). Off: the battery as before profiles.
  bool profile_cases = false;
  // retry-timing: how far a gap may lie outside the jittered delay, each
  // way (--timing-slack-ms; a loaded CI runner may need more).
  Duration timing_slack = kConformTimingSlack;
};


// What kind of answer a case gives, so the judge can explain a miss.
enum class CaseKind {
  kSuccess,      // 2xx at once: 1 attempt.
  kRecovers,     // Failures then a 2xx: failures + 1 attempts.
  kAlwaysFails,  // Never a 2xx: exactly 6 attempts.
  kHeld,         // Every answer held past the sender's timeout: 6.
  kSlowSuccess,  // A 2xx after `slow`: 1 attempt (not a timeout).
  kGone,         // 410 under a profile that stops on it: 1 attempt.
};

struct ConformCase {
  std::string name;       // Unique, [a-z0-9-]: used in test names.
  std::string behaviour;  // In words: "503 then 200".
  CaseKind kind = CaseKind::kSuccess;
  BehaviorSpec behavior;
  std::vector<std::string> events;  // Bodies, one line each.
  int expected_attempts = 1;        // Per event.
  // Why that count, for the report ("404 is a failure: retried").
  std::string why;
  bool is_redirect = false;  // Checks that the 3xx was not followed.
  Contract contract = DivshotContract();  // What the case is judged by.
  // 429-retry-after, 503-retry-after: the Retry-After the receiver sends
  // with its failure; the next attempt must not come before it.
  std::optional<Duration> retry_after_hint;
  // signed: every request must carry a valid signature of the profile's
  // scheme made with kSenderSecret (the receiver answers 401 otherwise).
  bool check_signature = false;
  // retry-timing: the schedule handed to the sender; each gap between
  // attempts is judged against it (jitter bounds plus timing_slack).
  std::vector<Duration> timing_schedule;
  Duration timing_slack = kConformTimingSlack;  // BatteryOptions'.
};

// The whole battery, in its fixed order.
std::vector<ConformCase> ConformBattery(const BatteryOptions& options);

// The cases named in `list` ("ok-200,always-500"), in battery order; an
// unknown or repeated name, or an empty list, is an error naming it and
// the known names.
Result<std::vector<ConformCase>> SelectCases(
    const std::vector<ConformCase>& battery, const std::string& list);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONFORM_CONFORM_CASES_H_
