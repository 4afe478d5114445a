// Parity: every bundled scenario runs in the virtual world and over real
// HTTP on loopback (in-process receiver servers, the HTTP transport, a
// compressed real clock) with the same seed, and must reach the same
// verdict, rule by rule, and the same attempt count and outcome for every
// delivery.
//
// To keep the suite short, scenarios whose answers do not depend on the
// time (no outage windows) run in both worlds with a shortened retry
// schedule (1, 2, 4, 8, 16 s, jitter kept) and events 20 ms apart, at time
// scale 0.05: a 10 s timeout becomes 500 ms of wall time, far above a
// loopback round trip. Scenarios with outage windows keep their own schedule
// and intervals (the timeline is what they test) and run at time scale
// 0.001. Where every answer of a scenario comes before its timeout (no
// hang or dribble), the parity run raises the timeout to 60 s: no answer
// changes in either world, and a loaded machine gets room (mixed-fleet's 8 s
// latency against its 10 s timeout left 100 ms of wall time at scale 0.05,
// and failed under a load average of 24).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include "sim/judge/verifier.h"
#include "sim/scenario/scenario.h"
#include "sim/world/runner.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

bool HasOutages(const Scenario& s) {
  for (const ReceiverSpec& r : s.receivers) {
    if (!r.behavior.outages.empty()) return true;
  }
  return false;
}

// The longest a receiver may wait before answering.
Duration MaxLatency(const LatencySpec& latency) {
  if (const auto* f = std::get_if<LatencyFixed>(&latency)) return f->value;
  if (const auto* u = std::get_if<LatencyUniform>(&latency)) return u->hi;
  return std::get<LatencyLogNormal>(latency).cap;
}

// True when every answer a receiver of `s` gives comes before `timeout` (no
// hang, no dribble, every latency below it): then no attempt of the
// scenario times out in the virtual world, and raising the timeout changes
// no outcome there while giving a loaded machine room in the real one.
bool AnswersWithin(const Scenario& s, Duration timeout) {
  for (const ReceiverSpec& r : s.receivers) {
    if (MaxLatency(r.behavior.latency) >= timeout) return false;
    std::vector<Answer> answers;
    std::visit(
        [&answers](const auto& a) {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, FixedAnswer>) {
            answers.push_back(a.answer);
          } else if constexpr (std::is_same_v<T, SequenceAnswer>) {
            answers = a.answers;
          } else {
            for (const auto& [answer, p] : a.choices) answers.push_back(answer);
          }
        },
        r.behavior.answers);
    for (const OutageWindow& w : r.behavior.outages) {
      answers.push_back(w.answer);
    }
    for (const Answer& a : answers) {
      if (a.fault != Fault::kNone && a.fault != Fault::kReset &&
          a.fault != Fault::kEmpty && a.fault != Fault::kGarbage) {
        return false;
      }
    }
  }
  return true;
}

struct ParityPlan {
  Scenario scenario;
  double time_scale = 0.05;
};

ParityPlan PlanFor(Scenario s) {
  ParityPlan plan;
  if (AnswersWithin(s, s.retry.timeout)) {
    s.retry.timeout =
        std::max<Duration>(s.retry.timeout, std::chrono::seconds(60));
  }
  if (HasOutages(s)) {
    plan.time_scale = 0.001;
  } else {
    s.retry.schedule = {std::chrono::seconds(1), std::chrono::seconds(2),
                        std::chrono::seconds(4), std::chrono::seconds(8),
                        std::chrono::seconds(16)};
    s.events.interval =
        std::min<Duration>(s.events.interval, std::chrono::milliseconds(20));
  }
  plan.scenario = std::move(s);
  return plan;
}

std::unique_ptr<RunResult> MustRun(const Scenario& s, World world,
                                   double scale) {
  RunOptions options;
  options.world = world;
  options.time_scale = scale;
  Result<std::unique_ptr<RunResult>> run = RunScenario(s, options);
  EXPECT_TRUE(run.ok()) << (run.ok() ? "" : run.error().ToString());
  if (!run.ok()) return nullptr;
  return std::move(run).value();
}

std::string DescribeRules(const Verdict& v) {
  std::string text;
  for (const RuleResult& r : v.rules) {
    text += std::string(r.id()) + (r.passed() ? "=pass " : "=FAIL ");
  }
  return text;
}

class ParityTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ParityTest, SameVerdictAndAttemptsInBothWorlds) {
  Result<Scenario> loaded = LoadScenarioFile(
      testing::SourcePath(std::string("scenarios/") + GetParam() + ".json"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  const ParityPlan plan = PlanFor(std::move(loaded).value());

  std::unique_ptr<RunResult> sim = MustRun(plan.scenario, World::kVirtual, 1.0);
  std::unique_ptr<RunResult> http =
      MustRun(plan.scenario, World::kHttp, plan.time_scale);
  ASSERT_TRUE(sim && http);
  ASSERT_TRUE(http->clock_status.ok()) << http->clock_status.ToString();

  const Verdict sim_verdict = Verify(sim->Record());
  const Verdict http_verdict = Verify(http->Record());
  EXPECT_TRUE(sim_verdict.passed()) << DescribeRules(sim_verdict);
  EXPECT_EQ(DescribeRules(sim_verdict), DescribeRules(http_verdict));
  EXPECT_EQ(sim_verdict.delivered, http_verdict.delivered);
  EXPECT_EQ(sim_verdict.gave_up, http_verdict.gave_up);
  EXPECT_EQ(sim_verdict.held, http_verdict.held);

  const auto& sd = sim->engine->deliveries();
  const auto& hd = http->engine->deliveries();
  ASSERT_EQ(sd.size(), hd.size());
  std::map<std::string, const Delivery*> by_id;
  for (const Delivery& d : hd) by_id[d.id.str()] = &d;
  size_t mismatches = 0;
  for (const Delivery& d : sd) {
    auto it = by_id.find(d.id.str());
    ASSERT_NE(it, by_id.end()) << d.id << " missing in the HTTP world";
    const Delivery& h = *it->second;
    if (d.attempts != h.attempts || d.state != h.state) {
      if (++mismatches <= 5) {
        ADD_FAILURE() << d.id << " (hook " << sim->engine->hooks()[d.hook].id
                      << "): sim " << d.attempts << " attempts, "
                      << DeliveryStateName(d.state) << ", last "
                      << DescribeAttemptResult(d.last) << "; http "
                      << h.attempts << " attempts, "
                      << DeliveryStateName(h.state) << ", last "
                      << DescribeAttemptResult(h.last);
      }
    }
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(sim->engine->total_attempts(), http->engine->total_attempts());
}

INSTANTIATE_TEST_SUITE_P(
    Bundled, ParityTest,
    ::testing::Values("always-200", "503-twice-then-200", "always-500",
                      "redirect-302-is-failure", "404-and-410-retried",
                      "hang-past-timeout", "connection-reset",
                      "random-500s-30pct", "two-hour-outage", "mixed-fleet",
                      "promotions-and-rollbacks", "spec-example-payload",
                      "pause-resume-signed"),
    [](const ::testing::TestParamInfo<const char*>& info) {
      std::string name = info.param;
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

// The bundled list above must name every bundled scenario.
TEST(ParityCoverage, EveryBundledScenarioHasAParityRun) {
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(testing::SourcePath("scenarios"))) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.ends_with(".json") &&
        !name.ends_with(".schema.json")) {
      ++files;
    }
  }
  EXPECT_EQ(files, 13u) << "add the new scenario to ParityTest's list";
}

}  // namespace
}  // namespace hooksim
