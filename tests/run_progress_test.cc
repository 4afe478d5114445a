// What a run's progress callback sees and what it leaves alone, and the one
// body hash shared by the consumers of an attempt (issue 20).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/base/random.h"
#include "sim/contract/http_types.h"
#include "sim/world/runner.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

Scenario Load(const std::string& relative) {
  Result<Scenario> s = LoadScenarioFile(testing::SourcePath(relative));
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().ToString());
  return s.ok() ? std::move(s).value() : Scenario{};
}

TEST(RunProgressTest, ReportsGrowingCountsAndLeavesTheRunAlone) {
  const Scenario s = Load("scenarios/random-500s-30pct.json");
  Result<std::unique_ptr<RunResult>> plain = RunScenario(s, RunOptions{});
  ASSERT_TRUE(plain.ok());
  std::vector<RunProgress> seen;
  RunOptions options;
  options.progress = [&seen](const RunProgress& p) { seen.push_back(p); };
  options.progress_after = std::chrono::steady_clock::duration::zero();
  options.progress_every = std::chrono::steady_clock::duration::zero();
  Result<std::unique_ptr<RunResult>> watched = RunScenario(s, options);
  ASSERT_TRUE(watched.ok());
  // The same run, attempt for attempt.
  EXPECT_EQ((*watched)->Fingerprint(), (*plain)->Fingerprint());
  const uint64_t attempts = (*watched)->engine->total_attempts();
  // Checked every 1024th attempt in the virtual world.
  ASSERT_EQ(seen.size(), attempts / 1024);
  ASSERT_FALSE(seen.empty()) << "the scenario has too few attempts";
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].attempts, 1024 * (i + 1));
    EXPECT_EQ(seen[i].deliveries, s.DeliveryCount());
    EXPECT_LE(seen[i].deliveries_ended, seen[i].deliveries);
    if (i > 0) {
      EXPECT_GE(seen[i].deliveries_ended, seen[i - 1].deliveries_ended);
      EXPECT_GE(seen[i].now, seen[i - 1].now);
    }
  }
}

TEST(RunProgressTest, NothingBeforeProgressAfter) {
  const Scenario s = Load("scenarios/random-500s-30pct.json");
  int calls = 0;
  RunOptions options;
  options.progress = [&calls](const RunProgress&) { ++calls; };
  options.progress_after = std::chrono::hours(1);
  ASSERT_TRUE(RunScenario(s, options).ok());
  EXPECT_EQ(calls, 0);
}

TEST(BodyHashTest, UsesTheKnownHashOnlyForTheBytesItWasTakenOf) {
  const std::string body = R"({"event":"ping","data":{}})";
  HttpRequest request;
  request.body = body;
  EXPECT_EQ(BodyHash(request), Hash64(body));  // None known: hashed.
  request.known_hash = {body.data(), body.size(), 42};
  EXPECT_EQ(BodyHash(request), 42u);  // Known: taken as given.
  // Other bytes (a wrapper that changed the body) are hashed again.
  const std::string other = R"({"event":"ping","data":{"x":1}})";
  request.body = other;
  EXPECT_EQ(BodyHash(request), Hash64(other));
  request.body = std::string_view(body).substr(0, body.size() - 1);
  EXPECT_EQ(BodyHash(request), Hash64(request.body));
}

}  // namespace
}  // namespace hooksim
