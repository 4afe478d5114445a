// The HTTP world end to end: scenarios run over real sockets on loopback
// (receiver servers, HTTP transport, real clock), and each fault reaches
// the engine as the right error kind and is retried; a hook where nothing
// listens is refused six times and given up.
#include <gtest/gtest.h>

#include <string>

#include "sim/judge/verifier.h"
#include "sim/scenario/scenario.h"
#include "sim/world/runner.h"
#include "tests/loopback_servers.h"

namespace hooksim {
namespace {

// A short schedule; 1 s timeout = 100 ms of wall time at scale 0.1.
constexpr char kRetry[] =
    R"("retry": {"schedule_ms": [100, 100, 100, 100, 100], "timeout_ms": 1000})";
constexpr double kScale = 0.1;

Scenario MustParse(const std::string& text) {
  Result<Scenario> s = ParseScenarioText(text);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().ToString());
  return s.ok() ? std::move(s).value() : Scenario{};
}

std::unique_ptr<RunResult> RunHttp(const Scenario& s) {
  RunOptions options;
  options.world = World::kHttp;
  options.time_scale = kScale;
  Result<std::unique_ptr<RunResult>> run = RunScenario(s, options);
  EXPECT_TRUE(run.ok()) << (run.ok() ? "" : run.error().ToString());
  return run.ok() ? std::move(run).value() : nullptr;
}

struct FaultCase {
  const char* fault;
  AttemptError seen;
};

class HttpFaultTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(HttpFaultTest, FaultIsSeenAsItsErrorKindAndRetried) {
  const FaultCase c = GetParam();
  const std::string behavior =
      std::string(R"({"sequence": [")") + c.fault + R"(", 200]})";
  Scenario s = MustParse(std::string(R"({"name": "fault", "seed": 3,
      "events": {"count": 2},
      "receivers": {"r": {"behavior": )") +
                         behavior + R"(}}, )" + kRetry + "}");
  std::unique_ptr<RunResult> run = RunHttp(s);
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->clock_status.ok()) << run->clock_status.ToString();
  const auto& attempts = run->engine->attempts();
  ASSERT_EQ(attempts.size(), 4u);  // Two deliveries, two attempts each.
  for (const AttemptRecord& a : attempts) {
    if (a.attempt == 1) {
      EXPECT_EQ(a.result.error, c.seen) << DescribeAttemptResult(a.result);
      EXPECT_TRUE(a.next_at.has_value());
    } else {
      EXPECT_EQ(a.attempt, 2);
      EXPECT_TRUE(a.result.IsSuccess()) << DescribeAttemptResult(a.result);
    }
  }
  for (const Delivery& d : run->engine->deliveries()) {
    EXPECT_EQ(d.state, DeliveryState::kDelivered);
  }
  const Verdict v = Verify(run->Record());
  EXPECT_TRUE(v.passed());
}

INSTANTIATE_TEST_SUITE_P(
    Faults, HttpFaultTest,
    ::testing::Values(FaultCase{"reset", AttemptError::kReset},
                      FaultCase{"empty", AttemptError::kEmptyReply},
                      FaultCase{"garbage", AttemptError::kMalformed},
                      FaultCase{"hang", AttemptError::kTimeout}),
    [](const ::testing::TestParamInfo<FaultCase>& info) {
      return std::string(info.param.fault);
    });

TEST(HttpWorldTest, SlowAnswerPastTheTimeoutIsATimeoutAndAbandoned) {
  // 2 s latency against a 1 s timeout: every attempt times out, six in all;
  // the receiver's 2xx answers were never seen, so receiver-side C5 holds.
  Scenario s = MustParse(std::string(R"({"name": "slow", "seed": 4,
      "events": {"count": 1},
      "receivers": {"r": {"behavior": {"status": 200,
                                       "latency": {"fixed_ms": 2000}}}}, )") +
                         kRetry + "}");
  std::unique_ptr<RunResult> run = RunHttp(s);
  ASSERT_TRUE(run);
  ASSERT_EQ(run->engine->deliveries().size(), 1u);
  const Delivery& d = run->engine->deliveries()[0];
  EXPECT_EQ(d.attempts, 6);
  EXPECT_EQ(d.state, DeliveryState::kGaveUp);
  EXPECT_EQ(d.last.error, AttemptError::kTimeout);
  const Verdict v = Verify(run->Record());
  for (const RuleResult& r : v.rules) {
    EXPECT_TRUE(r.passed()) << r.id() << " " << r.title();
  }
}

// A dribbled answer is a 200 when it ends within the timeout, a timeout
// when it would end after it: the transport bounds the whole attempt.
// Within: a 300 ms dribble (30 ms of wall time) against a 10 s timeout
// (1 s), a margin no loaded machine or sanitizer build uses up (against
// 1 s, only 70 ms were left for connecting, the schema check and sixteen
// writes, and a TSan build under load took longer). Past: a 3 s dribble
// against the usual 1 s timeout.
TEST(HttpWorldTest, DribbleWithinAndPastTheTimeout) {
  struct Case {
    int latency_ms;
    int timeout_ms;
    bool delivered;
  };
  for (const auto& [latency_ms, timeout_ms, delivered] :
       {Case{300, 10000, true}, Case{3000, 1000, false}}) {
    Scenario s = MustParse(
        std::string(R"({"name": "dribble", "seed": 6, "events": {"count": 2},
        "receivers": {"r": {"behavior": {"fault": "dribble",
                            "latency": {"fixed_ms": )") +
        std::to_string(latency_ms) +
        R"(}}}}, "retry": {"schedule_ms": [100, 100, 100, 100, 100],
        "timeout_ms": )" +
        std::to_string(timeout_ms) + "}}");
    std::unique_ptr<RunResult> run = RunHttp(s);
    ASSERT_TRUE(run);
    for (const Delivery& d : run->engine->deliveries()) {
      if (delivered) {
        EXPECT_EQ(d.attempts, 1);
        EXPECT_EQ(d.state, DeliveryState::kDelivered);
        EXPECT_EQ(d.last.status, 200);
      } else {
        EXPECT_EQ(d.attempts, 6);
        EXPECT_EQ(d.state, DeliveryState::kGaveUp);
        EXPECT_EQ(d.last.error, AttemptError::kTimeout);
      }
    }
    const Verdict v = Verify(run->Record());
    for (const RuleResult& r : v.rules) {
      EXPECT_TRUE(r.passed()) << latency_ms << " ms: " << r.id();
    }
  }
}

TEST(HttpWorldTest, NothingListeningIsRefusedSixTimesThenGivenUp) {
  const testing::RefusedPort refused;  // Bound, never listening.
  Scenario s = MustParse(std::string(R"({"name": "refused", "seed": 5,
      "events": {"count": 3},
      "receivers": {"unused": {"behavior": {"status": 200}}},
      "hooks": [{"id": "gone", "url": ")") +
                         refused.url() + R"("}], )" + kRetry + "}");
  std::unique_ptr<RunResult> run = RunHttp(s);
  ASSERT_TRUE(run);
  ASSERT_EQ(run->engine->deliveries().size(), 3u);
  for (const Delivery& d : run->engine->deliveries()) {
    EXPECT_EQ(d.attempts, 6);
    EXPECT_EQ(d.state, DeliveryState::kGaveUp);
  }
  for (const AttemptRecord& a : run->engine->attempts()) {
    EXPECT_EQ(a.result.error, AttemptError::kRefused);
  }
}

TEST(HttpWorldTest, BadTimeScaleIsAnError) {
  Scenario s = MustParse(R"({"name": "x", "events": {"count": 1},
      "receivers": {"r": {"behavior": {"status": 200}}}})");
  RunOptions options;
  options.world = World::kHttp;
  options.time_scale = 0;
  Result<std::unique_ptr<RunResult>> run = RunScenario(s, options);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.error().message().find("time scale"), std::string::npos);
}

}  // namespace
}  // namespace hooksim
