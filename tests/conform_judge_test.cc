// The conformance judge, without sockets: recorded requests in, verdicts
// out.
#include "sim/conform/conform_judge.h"

#include <gtest/gtest.h>

#include "mock-receivers/http/http_receiver_server.h"
#include "sim/base/random.h"

namespace hooksim {
namespace {

ConformCase Case(const std::string& name) {
  for (ConformCase& c : ConformBattery(BatteryOptions{})) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no case " << name;
  return {};
}

ObservedRequest Request(const std::string& body, Answer answer,
                        int64_t at_ms = 0) {
  ObservedRequest r;
  r.at = Millis(at_ms);
  r.method = "POST";
  r.target = kConformHookPath;
  r.content_type = "application/json";
  r.body_hash = Hash64(body);
  r.body_size = body.size();
  r.answer = answer;
  return r;
}

CaseObservation Exited(int code, std::vector<ObservedRequest> requests) {
  CaseObservation o;
  o.requests = std::move(requests);
  o.sender.ended = true;
  o.sender.exit_code = code;
  o.sender.ran = Millis(1200);
  o.budget = std::chrono::seconds(60);
  return o;
}

RuleVerdict Row(const std::vector<RuleVerdict>& verdicts,
                 const std::string& rule) {
  for (const RuleVerdict& v : verdicts) {
    if (v.rule == rule) return v;
  }
  static RuleVerdict none;
  ADD_FAILURE() << "no rule " << rule;
  return none;
}

std::vector<ObservedRequest> Repeat(const std::string& body, Answer a, int n) {
  std::vector<ObservedRequest> out;
  for (int i = 0; i < n; ++i) out.push_back(Request(body, a, i * 100));
  return out;
}

TEST(ConformJudgeTest, SixAttemptsOnAlways500PassEveryRule) {
  const ConformCase c = Case("always-500");
  const auto verdicts =
      JudgeCase(c, Exited(1, Repeat(c.events[0], Answer{500}, 6)));
  ASSERT_EQ(verdicts.size(), 6u);
  for (const RuleVerdict& v : verdicts) {
    EXPECT_EQ(v.verdict, CaseVerdict::kPass) << v.rule << ": " << v.message;
  }
}

TEST(ConformJudgeTest, StoppingAfter404SaysSoWithTheCounts) {
  const ConformCase c = Case("not-found-404");
  const RuleVerdict& v = Row(
      JudgeCase(c, Exited(1, Repeat(c.events[0], Answer{404}, 1))), "attempts");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_EQ(v.expected, "6 attempts");
  EXPECT_EQ(v.seen, "1 attempt");
  EXPECT_NE(v.message.find("expected 6 attempts, saw 1: the sender stopped "
                           "after 404"),
            std::string::npos)
      << v.message;
  EXPECT_NE(v.message.find("exited with 1"), std::string::npos) << v.message;
}

TEST(ConformJudgeTest, TooFewWhenTheBudgetEndedSaysTheBudget) {
  const ConformCase c = Case("always-500");
  CaseObservation o = Exited(0, Repeat(c.events[0], Answer{500}, 3));
  o.budget_ended = true;
  o.sender.ended = true;
  o.sender.stopped = true;
  o.sender.signal = 15;
  const RuleVerdict& v = Row(JudgeCase(c, o), "attempts");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_NE(v.message.find("saw 3"), std::string::npos);
  EXPECT_NE(v.message.find("within the 60.0 s budget"), std::string::npos)
      << v.message;
}

TEST(ConformJudgeTest, RetryAfterA2xxIsAC5Failure) {
  const ConformCase c = Case("ok-200");
  const RuleVerdict& v = Row(
      JudgeCase(c, Exited(0, Repeat(c.events[0], Answer{200}, 2))), "attempts");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_NE(v.message.find("retried after the 200 of attempt 1 (C5)"),
            std::string::npos)
      << v.message;
}

TEST(ConformJudgeTest, SevenAttemptsAreTooMany) {
  const ConformCase c = Case("always-500");
  const RuleVerdict& v = Row(
      JudgeCase(c, Exited(1, Repeat(c.events[0], Answer{500}, 7))), "attempts");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_NE(v.message.find("kept retrying past 6 attempts"), std::string::npos)
      << v.message;
}

TEST(ConformJudgeTest, ASenderWithoutTimeoutTakesTheHeldAnswer) {
  const ConformCase c = Case("reply-past-timeout");
  const RuleVerdict& v = Row(
      JudgeCase(c, Exited(0, Repeat(c.events[0], Answer{200}, 1))), "attempts");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_NE(v.message.find("its timeout is missing or longer"),
            std::string::npos)
      << v.message;
  // Six abandoned answers: every attempt timed out and was retried.
  auto six = Repeat(c.events[0], Answer{200}, 6);
  for (auto& r : six) r.abandoned = true;
  EXPECT_EQ(Row(JudgeCase(c, Exited(1, six)), "attempts").verdict,
            CaseVerdict::kPass);
}

TEST(ConformJudgeTest, TimingOutOnTheSlow2xxIsExplained) {
  const ConformCase c = Case("slow-2xx");
  auto requests = Repeat(c.events[0], Answer{200}, 2);
  requests[0].abandoned = true;
  const RuleVerdict& v = Row(JudgeCase(c, Exited(0, requests)), "attempts");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_NE(v.message.find("its timeout is shorter"), std::string::npos)
      << v.message;
}

TEST(ConformJudgeTest, NothingSentNamesTheExitCodeAndStderr) {
  const ConformCase c = Case("ok-200");
  CaseObservation o = Exited(127, {});
  o.sender.stderr_text = "sh: 1: no-such-sender: not found\n";
  const auto verdicts = JudgeCase(c, o);
  const RuleVerdict& attempts = Row(verdicts, "attempts");
  EXPECT_EQ(attempts.verdict, CaseVerdict::kFail);
  EXPECT_NE(attempts.message.find("saw 0: the sender exited with 127 after "
                                  "1.2 s and sent nothing (stderr: sh: 1: "
                                  "no-such-sender: not found)"),
            std::string::npos)
      << attempts.message;
  for (const char* rule : {"method", "content-type", "body-shape",
                           "release-schema", "body-unchanged"}) {
    const RuleVerdict& v = Row(verdicts, rule);
    EXPECT_EQ(v.verdict, CaseVerdict::kCouldNotJudge) << rule;
    EXPECT_NE(v.message.find("sent nothing"), std::string::npos) << rule;
  }
}

TEST(ConformJudgeTest, ShapeRulesNameWhatWasWrong) {
  const ConformCase c = Case("ok-200");
  ObservedRequest r = Request(c.events[0], Answer{200});
  r.method = "PUT";
  r.content_type = "text/plain";
  const auto verdicts = JudgeCase(c, Exited(0, {r}));
  EXPECT_EQ(Row(verdicts, "method").verdict, CaseVerdict::kFail);
  EXPECT_EQ(Row(verdicts, "method").seen, "PUT on 1 of 1 requests");
  EXPECT_EQ(Row(verdicts, "content-type").seen,
            "Content-Type: text/plain on 1 of 1 requests");
  EXPECT_EQ(Row(verdicts, "attempts").verdict, CaseVerdict::kPass);
  // A charset parameter is still application/json.
  r.method = "POST";
  r.content_type = "application/json; charset=utf-8";
  EXPECT_EQ(Row(JudgeCase(c, Exited(0, {r})), "content-type").verdict,
            CaseVerdict::kPass);
}

TEST(ConformJudgeTest, RequestsToAnotherPathAreNotAttempts) {
  const ConformCase c = Case("ok-200");
  ObservedRequest r = Request(c.events[0], Answer{200});
  r.target = "/other?x=1";
  const RuleVerdict v = Row(JudgeCase(c, Exited(0, {r})), "attempts");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_NE(v.message.find("a request went to /other"), std::string::npos)
      << v.message;
  r.target = "/hook?x=1";  // A query string is still the hook path.
  EXPECT_EQ(Row(JudgeCase(c, Exited(0, {r})), "attempts").verdict,
            CaseVerdict::kPass);
}

TEST(ConformJudgeTest, SchemaIssuesSplitIntoC3AndC4) {
  const ConformCase c = Case("ok-200");
  ObservedRequest r = Request(c.events[0], Answer{200});
  r.schema_issue = "C4 /data/release/version: must be an integer";
  auto verdicts = JudgeCase(c, Exited(0, {r}));
  EXPECT_EQ(Row(verdicts, "body-shape").verdict, CaseVerdict::kPass);
  EXPECT_EQ(Row(verdicts, "release-schema").verdict, CaseVerdict::kFail);
  r.schema_issue = "C3 : not JSON";
  verdicts = JudgeCase(c, Exited(0, {r}));
  EXPECT_EQ(Row(verdicts, "body-shape").verdict, CaseVerdict::kFail);
  EXPECT_EQ(Row(verdicts, "release-schema").verdict, CaseVerdict::kCouldNotJudge);
}

TEST(ConformJudgeTest, AChangedBodyFailsC7) {
  const ConformCase c = Case("503-then-200");
  std::string reformatted = c.events[0] + " ";
  const auto verdicts =
      JudgeCase(c, Exited(0, {Request(c.events[0], Answer{503}, 0),
                              Request(reformatted, Answer{200}, 100)}));
  const RuleVerdict& v = Row(verdicts, "body-unchanged");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_NE(v.message.find("changed the body"), std::string::npos);
  // With one event the attempts are still counted.
  EXPECT_EQ(Row(verdicts, "attempts").verdict, CaseVerdict::kPass);
}

TEST(ConformJudgeTest, SeveralEventsAreCountedPerEvent) {
  const ConformCase c = Case("several-events");
  ASSERT_EQ(c.events.size(), 3u);
  std::vector<ObservedRequest> requests;
  for (int i = 0; i < 3; ++i) {
    requests.push_back(Request(c.events[i], Answer{503}));
    if (i != 1) requests.push_back(Request(c.events[i], Answer{200}));
  }
  const RuleVerdict& v = Row(JudgeCase(c, Exited(0, requests)), "attempts");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_EQ(v.seen, "2, 1, 2 attempts");
  EXPECT_NE(v.message.find("event 2 of 3: expected 2 attempts, saw 1: the "
                           "sender stopped after 503"),
            std::string::npos)
      << v.message;
  requests.push_back(Request(c.events[1], Answer{200}));
  EXPECT_EQ(Row(JudgeCase(c, Exited(0, requests)), "attempts").verdict,
            CaseVerdict::kPass);
}

TEST(ConformJudgeTest, DeliveryIdsMustStayWithTheirEvent) {
  const ConformCase c = Case("several-events");
  std::vector<ObservedRequest> requests;
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 2; ++k) {
      ObservedRequest r = Request(c.events[i], Answer{k ? 200 : 503});
      r.delivery_id = "d" + std::to_string(i);
      requests.push_back(r);
    }
  }
  EXPECT_EQ(Row(JudgeCase(c, Exited(0, requests)), "body-unchanged").verdict,
            CaseVerdict::kPass);
  requests[1].delivery_id = "other";
  const RuleVerdict& v =
      Row(JudgeCase(c, Exited(0, requests)), "body-unchanged");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_NE(v.seen.find("event 1 sent under 2 delivery ids"), std::string::npos)
      << v.seen;
}

TEST(ConformJudgeTest, FollowingTheRedirectFails) {
  const ConformCase c = Case("redirect-302");
  auto requests = Repeat(c.events[0], Answer{302}, 6);
  EXPECT_EQ(Row(JudgeCase(c, Exited(1, requests)), "no-redirect").verdict,
            CaseVerdict::kPass);
  ObservedRequest follow = Request("", Answer{302});
  follow.method = "GET";
  follow.target = kRedirectLocation;
  follow.content_type = "";
  requests.push_back(follow);
  const auto verdicts = JudgeCase(c, Exited(1, requests));
  const RuleVerdict& v = Row(verdicts, "no-redirect");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_EQ(v.seen, "1 GET requests to the Location");
  // The follow-up is not an attempt, nor judged as one by C1/C2.
  EXPECT_EQ(Row(verdicts, "attempts").verdict, CaseVerdict::kPass);
  EXPECT_EQ(Row(verdicts, "method").verdict, CaseVerdict::kPass);
}

TEST(ConformJudgeTest, InterruptedCasesAreNotJudged) {
  const ConformCase c = Case("ok-200");
  CaseObservation o = Exited(0, Repeat(c.events[0], Answer{200}, 1));
  o.interrupted = true;
  for (const RuleVerdict& v : JudgeCase(c, o)) {
    EXPECT_EQ(v.verdict, CaseVerdict::kCouldNotJudge) << v.rule;
  }
}

TEST(ConformJudgeTest, BatteryHasUniqueNamesAndTheIssuesCases) {
  const auto battery = ConformBattery(BatteryOptions{});
  std::set<std::string> names;
  for (const ConformCase& c : battery) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    EXPECT_FALSE(c.events.empty());
  }
  for (const char* name :
       {"ok-200", "503-then-200", "always-500", "redirect-302", "not-found-404",
        "gone-410", "reply-past-timeout", "connection-reset",
        "garbage-response", "empty-reply", "slow-2xx", "several-events"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
  EXPECT_FALSE(SelectCases(battery, "ok-200,nope").ok());
  EXPECT_FALSE(SelectCases(battery, "ok-200,ok-200").ok());
  EXPECT_FALSE(SelectCases(battery, "").ok());
  Result<std::vector<ConformCase>> two =
      SelectCases(battery, "slow-2xx,ok-200");
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].name, "ok-200");  // Battery order.
}

}  // namespace
}  // namespace hooksim
