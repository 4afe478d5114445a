// The profile's own conform cases (issue 16): 429-retry-after,
// 503-retry-after, signed and retry-timing. Which profiles get which, the
// judge's verdicts on recorded requests (no sockets), and end to end with
// senders that keep and break each rule.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/base/random.h"
#include "sim/conform/conform_cases.h"
#include "sim/conform/conform_judge.h"
#include "sim/contract/contract_file.h"
#include "sim/contract/webhook_signature.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using testing::Cli;
using testing::CliResult;

std::vector<ConformCase> Battery(const std::string& profile,
                                 bool profile_cases = true) {
  BatteryOptions options;
  options.contract = *FindBuiltinContract(profile);
  options.profile_cases = profile_cases;
  return ConformBattery(options);
}

std::vector<std::string> Names(const std::vector<ConformCase>& cases) {
  std::vector<std::string> out;
  for (const ConformCase& c : cases) out.push_back(c.name);
  return out;
}

bool Has(const std::vector<ConformCase>& cases, const std::string& name) {
  for (const ConformCase& c : cases) {
    if (c.name == name) return true;
  }
  return false;
}

ConformCase CaseOf(const std::string& profile, const std::string& name) {
  for (ConformCase& c : Battery(profile)) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no case " << name << " under " << profile;
  return {};
}

ObservedRequest Request(const ConformCase& c, Answer answer, int64_t at_ms,
                        SignatureVerdict signature =
                            SignatureVerdict::kNotChecked) {
  ObservedRequest r;
  r.at = Millis(at_ms);
  r.method = "POST";
  r.target = kConformHookPath;
  r.content_type = "application/json";
  r.body_hash = Hash64(c.events[0]);
  r.body_size = c.events[0].size();
  r.answer = answer;
  r.signature = signature;
  return r;
}

CaseObservation Exited(std::vector<ObservedRequest> requests) {
  CaseObservation o;
  o.requests = std::move(requests);
  o.sender.ended = true;
  o.sender.exit_code = 0;
  o.sender.ran = Millis(1200);
  o.budget = std::chrono::seconds(60);
  return o;
}

RuleVerdict Row(const std::vector<RuleVerdict>& verdicts,
                const std::string& rule) {
  for (const RuleVerdict& v : verdicts) {
    if (v.rule == rule) return v;
  }
  ADD_FAILURE() << "no rule " << rule;
  return {};
}

TEST(ConformProfileCasesTest, EachProfileGetsTheCasesItMakesMeaningful) {
  EXPECT_EQ(Battery("divshot", /*profile_cases=*/false).size(), 12u)
      << "no --contract: the battery as before profiles";
  const auto sw = Battery("standard-webhooks");
  EXPECT_TRUE(Has(sw, "429-retry-after"));
  EXPECT_TRUE(Has(sw, "503-retry-after"));
  EXPECT_TRUE(Has(sw, "signed"));
  EXPECT_TRUE(Has(sw, "retry-timing"));
  // svix clamps Retry-After to the schedule (not "not before the hint")
  // and signs with headers hooksim does not check.
  const auto svix = Battery("svix");
  EXPECT_FALSE(Has(svix, "429-retry-after"));
  EXPECT_FALSE(Has(svix, "signed"));
  EXPECT_TRUE(Has(svix, "retry-timing"));
  // github: no re-attempt (no timing, no Retry-After), signed.
  const auto gh = Battery("github");
  EXPECT_FALSE(Has(gh, "retry-timing"));
  EXPECT_FALSE(Has(gh, "503-retry-after"));
  EXPECT_TRUE(Has(gh, "signed"));
  const auto divshot = Battery("divshot");
  EXPECT_TRUE(Has(divshot, "retry-timing"));
  EXPECT_FALSE(Has(divshot, "signed"));
  EXPECT_EQ(divshot.size(), 13u) << ::testing::PrintToString(Names(divshot));
}

TEST(ConformProfileCasesTest, TheCompressedScheduleHasOneDelayPerReattempt) {
  const auto schedule =
      CompressedSchedule(*FindBuiltinContract("standard-webhooks"));
  EXPECT_EQ(schedule.size(), 9u);
  EXPECT_EQ(ScheduleText(schedule), "500,750,1000,1250,1500,1750,2000,2250,2500");
  EXPECT_TRUE(CompressedSchedule(*FindBuiltinContract("github")).empty());
  const ConformCase c = CaseOf("standard-webhooks", "retry-timing");
  EXPECT_EQ(c.timing_schedule, schedule);
  EXPECT_EQ(c.expected_attempts, 10);
}

TEST(ConformProfileCasesTest, RetryAfterTooEarlyFailsWithBy) {
  const ConformCase c = CaseOf("standard-webhooks", "429-retry-after");
  ASSERT_TRUE(c.retry_after_hint);
  EXPECT_EQ(c.expected_attempts, 2);
  RuleVerdict v = Row(JudgeCase(c, Exited({Request(c, Answer{429}, 0),
                                           Request(c, Answer{200}, 1005)})),
                      "retry-after");
  EXPECT_EQ(v.verdict, CaseVerdict::kPass) << v.message;
  v = Row(JudgeCase(c, Exited({Request(c, Answer{429}, 0),
                               Request(c, Answer{200}, 300)})),
          "retry-after");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_NE(v.message.find("re-attempted 300 ms after the 429 whose "
                           "Retry-After said 1000 ms: 700 ms too early"),
            std::string::npos)
      << v.message;
  v = Row(JudgeCase(c, Exited({Request(c, Answer{429}, 0)})), "retry-after");
  EXPECT_EQ(v.verdict, CaseVerdict::kCouldNotJudge) << v.message;
}

TEST(ConformProfileCasesTest, TimingNamesTheGapOffAndByHowMuch) {
  const ConformCase c = CaseOf("divshot", "retry-timing");  // +-20 %.
  // 500, 750, 1000, 1250, 1500 ms: on time.
  std::vector<ObservedRequest> on_time;
  int64_t at = 0;
  for (int i = 0; i < 6; ++i) {
    on_time.push_back(Request(c, Answer{500}, at));
    if (i < 5) at += 500 + 250 * i + 30;
  }
  RuleVerdict v = Row(JudgeCase(c, Exited(on_time)), "timing");
  EXPECT_EQ(v.verdict, CaseVerdict::kPass) << v.message;

  // Gap 3 (expected 1000 ms +-20 %: 800..1200, with the 300 ms slack
  // 500..1500) came after 1600 ms: 100 ms too late.
  std::vector<ObservedRequest> late = on_time;
  for (size_t i = 3; i < late.size(); ++i) late[i].at += Millis(570);
  v = Row(JudgeCase(c, Exited(late)), "timing");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail);
  EXPECT_NE(v.message.find("gap 3 (attempt 3 to 4) was 1600 ms, expected "
                           "1000 ms +-20 % (500 ms..1500 ms with the 300 ms "
                           "slack): 100 ms too late"),
            std::string::npos)
      << v.message;

  // A sender on its own schedule (20 ms apart): could not judge, not a
  // pass and not a fail.
  std::vector<ObservedRequest> own;
  for (int i = 0; i < 6; ++i) own.push_back(Request(c, Answer{500}, i * 20));
  v = Row(JudgeCase(c, Exited(own)), "timing");
  EXPECT_EQ(v.verdict, CaseVerdict::kCouldNotJudge);
  EXPECT_NE(v.message.find("does not seem to take the schedule"),
            std::string::npos)
      << v.message;
  EXPECT_EQ(Row(JudgeCase(c, Exited({Request(c, Answer{500}, 0)})), "timing")
                .verdict,
            CaseVerdict::kCouldNotJudge);
}

// --timing-slack-ms: the same late gap passes with a wider slack and the
// message names the slack in force; a slack of 0 keeps only the jitter.
TEST(ConformProfileCasesTest, TimingSlackIsTheBatterysOption) {
  BatteryOptions options;
  options.contract = *FindBuiltinContract("divshot");
  options.profile_cases = true;
  options.timing_slack = Millis(700);
  ConformCase wide;
  for (const ConformCase& c : ConformBattery(options)) {
    if (c.name == "retry-timing") wide = c;
  }
  ASSERT_EQ(wide.name, "retry-timing");
  EXPECT_EQ(wide.timing_slack, Millis(700));
  std::vector<ObservedRequest> late;
  int64_t at = 0;
  for (int i = 0; i < 6; ++i) {
    late.push_back(Request(wide, Answer{500}, at));
    if (i < 5) at += 500 + 250 * i + 30 + (i == 2 ? 570 : 0);
  }
  // Gap 3: 1600 ms for 1000 ms +-20 %: 400 ms late by the bounds, inside
  // the 700 ms slack.
  RuleVerdict v = Row(JudgeCase(wide, Exited(late)), "timing");
  EXPECT_EQ(v.verdict, CaseVerdict::kPass) << v.message;
  EXPECT_NE(v.message.find("+-700 ms"), std::string::npos) << v.message;

  ConformCase none = wide;
  none.timing_slack = Duration::zero();
  v = Row(JudgeCase(none, Exited(late)), "timing");
  EXPECT_EQ(v.verdict, CaseVerdict::kFail) << v.message;
  EXPECT_NE(v.message.find("400 ms too late"), std::string::npos) << v.message;
}

TEST(ConformProfileCasesTest, SignedSaysWhichRequestAndWhy) {
  const ConformCase c = CaseOf("standard-webhooks", "signed");
  ASSERT_TRUE(c.check_signature);
  RuleVerdict v = Row(
      JudgeCase(c, Exited({Request(c, Answer{200}, 0, SignatureVerdict::kValid)})),
      "signed");
  EXPECT_EQ(v.verdict, CaseVerdict::kPass) << v.message;
  EXPECT_EQ(v.contract, "signing");
  const struct {
    SignatureVerdict verdict;
    const char* word;
  } kBad[] = {{SignatureVerdict::kMissing, "signature missing"},
              {SignatureVerdict::kBad, "signature bad"},
              {SignatureVerdict::kStale, "signature stale"}};
  for (const auto& bad : kBad) {
    v = Row(JudgeCase(c, Exited({Request(c, Answer{401}, 0, bad.verdict),
                                 Request(c, Answer{200}, 100,
                                         SignatureVerdict::kValid)})),
            "signed");
    EXPECT_EQ(v.verdict, CaseVerdict::kFail);
    EXPECT_NE(v.message.find(std::string("1 of 2 requests not validly signed; "
                                         "request 1: ") +
                             bad.word),
              std::string::npos)
        << v.message;
  }
}

// The receiver side of GitHub's scheme: X-Hub-Signature-256 with the secret
// text as key; missing or not matching.
TEST(ConformProfileCasesTest, GithubSignatureCheck) {
  const std::string body = R"({"event":"release","data":{}})";
  const std::string good = SignGithubSha256(kSenderSecret, body);
  const std::string bad = SignGithubSha256("another secret", body);
  const Header signed_headers[] = {{kGithubSignatureHeader, good}};
  const Header bad_headers[] = {{kGithubSignatureHeader, bad}};
  EXPECT_EQ(CheckGithubSignature(HttpRequest{"POST", "/hook", signed_headers,
                                             body},
                                 kSenderSecret),
            SignatureVerdict::kValid);
  EXPECT_EQ(CheckGithubSignature(HttpRequest{"POST", "/hook", bad_headers,
                                             body},
                                 kSenderSecret),
            SignatureVerdict::kBad);
  EXPECT_EQ(CheckGithubSignature(HttpRequest{"POST", "/hook", {}, body},
                                 kSenderSecret),
            SignatureVerdict::kMissing);
  const ConformCase c = CaseOf("github", "signed");
  EXPECT_EQ(c.behavior.verify_scheme, SignatureScheme::kGithub);
}

// End to end: the engine without a secret fails `signed` (missing); the
// engine without Retry-After handling (divshot) fails 429-retry-after; the
// engine on its own schedule gets could-not-judge for the timing.
TEST(ConformProfileCasesTest, SendersBreakingEachRuleAreCaught) {
  const std::string engine = std::string(HOOKSIM_BINARY) +
                             " deliver --url \"$HOOKSIM_URL\" --event-file "
                             "\"$HOOKSIM_EVENT_FILE\" --timeout-ms 2000 "
                             "--jitter 0 --retry-schedule-ms 20";
  const CliResult r = Cli({"conform", "--sender-cmd", engine, "--contract",
                           "standard-webhooks", "--cases",
                           "signed,429-retry-after,retry-timing",
                           "--quiet-ms", "300", "--parallel", "3",
                           // No slack: 20 ms gaps stretched by a loaded
                           // machine never reach the schedule's bounds.
                           "--timing-slack-ms", "0"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const auto line_of = [&r](const std::string& c, const std::string& rule) {
    const size_t at = r.out.find("\n" + c + " ");
    for (size_t p = at; p != std::string::npos;
         p = r.out.find("\n" + c + " ", p + 1)) {
      const size_t end = r.out.find('\n', p + 1);
      const std::string line = r.out.substr(p + 1, end - p - 1);
      if (line.find(" " + rule + " ") != std::string::npos) return line;
    }
    return std::string();
  };
  std::string line = line_of("signed", "signed (signing)");
  EXPECT_NE(line.find("fail"), std::string::npos) << r.out;
  EXPECT_NE(line.find("signature missing"), std::string::npos) << line;
  line = line_of("429-retry-after", "retry-after (C6)");
  EXPECT_NE(line.find("fail"), std::string::npos) << r.out;
  EXPECT_NE(line.find("too early"), std::string::npos) << line;
  line = line_of("retry-timing", "timing (C6)");
  EXPECT_NE(line.find("could-not-judge"), std::string::npos) << r.out;
}

// The example sender written to the spec passes the profile's own cases.
TEST(ConformProfileCasesTest, TheStandardWebhooksExampleSenderPassesThem) {
  const std::string sender = std::string("/usr/bin/python3 ") +
                             HOOKSIM_SOURCE_DIR +
                             "/examples/senders/standard_webhooks_sender.py";
  const CliResult r = Cli({"conform", "--sender-cmd", sender, "--contract",
                           "standard-webhooks", "--cases",
                           "signed,503-retry-after,gone-410",
                           "--quiet-ms", "300", "--parallel", "3"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("0 failed, 0 could not be judged"), std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace hooksim
