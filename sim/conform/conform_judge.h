// Judging one conformance case: from what the receiver recorded and how
// the sender ran, one verdict per row (pass, fail or could-not-judge),
// each with what was expected and what was seen in words. The contract's
// checks themselves are the judge's (sim/judge/contract_judge.h, with the
// divshot Contract); this file maps a case onto them and words the rows.
//
// Requests are mapped to the case's events by body (hash and size of the
// exact bytes the harness wrote), so a sender needs no id header of its
// own; a request whose body matches no event was changed by the sender
// (C7). Only requests to the hook path count as attempts; requests to the
// 3xx Location are the sender following a redirect.
//
// Rules, in this order (rule id: contract):
//   attempts (C5/C6)       each event gets exactly expected_attempts
//   no-redirect (C6)       redirect cases only: the Location is never asked
//   method (C1)            every request is a POST
//   content-type (C2)      every request has Content-Type: application/json
//   body-shape (C3)        every body is JSON with event (string), data
//   release-schema (C4)    every release body matches the release schema
//   body-unchanged (C7)    every body is an event's, byte for byte; with a
//                          delivery id header, one id carries one body
// and, in the profile's own cases, after no-redirect:
//   retry-after (C6)       the attempt after a failure with Retry-After
//                          comes no earlier than the hint
//   timing (C6)            each gap between attempts lies within the
//                          handed schedule's delay +- the profile's jitter
//                          +- the case's timing_slack (--timing-slack-ms,
//                          default kConformTimingSlack); when fewer than half of
//                          the gaps do, the sender is taken not to follow
//                          the schedule at all: could-not-judge
//   signed (signing)       the receiver found every request validly signed
//                          (else: which request, and missing, bad or stale)
// A rule with no request to judge is could-not-judge, as is every rule
// when the run was interrupted; when the receiver's journal overflowed
// (far more requests than the contract allows) `attempts` fails and the
// other rules are could-not-judge.
// Thread: pure functions.
#ifndef HOOKSIM_SIM_CONFORM_CONFORM_JUDGE_H_
#define HOOKSIM_SIM_CONFORM_CONFORM_JUDGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/time.h"
#include "sim/conform/conform_cases.h"
#include "sim/judge/contract_judge.h"
#include "sim/os/child_outcome.h"

namespace hooksim {

// What the harness saw of the case as a whole.
struct CaseObservation {
  std::vector<ObservedRequest> requests;  // In arrival order.
  uint64_t dropped_requests = 0;  // Journal overflow: not in `requests`.
  ChildOutcome sender;
  bool start_failed = false;  // The sender could not be started at all.
  std::string start_error;
  bool budget_ended = false;  // The sender was stopped at the budget.
  bool interrupted = false;   // hooksim was interrupted (SIGINT).
  Duration budget{};
};

enum class CaseVerdict { kPass, kFail, kCouldNotJudge };
// "pass", "fail", "could-not-judge".
std::string_view VerdictName(CaseVerdict v);

// The rows of a case's report, in report order; each checks one or two of
// the contract's rules (Rule) on what the case's receiver saw.
enum class CaseRule {
  kAttempts,       // "attempts" (C5/C6): the case's expected count.
  kNoRedirect,     // "no-redirect" (C6): the 3xx's Location never asked.
  kMethod,         // "method" (C1).
  kContentType,    // "content-type" (C2).
  kBodyShape,      // "body-shape" (C3).
  kReleaseSchema,  // "release-schema" (C4).
  kBodyUnchanged,  // "body-unchanged" (C7).
  // The profile's own cases (conform_cases.h):
  kRetryAfter,  // "retry-after" (C6): the next attempt not before the hint.
  kTiming,      // "timing" (C6): each gap follows the handed schedule.
  kSigned,      // "signed" (signing): every request validly signed.
};
std::string_view CaseRuleName(CaseRule rule);  // "attempts", ...
std::string CaseRuleContract(CaseRule rule);   // "C5/C6", "C1", ...

struct RuleVerdict {
  CaseRule check = CaseRule::kAttempts;
  std::string rule;      // CaseRuleName(check), as reports print it.
  std::string contract;  // CaseRuleContract(check).
  CaseVerdict verdict = CaseVerdict::kPass;
  std::string expected;  // "6 attempts"
  std::string seen;      // "4 attempts"
  std::string message;   // One line: why it passed or failed, in words.
};

// The index of the event whose body is (hash, size), or -1.
int MatchEvent(const ConformCase& c, uint64_t body_hash, size_t body_size);

// Judged against the case's contract (ConformCase::contract).
std::vector<RuleVerdict> JudgeCase(const ConformCase& c,
                                   const CaseObservation& observation);

// "the sender exited with 127 after 0.0 s" (+ " and sent nothing" when
// it sent nothing), with the first line of its stderr when it failed.
std::string DescribeSender(const CaseObservation& observation);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONFORM_CONFORM_JUDGE_H_
