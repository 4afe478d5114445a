// The engine sends by each contract profile and the judge judges by it
// (issue 16): attempts per delivery, delays and stops against receivers
// answering 500, 302, 410 and 429 with Retry-After, in the virtual world;
// and the judge catching a sender that breaks a profile's rule.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mock-receivers/admin_api.h"
#include "mock-receivers/behavior_parser.h"
#include "sim/contract/contract_file.h"
#include "sim/contract/webhook_signature.h"
#include "sim/engine/delivery_engine.h"
#include "sim/http/http_answer_parser.h"
#include "sim/judge/verifier.h"
#include "sim/virtual/virtual_clock.h"
#include "sim/world/runner.h"

namespace hooksim {
namespace {

using nlohmann::json;

// A scenario of `events` events, one hour apart, to one receiver.
Scenario Make(const std::string& contract, const json& behavior, int events = 2,
              const json& retry = nullptr) {
  json doc = {{"name", "profile-" + contract},
              {"seed", 11},
              {"contract", contract},
              {"events", {{"count", events}, {"interval_ms", 3600000}}},
              {"receivers", {{"r", {{"behavior", behavior}}}}}};
  if (!retry.is_null()) doc["retry"] = retry;
  Result<Scenario> s = ParseScenario(doc);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().ToString());
  return s.ok() ? std::move(s).value() : Scenario{};
}

std::unique_ptr<RunResult> RunIt(const Scenario& s, RunOptions options = {}) {
  Result<std::unique_ptr<RunResult>> r = RunScenario(s, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? std::move(r).value() : nullptr;
}

std::string Failures(const Verdict& v) {
  std::string out;
  for (const RuleResult& r : v.rules) {
    for (const Finding& f : r.examples) {
      out += std::string(r.id()) + " " + f.side + " " + f.subject +
             ": expected " + f.expected + "; got " + f.actual + "\n";
    }
  }
  return out;
}

const RuleResult& RuleOf(const Verdict& v, const std::string& id) {
  for (const RuleResult& r : v.rules) {
    if (r.id() == id) return r;
  }
  static RuleResult none;
  ADD_FAILURE() << "no rule " << id;
  return none;
}

// Gaps (ms) between the end of each attempt and the start of the next, for
// delivery `index`.
std::vector<int64_t> Gaps(const DeliveryEngine& engine, uint32_t index) {
  std::vector<int64_t> gaps;
  std::optional<TimePoint> ended;
  for (const AttemptRecord& a : engine.attempts()) {
    if (a.delivery != index) continue;
    if (ended) gaps.push_back(ToMillis(a.started - *ended));
    ended = a.ended;
  }
  return gaps;
}

class ProfileTest : public ::testing::TestWithParam<std::string> {
 protected:
  const Contract& contract() const { return *FindBuiltinContract(GetParam()); }
};

// 500 and 302 are failures under every profile: max attempts, each delay
// within the schedule's jitter bounds; the judge (by the same profile)
// passes the run.
TEST_P(ProfileTest, FailuresAreReattemptedByTheSchedule) {
  for (int status : {500, 302}) {
    const Scenario s = Make(GetParam(), {{"status", status}});
    auto run = RunIt(s);
    ASSERT_NE(run, nullptr);
    const Verdict v = Verify(run->Record());
    EXPECT_TRUE(v.passed()) << status << "\n" << Failures(v);
    const DeliveryEngine& engine = *run->engine;
    ASSERT_EQ(engine.deliveries().size(), 2u);
    for (uint32_t i = 0; i < 2; ++i) {
      const Delivery& d = engine.deliveries()[i];
      EXPECT_EQ(d.attempts, contract().max_attempts()) << status;
      EXPECT_EQ(d.state, DeliveryState::kGaveUp);
      const std::vector<int64_t> gaps = Gaps(engine, i);
      ASSERT_EQ(gaps.size(), static_cast<size_t>(contract().max_reattempts));
      for (size_t k = 0; k < gaps.size(); ++k) {
        const double base =
            static_cast<double>(ToMillis(contract().retry_schedule[k]));
        EXPECT_GE(gaps[k], base * (1 - contract().jitter) - 1) << k;
        EXPECT_LE(gaps[k], base * (1 + contract().jitter) + 1) << k;
      }
    }
    for (const RuleResult& r : v.rules) {
      if (r.rule != Rule::kExpectations) EXPECT_EQ(r.contract, GetParam());
    }
  }
}

// 410: a profile that disables the endpoint stops the delivery and sends
// nothing more to that endpoint; the others re-attempt it like any failure.
TEST_P(ProfileTest, GoneStopsOnlyWhereTheProfileSaysSo) {
  const Scenario s = Make(GetParam(), {{"status", 410}}, 3);
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  EXPECT_TRUE(v.passed()) << Failures(v);
  const DeliveryEngine& engine = *run->engine;
  ASSERT_EQ(engine.deliveries().size(), 3u);
  if (contract().gone == GoneHandling::kDisableEndpoint) {
    EXPECT_EQ(engine.total_attempts(), 1u);
    EXPECT_TRUE(engine.hook_disabled(0));
    for (const Delivery& d : engine.deliveries()) {
      EXPECT_EQ(d.state, DeliveryState::kGaveUp);
      EXPECT_TRUE(d.stopped_by_gone);
    }
    EXPECT_EQ(engine.deliveries()[0].attempts, 1);
    EXPECT_EQ(engine.deliveries()[1].attempts, 0);
  } else {
    EXPECT_FALSE(engine.hook_disabled(0));
    for (const Delivery& d : engine.deliveries()) {
      EXPECT_EQ(d.attempts, contract().max_attempts());
    }
  }
}

// 429 with Retry-After: 7200 s: honoured, clamped or ignored as the
// profile says; a Retry-After that is no number leaves the schedule.
TEST_P(ProfileTest, RetryAfterOn429IsTreatedAsTheProfileSays) {
  if (contract().max_reattempts == 0) GTEST_SKIP() << "no re-attempt";
  const Scenario s = Make(
      GetParam(), {{"status", 429}, {"headers", {{"Retry-After", "7200"}}}}, 1);
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  EXPECT_TRUE(v.passed()) << Failures(v);
  const std::vector<int64_t> gaps = Gaps(*run->engine, 0);
  ASSERT_FALSE(gaps.empty());
  const double base =
      static_cast<double>(ToMillis(contract().retry_schedule[0]));
  const double lo = base * (1 - contract().jitter);
  const double hi = base * (1 + contract().jitter);
  switch (contract().retry_after) {
    case RetryAfterMode::kIgnore:
      EXPECT_GE(gaps[0], lo - 1);
      EXPECT_LE(gaps[0], hi + 1);
      break;
    case RetryAfterMode::kHonour:
      EXPECT_EQ(gaps[0], 7200 * 1000);
      break;
    case RetryAfterMode::kClamp: {
      // Clamped to at most max x the scheduled delay, then the floor.
      const double clamped = hi * contract().retry_after_clamp_max;
      const double floor =
          static_cast<double>(ToMillis(contract().throttle_floor));
      EXPECT_LE(gaps[0], std::max(clamped, floor) + 1);
      EXPECT_GE(gaps[0],
                std::max(lo * contract().retry_after_clamp_min, floor) - 1);
      EXPECT_LT(gaps[0], 7200 * 1000);
      break;
    }
  }

  const Scenario bad = Make(
      GetParam(), {{"status", 429}, {"headers", {{"Retry-After", "soon"}}}}, 1);
  auto run2 = RunIt(bad);
  ASSERT_NE(run2, nullptr);
  const std::vector<int64_t> gaps2 = Gaps(*run2->engine, 0);
  ASSERT_FALSE(gaps2.empty());
  const double floor = static_cast<double>(ToMillis(contract().throttle_floor));
  EXPECT_GE(gaps2[0], std::max(lo, floor) - 1);
  EXPECT_LE(gaps2[0], std::max(hi, floor) + 1);
}

INSTANTIATE_TEST_SUITE_P(Builtins, ProfileTest,
                         ::testing::Values("divshot", "standard-webhooks",
                                           "svix", "github"));

// A sender that ignores 410 (sees it as a 500) under standard-webhooks:
// the receivers' side catches the attempts after the 410, naming the rule
// and the contract.
class GoneIgnoringSender : public Transport {
 public:
  explicit GoneIgnoringSender(Transport& inner) : inner_(inner) {}
  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override {
    inner_.Send(request, timeout, [done = std::move(done)](AttemptResult r) {
      if (r.error == AttemptError::kNone && r.status == 410) r.status = 500;
      done(r);
    });
  }

 private:
  Transport& inner_;
};

TEST(ProfileJudgeTest, CatchesASenderThatIgnores410) {
  const Scenario s = Make("standard-webhooks", {{"status", 410}}, 1);
  RunOptions options;
  options.wrap_sender = [](Transport& inner) {
    return std::make_unique<GoneIgnoringSender>(inner);
  };
  auto run = RunIt(s, options);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  const RuleResult& c6 = RuleOf(v, "C6");
  EXPECT_FALSE(c6.passed());
  EXPECT_EQ(c6.contract, "standard-webhooks");
  bool named = false;
  for (const Finding& f : c6.examples) {
    named |= f.side == "receiver" &&
             f.expected.find("410 Gone") != std::string::npos &&
             f.expected.find("standard-webhooks") != std::string::npos;
  }
  EXPECT_TRUE(named) << Failures(v);
  // The same sender is right under divshot, where 410 is re-attempted.
  const Scenario d = Make("divshot", {{"status", 410}}, 1);
  auto run2 = RunIt(d, options);
  ASSERT_NE(run2, nullptr);
  EXPECT_TRUE(Verify(run2->Record()).passed());
}

// A sender giving up early (6 attempts) under svix, which promises 8.
TEST(ProfileJudgeTest, CatchesASenderGivingUpBeforeTheProfilesAttempts) {
  const Scenario s =
      Make("svix", {{"status", 500}}, 1, {{"max_reattempts", 5}});
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  const RuleResult& c6 = RuleOf(v, "C6");
  EXPECT_FALSE(c6.passed());
  EXPECT_EQ(c6.contract, "svix");
  bool says_8 = false;
  for (const Finding& f : c6.examples) {
    says_8 |= f.expected.find("8 attempts") != std::string::npos;
  }
  EXPECT_TRUE(says_8) << Failures(v);
}

// A sender that re-attempts under github, which promises exactly one.
TEST(ProfileJudgeTest, CatchesASenderRetryingUnderGithub) {
  const Scenario s = Make("github", {{"status", 500}}, 1,
                          {{"max_reattempts", 2}, {"schedule_ms", {10}}});
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  EXPECT_FALSE(RuleOf(v, "C6").passed()) << Failures(v);
}

// A scenario's contract is named in the report only when not divshot; the
// scenario key accepts a name or an inline object and refuses bad ones
// with the pointer.
TEST(ProfileScenarioTest, ContractKeyParsesAndRefuses) {
  json doc = {{"name", "x"},
              {"contract", "nosuch"},
              {"receivers", {{"r", {{"behavior", {{"status", 200}}}}}}}};
  Result<Scenario> s = ParseScenario(doc);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().path(), "/contract");
  EXPECT_NE(s.error().message().find("known: divshot"), std::string::npos);
  doc["contract"] = {{"name", "inline"},
                     {"attempts", 2},
                     {"schedule_ms", {1, 2}},
                     {"timeout_ms", 100}};
  s = ParseScenario(doc);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().path(), "/contract/schedule_ms/1");
  doc["contract"]["schedule_ms"] = {1};
  s = ParseScenario(doc);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->contract.profile, "inline");
  EXPECT_EQ(s->retry.max_attempts(), 2);
}

// The engine signs as the profile says: GitHub's X-Hub-Signature-256 with
// the secret text as key under github.
class CapturingTransport : public Transport {
 public:
  explicit CapturingTransport(Clock& clock) : clock_(clock) {}
  void Send(const HttpRequest& request, Duration,
            std::function<void(AttemptResult)> done) override {
    headers.clear();
    for (const Header& h : request.headers) {
      headers[std::string(h.name)] = std::string(h.value);
    }
    body = std::string(request.body);
    clock_.ScheduleAfter(Duration::zero(), [done = std::move(done)] {
      done(AttemptResult{AttemptError::kNone, 200});
    });
  }
  std::map<std::string, std::string> headers;
  std::string body;

 private:
  Clock& clock_;
};

TEST(ProfileEngineTest, GithubProfileSignsWithXHubSignature256) {
  VirtualClock clock;
  CapturingTransport transport(clock);
  EngineOptions options;
  options.contract = *FindBuiltinContract("github");
  options.policy = RetryPolicy::FromContract(options.contract);
  DeliveryEngine engine(clock, transport, options);
  engine.AddHook(Hook{"h", "http://127.0.0.1:1/hook", true, "It's a Secret"});
  ASSERT_TRUE(
      engine.Publish("release", R"({"event":"release","data":{}})").ok());
  ASSERT_TRUE(clock.Run(100).ok());
  EXPECT_EQ(transport.headers.count("webhook-signature"), 0u);
  EXPECT_EQ(transport.headers["X-Hub-Signature-256"],
            SignGithubSha256("It's a Secret", transport.body));
  // GitHub's published example: key "It's a Secret to Everybody", body
  // "Hello, World!".
  EXPECT_EQ(SignGithubSha256("It's a Secret to Everybody", "Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b0"
            "43e17");
}

TEST(RetryAfterTest, ParsesSecondsAndDatesAndRefusesTheRest) {
  EXPECT_EQ(ParseRetryAfter("120", 0), 120000);
  EXPECT_EQ(ParseRetryAfter(" 0 ", 0), 0);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 10),
            10000);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 10),
            0);
  EXPECT_EQ(ParseRetryAfter("soon", 0), kBadRetryAfter);
  EXPECT_EQ(ParseRetryAfter("-5", 0), kBadRetryAfter);
  EXPECT_EQ(ParseRetryAfter("", 0), kBadRetryAfter);
}

// Over HTTP the transport's answer parser reads the header the receiver
// sends.
TEST(RetryAfterTest, TheAnswerParserReadsRetryAfter) {
  HttpAnswerParser parser;
  ASSERT_EQ(parser.Feed("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\n"
                        "Content-Length: 0\r\n\r\n"),
            HttpAnswerParser::State::kDone);
  EXPECT_EQ(parser.result().status, 429);
  EXPECT_EQ(parser.result().retry_after_ms, 2000);
  parser.Reset();
  ASSERT_EQ(parser.Feed("HTTP/1.1 503 Busy\r\nRetry-After: later\r\n"
                        "Content-Length: 0\r\n\r\n"),
            HttpAnswerParser::State::kDone);
  EXPECT_EQ(parser.result().retry_after_ms, kBadRetryAfter);
  parser.Reset();
  ASSERT_EQ(parser.Feed("HTTP/1.1 500 No\r\nContent-Length: 0\r\n\r\n"),
            HttpAnswerParser::State::kDone);
  EXPECT_EQ(parser.result().retry_after_ms, kNoRetryAfter);
}

// The behaviour key "headers": a one-line string per header; it
// round-trips and reaches the reply of status answers only.
TEST(RetryAfterTest, BehaviourHeadersKey) {
  Result<BehaviorSpec> spec = ParseBehavior(
      json::parse(R"({"status":429,"headers":{"Retry-After":"2"}})"), "");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(std::get<FixedAnswer>(spec->answers).answer.RetryAfter(), "2");
  EXPECT_EQ(BehaviorToJson(*spec)["headers"]["Retry-After"], "2");
  Result<BehaviorSpec> bad = ParseBehavior(
      json::parse(R"({"status":429,"headers":{"Content-Length":"2"}})"), "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().path(), "/headers/Content-Length");
  bad = ParseBehavior(
      json::parse(R"({"status":429,"headers":{"Retry-After":"1\r\nX: y"}})"),
      "");
  EXPECT_FALSE(bad.ok());
  bad = ParseBehavior(
      json::parse(R"({"status":429,"headers":{"Retry-After":5}})"), "");
  EXPECT_FALSE(bad.ok());
}

// `hooksim receiver --contract`: /__hooksim/stats judges the deliveries it
// saw by the profile: a sender that re-sent after a 410 under
// standard-webhooks is named; without a contract the stats carry no
// judgement.
TEST(ReceiverStatsTest, StatsJudgeByTheContract) {
  BehaviorSpec spec;
  spec.answers = FixedAnswer{Answer{410, Fault::kNone}};
  ReceiverOptions options{"gone", {}, nullptr};
  options.contract = *FindBuiltinContract("standard-webhooks");
  MockReceiver receiver(options, spec, Random(1));
  for (int k = 1; k <= 3; ++k) {
    const std::string attempt = std::to_string(k);
    const Header headers[] = {{"Content-Type", "application/json"},
                              {kDeliveryIdHeader, "d1"},
                              {kAttemptHeader, attempt}};
    receiver.Handle(HttpRequest{"POST", "/hook", headers, "{}"},
                    TimePoint{} + Millis(k));
  }
  json stats =
      json::parse(HandleAdminRequest(
                      receiver, AdminRequest{"GET", "/__hooksim/stats", {}, ""})
                      .body);
  EXPECT_EQ(stats["contract"]["profile"], "standard-webhooks");
  EXPECT_EQ(stats["contract"]["after_gone"], 2);
  EXPECT_EQ(stats["contract"]["over_max"], 0);
  EXPECT_EQ(stats["contract"]["passed"], false);

  MockReceiver plain(ReceiverOptions{"plain", {}, nullptr}, spec, Random(1));
  stats = json::parse(
      HandleAdminRequest(plain, AdminRequest{"GET", "/__hooksim/stats", {}, ""})
          .body);
  EXPECT_FALSE(stats.contains("contract"));
  // Under divshot the same three requests break nothing.
  ReceiverOptions d{"d", {}, nullptr};
  d.contract = DivshotContract();
  MockReceiver divshot(d, spec, Random(1));
  for (int k = 1; k <= 3; ++k) {
    const std::string attempt = std::to_string(k);
    const Header headers[] = {{kDeliveryIdHeader, "d1"},
                              {kAttemptHeader, attempt}};
    divshot.Handle(HttpRequest{"POST", "/hook", headers, "{}"},
                   TimePoint{} + Millis(k));
  }
  stats =
      json::parse(HandleAdminRequest(
                      divshot, AdminRequest{"GET", "/__hooksim/stats", {}, ""})
                      .body);
  EXPECT_EQ(stats["contract"]["passed"], true);
}

}  // namespace
}  // namespace hooksim
