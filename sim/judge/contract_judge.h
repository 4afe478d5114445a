// The contract's rules, implemented once for every caller: `hooksim run`
// (the sender's attempt log and wire, each receiver's per-delivery counts:
// sim/judge/verifier.h) and `hooksim conform` (the requests a case's
// receiver saw: sim/conform/conform_judge.h) both judge through these
// functions, with the same rule identities (Rule, sim/contract/contract.h)
// and the same Contract value. The callers only word the findings.
// Thread: pure functions.
#ifndef HOOKSIM_SIM_JUDGE_CONTRACT_JUDGE_H_
#define HOOKSIM_SIM_JUDGE_CONTRACT_JUDGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mock-receivers/behavior.h"
#include "sim/base/time.h"
#include "sim/contract/contract.h"
#include "sim/contract/http_types.h"

namespace hooksim {

// One request as a receiver recorded it: the observed-request log a judge
// reads.
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
  // The receiver's signature check (kNotChecked when it verified none).
  SignatureVerdict signature = SignatureVerdict::kNotChecked;
};

// C1-C4 on one request: "" when it keeps `rule`, else what breaks it in
// words ("GET", "no Content-Type", the schema issue). Any other rule: "".
std::string RequestBreach(Rule rule, const ObservedRequest& request,
                          const Contract& contract);

// How one delivery's attempts went, counted by either side.
struct AttemptCount {
  int attempts = 0;
  int success_attempt = 0;  // The first attempt answered 2xx; 0 when none.
  // The first attempt answered 410 under a profile that stops on it
  // (Contract::StopsOn); 0 when none.
  int gone_attempt = 0;
};

// An answer the sender saw as a stop: a 410 under a profile that stops on it.
bool SeenGone(const ObservedRequest& request, const Contract& contract);

// An answer the sender saw as a success: a 2xx it waited for.
bool SeenSuccess(const ObservedRequest& request, const Contract& contract);

// The count of one delivery's requests (in arrival order).
AttemptCount CountAttempts(const std::vector<const ObservedRequest*>& requests,
                           const Contract& contract);

// C5 and C6 on one delivery's count.
struct AttemptJudgement {
  int after_success = 0;  // C5: attempts after the first 2xx.
  int after_gone = 0;     // C6: attempts after a 410 the profile stops on.
  bool over_max = false;  // C6: more than max_attempts.
  // C6: never a 2xx nor a stopping 410, yet not exactly max_attempts
  // (fewer: gave up early).
  bool unsuccessful_not_max = false;
  bool ok() const {
    return after_success == 0 && after_gone == 0 && !over_max &&
           !unsuccessful_not_max;
  }
};
AttemptJudgement JudgeAttempts(const AttemptCount& count,
                               const Contract& contract);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_JUDGE_CONTRACT_JUDGE_H_
