// The contract as a value (sim/contract/contract.h) and the one
// implementation of its rules (sim/judge/contract_judge.h).
#include "sim/judge/contract_judge.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/contract/contract.h"
#include "sim/engine/retry_policy.h"

namespace hooksim {
namespace {

TEST(ContractTest, DivshotIsTheSeedsContractAndTheRetryPolicysDefault) {
  const Contract& c = DivshotContract();
  EXPECT_EQ(c.profile, "divshot");
  EXPECT_EQ(c.max_attempts(), 6);
  EXPECT_TRUE(c.redirects_are_failures);
  EXPECT_FALSE(c.signatures_required());
  EXPECT_TRUE(c.IsSuccessStatus(200));
  EXPECT_TRUE(c.IsSuccessStatus(299));
  EXPECT_FALSE(c.IsSuccessStatus(302));
  EXPECT_FALSE(c.IsSuccessStatus(410));
  const RetryPolicy policy;
  EXPECT_EQ(policy.max_attempts(), c.max_attempts());
  EXPECT_EQ(policy.schedule, c.retry_schedule);
  EXPECT_EQ(policy.jitter, c.jitter);
  EXPECT_EQ(policy.timeout, c.timeout);
}

TEST(ContractTest, RulesKeepTheirReportNames) {
  EXPECT_EQ(RuleId(Rule::kC1Method), "C1");
  EXPECT_EQ(RuleId(Rule::kC8PausedAndNoneLost), "C8");
  EXPECT_EQ(RuleId(Rule::kExpectations), "expect");
  EXPECT_EQ(RuleTitle(Rule::kC5NothingAfterSuccess),
            "no further attempt after a 2xx");
  EXPECT_EQ(SchemaRuleOf("C3 /: not JSON"), Rule::kC3Envelope);
  EXPECT_EQ(SchemaRuleOf("C4 /data/release: missing"), Rule::kC4ReleaseSchema);
}

ObservedRequest Request(std::string method, std::string content_type,
                        int status) {
  ObservedRequest r;
  r.method = std::move(method);
  r.content_type = std::move(content_type);
  r.answer = Answer{status, Fault::kNone};
  return r;
}

TEST(ContractJudgeTest, RequestBreachNamesWhatBreaksEachRequestRule) {
  const Contract& c = DivshotContract();
  const ObservedRequest good =
      Request("POST", "application/json; charset=utf-8", 200);
  for (Rule rule : {Rule::kC1Method, Rule::kC2ContentType, Rule::kC3Envelope,
                    Rule::kC4ReleaseSchema}) {
    EXPECT_EQ(RequestBreach(rule, good, c), "") << RuleId(rule);
  }
  EXPECT_EQ(RequestBreach(Rule::kC1Method, Request("PUT", "", 200), c), "PUT");
  EXPECT_EQ(RequestBreach(Rule::kC2ContentType, Request("POST", "", 200), c),
            "no Content-Type");
  EXPECT_EQ(RequestBreach(Rule::kC2ContentType,
                          Request("POST", "text/plain", 200), c),
            "Content-Type: text/plain");
  ObservedRequest bad_schema = good;
  bad_schema.schema_issue = "C4 /data/release/version: missing";
  EXPECT_EQ(RequestBreach(Rule::kC4ReleaseSchema, bad_schema, c),
            bad_schema.schema_issue);
  EXPECT_EQ(RequestBreach(Rule::kC3Envelope, bad_schema, c), "");
}

TEST(ContractJudgeTest, CountsAttemptsUpToTheFirstSuccessTheSenderSaw) {
  const Contract& c = DivshotContract();
  ObservedRequest abandoned_200 = Request("POST", "application/json", 200);
  abandoned_200.abandoned = true;  // The sender's timeout fired first.
  const ObservedRequest r503 = Request("POST", "application/json", 503);
  const ObservedRequest r200 = Request("POST", "application/json", 200);
  const AttemptCount count =
      CountAttempts({&r503, &abandoned_200, &r200, &r200}, c);
  EXPECT_EQ(count.attempts, 4);
  EXPECT_EQ(count.success_attempt, 3);
}

TEST(ContractJudgeTest, JudgesC5AndC6OnOneDelivery) {
  const Contract& c = DivshotContract();
  EXPECT_TRUE(JudgeAttempts({1, 1}, c).ok());  // 2xx at once.
  EXPECT_TRUE(JudgeAttempts({3, 3}, c).ok());  // Failures, then a 2xx.
  EXPECT_TRUE(JudgeAttempts({6, 0}, c).ok());  // Never a 2xx: exactly 6.
  EXPECT_EQ(JudgeAttempts({3, 1}, c).after_success, 2);  // C5.
  // C6: gave up early.
  EXPECT_TRUE(JudgeAttempts({4, 0}, c).unsuccessful_not_max);
  const AttemptJudgement too_many = JudgeAttempts({7, 0}, c);
  EXPECT_TRUE(too_many.over_max);
  EXPECT_TRUE(too_many.unsuccessful_not_max);
  Contract three = c;
  three.max_reattempts = 2;  // A contract is a value: 3 attempts at most.
  EXPECT_TRUE(JudgeAttempts({3, 0}, three).ok());
  EXPECT_TRUE(JudgeAttempts({6, 0}, three).over_max);
}

}  // namespace
}  // namespace hooksim
