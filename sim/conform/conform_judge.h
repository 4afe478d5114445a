// Judging one conformance case: from what the receiver recorded and how
// the sender ran, one verdict per rule (pass, fail or could-not-judge),
// each with what was expected and what was seen in words.
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

#include "mock-receivers/behavior.h"
#include "sim/base/time.h"
#include "sim/conform/conform_cases.h"
#include "sim/os/child_process.h"

namespace hooksim {

// One request as the case's receiver recorded it.
struct ObservedRequest {
  Duration at{};  // Since the sender was started.
  std::string method;
  std::string target;
  std::string content_type;  // "" when missing.
  uint64_t body_hash = 0;    // Hash64 of the body.
  size_t body_size = 0;
  std::string delivery_id;   // X-Hooksim-Delivery, "" when none.
  std::string schema_issue;  // "C3 ..." or "C4 ...", "" when valid.
  Answer answer;
  bool abandoned = false;  // The sender stopped waiting for the answer.
};

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

enum class Verdict { kPass, kFail, kCouldNotJudge };
std::string_view VerdictName(Verdict v);  // "pass", "fail", "could-not-judge"

struct RuleVerdict {
  std::string rule;      // "attempts", "method", ...
  std::string contract;  // "C5/C6", "C1", ...
  Verdict verdict = Verdict::kPass;
  std::string expected;  // "6 attempts"
  std::string seen;      // "4 attempts"
  std::string message;   // One line: why it passed or failed, in words.
};

// The index of the event whose body is (hash, size), or -1.
int MatchEvent(const ConformCase& c, uint64_t body_hash, size_t body_size);

std::vector<RuleVerdict> JudgeCase(const ConformCase& c,
                                   const CaseObservation& observation);

// "the sender exited with 127 after 0.0 s" (+ " and sent nothing" when
// it sent nothing), with the first line of its stderr when it failed.
std::string DescribeSender(const CaseObservation& observation);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONFORM_CONFORM_JUDGE_H_
