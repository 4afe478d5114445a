// The attempt log's summary taken during a run is what the whole log would
// give, and a run that keeps no log is judged and fingerprinted exactly as
// one that keeps it (every bundled scenario, under a profile that retries
// a 410 and one that stops on it).
#include "sim/engine/attempt_log_summary.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "sim/contract/contract_file.h"
#include "sim/judge/verifier.h"
#include "sim/world/runner.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

constexpr const char* kScenarios[] = {
    "404-and-410-retried",   "503-twice-then-200",     "always-200",
    "always-500",            "connection-reset",       "hang-past-timeout",
    "mixed-fleet",           "pause-resume-signed",    "promotions-and-rollbacks",
    "random-500s-30pct",     "redirect-302-is-failure", "spec-example-payload",
    "two-hour-outage"};

Scenario Load(const std::string& name, const std::string& profile) {
  Result<Scenario> s =
      LoadScenarioFile(testing::SourcePath("scenarios/" + name + ".json"));
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().ToString());
  if (!s.ok()) return Scenario{};
  Scenario scenario = std::move(s).value();
  Result<Contract> contract = LoadContract(profile);
  EXPECT_TRUE(contract.ok());
  if (contract.ok()) {
    scenario.contract = *contract;
    if (!scenario.retry_given) {
      scenario.retry = RetryPolicy::FromContract(*contract);
    }
  }
  return scenario;
}

std::unique_ptr<RunResult> RunIt(const Scenario& s, bool keep_log) {
  RunOptions options;
  options.keep_attempt_log = keep_log;
  Result<std::unique_ptr<RunResult>> r = RunScenario(s, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? std::move(r).value() : nullptr;
}

// Every rule's counts, findings and notes, as one text.
std::string Describe(const Verdict& v) {
  std::string out = std::to_string(v.deliveries) + " " +
                    std::to_string(v.delivered) + " " +
                    std::to_string(v.gave_up) + " " + std::to_string(v.held) +
                    " " + std::to_string(v.attempts) + "\n";
  for (const RuleResult& r : v.rules) {
    out += std::string(r.id()) + " " + r.contract + " " +
           std::to_string(r.checked) + " " + std::to_string(r.failed) + "\n";
    for (const Finding& f : r.examples) {
      out += "  " + f.side + "|" + f.subject + "|" + f.expected + "|" +
             f.actual + "\n";
    }
    for (const std::string& n : r.notes) out += "  note " + n + "\n";
  }
  return out;
}

class AttemptLogSummaryTest
    : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(AttemptLogSummaryTest, LiveSummaryEqualsTheWholeLogs) {
  const auto [name, profile] = GetParam();
  const Scenario s = Load(name, profile);
  auto run = RunIt(s, /*keep_log=*/true);
  ASSERT_NE(run, nullptr);
  ASSERT_NE(run->log, nullptr);
  const DeliveryEngine& engine = *run->engine;
  ASSERT_EQ(engine.attempts().size(), engine.total_attempts());
  const AttemptLogSummary whole = SummariseLog(engine);
  const AttemptLogSummary& live = *run->log;

  EXPECT_EQ(live.Fingerprint(), whole.Fingerprint());
  EXPECT_EQ(live.attempts(), engine.total_attempts());
  for (uint32_t i = 0; i < engine.deliveries().size(); ++i) {
    const AttemptLogSummary::Replay a = live.replay(i), b = whole.replay(i);
    EXPECT_EQ(std::tie(a.seen, a.success_at, a.gone_at, a.broken_order),
              std::tie(b.seen, b.success_at, b.gone_at, b.broken_order))
        << "delivery " << i;
    EXPECT_EQ(a.seen, engine.deliveries()[i].attempts) << "delivery " << i;
  }
  for (uint32_t h = 0; h < engine.hooks().size(); ++h) {
    EXPECT_EQ(live.hook_gone(h), whole.hook_gone(h)) << "hook " << h;
  }
  EXPECT_EQ(live.after_gone().count, whole.after_gone().count);
  EXPECT_EQ(live.after_success().count, whole.after_success().count);
  // Kept: every record of the hooks the scenario pauses, none of the rest.
  size_t paused_records = 0;
  for (const AttemptRecord& a : engine.attempts()) {
    paused_records += s.EverPaused(engine.deliveries()[a.delivery].hook);
  }
  EXPECT_EQ(live.kept().size(), paused_records);
  for (const AttemptRecord& a : live.kept()) {
    EXPECT_TRUE(s.EverPaused(engine.deliveries()[a.delivery].hook));
  }
}

TEST_P(AttemptLogSummaryTest, RunWithoutTheLogIsJudgedTheSame) {
  const auto [name, profile] = GetParam();
  const Scenario s = Load(name, profile);
  auto kept = RunIt(s, /*keep_log=*/true);
  auto summarised = RunIt(s, /*keep_log=*/false);
  ASSERT_NE(kept, nullptr);
  ASSERT_NE(summarised, nullptr);
  EXPECT_TRUE(summarised->engine->attempts().empty());
  EXPECT_GT(summarised->engine->total_attempts(), 0u);
  EXPECT_EQ(summarised->Fingerprint(), kept->Fingerprint());
  const std::string with_log = Describe(Verify(kept->Record()));
  EXPECT_EQ(Describe(Verify(summarised->Record())), with_log);
  // The judge reading the whole log itself agrees too.
  RunRecord from_log = kept->Record();
  from_log.log = nullptr;
  EXPECT_EQ(Describe(Verify(from_log)), with_log);
}

INSTANTIATE_TEST_SUITE_P(
    Bundled, AttemptLogSummaryTest,
    ::testing::Combine(::testing::ValuesIn(kScenarios),
                       ::testing::Values("divshot", "standard-webhooks")),
    [](const auto& info) {
      std::string n = std::string(std::get<0>(info.param)) + "_" +
                      std::get<1>(info.param);
      for (char& c : n) {
        if (c == '-') c = '_';
      }
      return n;
    });

}  // namespace
}  // namespace hooksim
