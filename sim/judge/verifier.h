// Judges a finished run: the contract's rules C1-C8 (run.contract, the
// checks of sim/judge/contract_judge.h), checked from the
// sender's side (the engine's attempt log and what it put on the wire) and,
// independently, from the receivers' side (their journals), plus the
// scenario's expectations (stated, or derived by the attempt oracle when a
// deterministic behaviour has none stated).
//
// The result is a list of rule results in a fixed order; each failure says
// what was expected and what happened. Examples are capped per rule so a
// run with a million broken deliveries still prints a short report.
#ifndef HOOKSIM_SIM_JUDGE_VERIFIER_H_
#define HOOKSIM_SIM_JUDGE_VERIFIER_H_

#include <string>
#include <string_view>
#include <vector>

#include "sim/contract/contract.h"
#include "sim/scenario/run_record.h"

namespace hooksim {

struct Finding {
  std::string side;     // "sender", "receiver" or "expectation".
  std::string subject;  // "delivery dlv_... (hook h1)", "receiver flaky".
  std::string expected;
  std::string actual;
};

struct RuleResult {
  Rule rule = Rule::kC1Method;
  std::string_view id() const { return RuleId(rule); }        // "C1", ...
  std::string_view title() const { return RuleTitle(rule); }  // In words.
  // The contract profile that judged the rule ("divshot", "svix", ...);
  // "" for the scenario's expectations.
  std::string contract;
  uint64_t checked = 0;            // Items checked.
  uint64_t failed = 0;             // Items that broke the rule.
  std::vector<Finding> examples;   // At most kMaxExamplesPerSide per side.
  std::vector<std::string> notes;  // E.g. "attempts derived: 3 per delivery".

  static constexpr size_t kMaxExamplesPerSide = 3;
  bool passed() const { return failed == 0; }
};

struct Verdict {
  std::vector<RuleResult> rules;
  bool passed() const;
  uint64_t deliveries = 0;
  uint64_t delivered = 0;
  uint64_t gave_up = 0;
  uint64_t held = 0;  // Still held at the end: their hooks are paused.
  uint64_t attempts = 0;
};

Verdict Verify(const RunRecord& run);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_JUDGE_VERIFIER_H_
