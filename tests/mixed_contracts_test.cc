// Scenarios mixing contract profiles (issue 16): a "contract" key per hook
// or per receiver; the engine sends to each hook by its own profile, the
// judge judges each by it, and the reports say which profile judged each
// rule. And an unreadable Retry-After: ignored as the profile says, and
// recorded (the sender's trace, the receiver's journal).
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "mock-receivers/admin_api.h"
#include "sim/contract/contract_file.h"
#include "sim/engine/attempt_line.h"
#include "sim/judge/verifier.h"
#include "sim/report/junit_writer.h"
#include "sim/report/report.h"
#include "sim/world/runner.h"

namespace hooksim {
namespace {

using nlohmann::json;

std::unique_ptr<RunResult> RunIt(const Scenario& s, RunOptions options = {}) {
  Result<std::unique_ptr<RunResult>> r = RunScenario(s, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? std::move(r).value() : nullptr;
}

Result<Scenario> Parse(const json& doc) { return ParseScenario(doc); }

// Three hooks answered 500 by one receiver: a under the scenario's
// divshot, b under svix (its own key), c under github (its receiver's).
json MixedDoc() {
  return {{"name", "mixed"},
          {"seed", 3},
          {"events", {{"count", 2}, {"interval_ms", 3600000}}},
          {"receivers",
           {{"r", {{"behavior", {{"status", 500}}}}},
            {"gh", {{"behavior", {{"status", 500}}}, {"contract", "github"}}}}},
          {"hooks",
           {{{"id", "a"}, {"receiver", "r"}},
            {{"id", "b"}, {"receiver", "r"}, {"contract", "svix"}},
            {{"id", "c"}, {"receiver", "gh"}}}}};
}

TEST(MixedContractsTest, EachHookIsSentAndJudgedByItsOwnProfile) {
  Result<Scenario> s = Parse(MixedDoc());
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_TRUE(s->MixedContracts());
  EXPECT_EQ(s->ContractOf(0).profile, "divshot");
  EXPECT_EQ(s->ContractOf(1).profile, "svix");
  EXPECT_EQ(s->ContractOf(2).profile, "github");
  auto run = RunIt(*s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  EXPECT_TRUE(v.passed());
  for (const Delivery& d : run->engine->deliveries()) {
    const int want = d.hook == 0 ? 6 : d.hook == 1 ? 8 : 1;
    EXPECT_EQ(d.attempts, want) << "hook " << d.hook;
  }
  const std::string judged_by =
      "divshot for hook a; svix for hook b; github for hook c";
  for (const RuleResult& r : v.rules) {
    if (r.rule == Rule::kExpectations) continue;
    EXPECT_EQ(r.contract, judged_by) << r.id();
  }
  // JSON and JUnit say it per rule.
  ScenarioOutcome o;
  o.name = "mixed";
  o.verdict = v;
  const json report = ReportJson({o});
  EXPECT_EQ(report["scenarios"][0]["rules"][0]["contract"], judged_by)
      << report.dump();
  const std::vector<JUnitSuite> junit = ReportJUnit({o});
  EXPECT_NE(junit[0].cases[0].system_out.find("contract: " + judged_by),
            std::string::npos);
}

TEST(MixedContractsTest, BadHookContractsNameThePointer) {
  json doc = MixedDoc();
  doc["hooks"][1]["contract"] = "nosuch";
  Result<Scenario> s = Parse(doc);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().path, "/hooks/1/contract");
  EXPECT_NE(s.error().message.find("known: divshot"), std::string::npos);
  doc = MixedDoc();
  doc["hooks"][1]["contract"] = {{"name", "x"},
                                 {"attempts", 2},
                                 {"schedule_ms", {1, 2}},
                                 {"timeout_ms", 10}};
  s = Parse(doc);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().path, "/hooks/1/contract/schedule_ms/1");
  doc = MixedDoc();
  doc["receivers"]["gh"]["contract"] = 5;
  s = Parse(doc);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().path, "/receivers/gh/contract");
}

// A scenario's "retry" object compresses each hook's own schedule too, but
// leaves its profile's attempts.
TEST(MixedContractsTest, RetryObjectCompressesButKeepsTheProfilesAttempts) {
  json doc = MixedDoc();
  doc["retry"] = {{"max_reattempts", 2}, {"schedule_ms", {10}}};
  Result<Scenario> s = Parse(doc);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->RetryOf(0).max_reattempts, 2);
  EXPECT_EQ(s->RetryOf(1).max_reattempts, 7);
  EXPECT_EQ(s->RetryOf(1).schedule, std::vector<Duration>{Millis(10)});
  EXPECT_EQ(s->RetryOf(2).max_reattempts, 0);
}

// Bundled-style scenarios without per-hook contracts keep the plain
// profile name (and divshot stays unnamed in the reports).
TEST(MixedContractsTest, UniformScenariosNameOneProfile) {
  json doc = MixedDoc();
  doc["hooks"] = {{{"id", "a"}, {"receiver", "r"}}};
  doc["receivers"].erase("gh");
  Result<Scenario> s = Parse(doc);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->MixedContracts());
  auto run = RunIt(*s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  EXPECT_EQ(v.rules.front().contract, "divshot");
}

// A Retry-After that is neither seconds nor an HTTP date: ignored (the
// schedule decides, as without one), said in the sender's trace, and the
// receiver's journal records what it sent and that it is unreadable.
TEST(UnreadableRetryAfterTest, IgnoredAndRecordedOnBothSides) {
  json doc = {{"name", "bad-retry-after"},
              {"seed", 2},
              {"contract", "standard-webhooks"},
              {"events", {{"count", 1}}},
              {"receivers",
               {{"r",
                 {{"behavior",
                   {{"sequence", {429, 200}},
                    {"headers", {{"Retry-After", "soon"}}}}}}}}}};
  Result<Scenario> s = Parse(doc);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  std::vector<std::string> trace;
  RunOptions options;
  options.trace = [&trace](const std::string& line) { trace.push_back(line); };
  auto run = RunIt(*s, options);
  ASSERT_NE(run, nullptr);
  ASSERT_EQ(run->engine->attempts().size(), 2u);
  const AttemptRecord& first = run->engine->attempts()[0];
  EXPECT_EQ(first.result.retry_after_ms, kBadRetryAfter);
  // The schedule's 5 s, as if there were no hint.
  EXPECT_EQ(ToMillis(*first.next_at - first.ended), 5000);
  ASSERT_EQ(trace.size(), 2u);
  EXPECT_NE(trace[0].find("429 after"), std::string::npos) << trace[0];
  EXPECT_NE(trace[0].find("(Retry-After unreadable: ignored)"),
            std::string::npos)
      << trace[0];
  // The behaviour sends the header with the 200 too: said there as well.
  EXPECT_NE(trace[1].find("200 after"), std::string::npos) << trace[1];
  EXPECT_NE(trace[1].find("(Retry-After unreadable: ignored)"),
            std::string::npos)
      << trace[1];
  const json journal = json::parse(
      HandleAdminRequest(*run->receivers[0],
                         AdminRequest{"GET", "/__hooksim/requests", {}, ""})
          .body);
  ASSERT_TRUE(journal.is_array() || journal.contains("requests"))
      << journal.dump();
  const json& entries = journal.is_array() ? journal : journal["requests"];
  ASSERT_GE(entries.size(), 1u);
  EXPECT_EQ(entries[0]["reply"]["retry_after"], "soon") << entries[0].dump();
  EXPECT_EQ(entries[0]["reply"]["retry_after_readable"], false);
}

}  // namespace
}  // namespace hooksim
