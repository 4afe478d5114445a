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

#include <string>
#include <vector>

#include "mock-receivers/behavior.h"
#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/contract/contract.h"

namespace hooksim {

// The path of HOOKSIM_URL; requests elsewhere are not attempts.
inline constexpr char kConformHookPath[] = "/hook";

struct BatteryOptions {
  Duration slow = Millis(1500);
  Duration hang = Millis(30000);
  uint64_t seed = 1;  // Of the generated release events.
  // The profile the sender promises (--contract): the expected attempts
  // per case, and what the judge holds it to.
  Contract contract = DivshotContract();
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
