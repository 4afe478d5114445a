#include "sim/judge/contract_judge.h"

namespace hooksim {

std::string RequestBreach(Rule rule, const ObservedRequest& r,
                          const Contract& contract) {
  switch (rule) {
    case Rule::kC1Method:
      return contract.MethodOk(r.method) ? std::string() : r.method;
    case Rule::kC2ContentType:
      if (contract.ContentTypeOk(r.content_type)) return std::string();
      return r.content_type.empty() ? std::string("no Content-Type")
                                    : "Content-Type: " + r.content_type;
    case Rule::kC3Envelope:
    case Rule::kC4ReleaseSchema:
      return !r.schema_issue.empty() && SchemaRuleOf(r.schema_issue) == rule
                 ? r.schema_issue
                 : std::string();
    default:
      return std::string();
  }
}

bool SeenSuccess(const ObservedRequest& r, const Contract& contract) {
  return r.answer.fault == Fault::kNone || r.answer.fault == Fault::kDribble
             ? contract.IsSuccessStatus(r.answer.status) && !r.abandoned
             : false;
}

bool SeenGone(const ObservedRequest& r, const Contract& contract) {
  return r.answer.fault == Fault::kNone && !r.abandoned &&
         contract.StopsOn(r.answer.status);
}

AttemptCount CountAttempts(const std::vector<const ObservedRequest*>& requests,
                           const Contract& contract) {
  AttemptCount count;
  for (const ObservedRequest* r : requests) {
    ++count.attempts;
    if (count.success_attempt == 0 && SeenSuccess(*r, contract)) {
      count.success_attempt = count.attempts;
    }
    if (count.gone_attempt == 0 && count.success_attempt == 0 &&
        SeenGone(*r, contract)) {
      count.gone_attempt = count.attempts;
    }
  }
  return count;
}

AttemptJudgement JudgeAttempts(const AttemptCount& count,
                               const Contract& contract) {
  AttemptJudgement j;
  if (count.success_attempt > 0) {
    j.after_success = count.attempts - count.success_attempt;
  }
  if (count.gone_attempt > 0) {
    j.after_gone = count.attempts - count.gone_attempt;
  }
  j.over_max = count.attempts > contract.max_attempts();
  j.unsuccessful_not_max = count.success_attempt == 0 &&
                           count.gone_attempt == 0 &&
                           count.attempts != contract.max_attempts();
  return j;
}

}  // namespace hooksim
