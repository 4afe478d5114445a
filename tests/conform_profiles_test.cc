// hooksim conform under each built-in contract profile (issue 16): the
// battery adapts its expectations to the profile, and the engine, sending
// by the same profile with a compressed schedule, passes every case.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "sim/conform/conform_cases.h"
#include "sim/contract/contract_file.h"
#include "sim/os/temp_dir.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using testing::Cli;
using testing::CliResult;

int ExpectedOf(const std::vector<ConformCase>& cases, const std::string& n) {
  for (const ConformCase& c : cases) {
    if (c.name == n) return c.expected_attempts;
  }
  ADD_FAILURE() << "no case " << n;
  return -1;
}

TEST(ConformProfilesTest, BatteryTakesItsExpectationsFromTheProfile) {
  for (const Contract& contract : BuiltinContracts()) {
    BatteryOptions options;
    options.contract = contract;
    const std::vector<ConformCase> cases = ConformBattery(options);
    const int max = contract.max_attempts();
    EXPECT_EQ(ExpectedOf(cases, "always-500"), max) << contract.profile;
    EXPECT_EQ(ExpectedOf(cases, "redirect-302"), max) << contract.profile;
    EXPECT_EQ(ExpectedOf(cases, "reply-past-timeout"), max);
    EXPECT_EQ(ExpectedOf(cases, "gone-410"), contract.StopsOn(410) ? 1 : max)
        << contract.profile;
    EXPECT_EQ(ExpectedOf(cases, "503-then-200"), max >= 2 ? 2 : 1);
    EXPECT_EQ(ExpectedOf(cases, "ok-200"), 1);
    for (const ConformCase& c : cases)
      EXPECT_EQ(c.contract.profile, contract.profile);
  }
}

class ConformProfileTest : public ::testing::TestWithParam<std::string> {};

// The engine as the sender, by the same profile compressed: the throttle
// floor 100 ms, Retry-After capped at 1 s (the cases' hint), a 1 s timeout
// (written as a contract file, the format `contracts show` prints), the
// schedule conform hands it in HOOKSIM_RETRY_SCHEDULE_MS and, under a
// signing profile, the secret in HOOKSIM_SECRET; conform judges by the
// built-in profile itself, its own cases included. The held answers take
// 3 s.
TEST_P(ConformProfileTest, TheEnginePassesUnderTheProfile) {
  const Contract& contract = *FindBuiltinContract(GetParam());
  nlohmann::json compressed = ContractToJson(contract);
  for (auto& d : compressed["schedule_ms"]) d = 50;
  compressed["timeout_ms"] = 1000;
  if (compressed["throttle_floor_ms"] > 0)
    compressed["throttle_floor_ms"] = 100;
  compressed["retry_after"]["max_ms"] = 1000;
  // A directory of its own: parallel runs of this test never share files.
  const TempDir dir("conform-profile");
  ASSERT_TRUE(dir.ok());
  const std::string contract_file = dir.File(GetParam() + ".contract.json");
  {
    std::ofstream f(contract_file);
    f << compressed.dump();
  }
  // The schedule and secret conform hands every case (retry-timing and
  // signed judge them).
  const std::string sender =
      std::string(HOOKSIM_BINARY) +
      " deliver --url \"$HOOKSIM_URL\" --event-file "
      "\"$HOOKSIM_EVENT_FILE\" --contract " +
      contract_file +
      " ${HOOKSIM_RETRY_SCHEDULE_MS:+--retry-schedule-ms "
      "\"$HOOKSIM_RETRY_SCHEDULE_MS\"} ${HOOKSIM_SECRET:+--secret "
      "\"$HOOKSIM_SECRET\"}";
  const std::string report_file = dir.File(GetParam() + ".json");
  const CliResult r = Cli({"conform", "--sender-cmd", sender, "--contract",
                           GetParam(), "--slow-ms", "200", "--hang-ms", "3000",
                           "--quiet-ms", "500", "--case-timeout-s", "90",
                           "--parallel", "8", "--report-json", report_file,
                           // Eight cases at once on a loaded machine have
                           // made a gap 480 ms late: whether the engine
                           // takes the schedule at all is still judged.
                           "--timing-slack-ms", "1500"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("0 failed, 0 could not be judged"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("contract: " + GetParam()), std::string::npos);
  std::ifstream in(report_file);
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json report = nlohmann::json::parse(text.str());
  EXPECT_EQ(report["options"]["contract"], GetParam());
  EXPECT_EQ(report["options"]["timing_slack_ms"], 1500);
  for (const auto& c : report["cases"]) {
    if (c["name"] == "always-500" || c["name"] == "gone-410") {
      const size_t want = c["name"] == "gone-410" && contract.StopsOn(410)
                              ? 1u
                              : static_cast<size_t>(contract.max_attempts());
      EXPECT_EQ(c["requests"].size(), want) << c["name"];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Builtins, ConformProfileTest,
                         ::testing::Values("divshot", "standard-webhooks",
                                           "svix", "github"));

// A sender that keeps re-attempting a 410 fails gone-410 under
// standard-webhooks, with the reason.
TEST(ConformProfilesTest, ASenderRetrying410FailsUnderStandardWebhooks) {
  const std::string sender = std::string(HOOKSIM_BINARY) +
                             " deliver --url \"$HOOKSIM_URL\" --event-file "
                             "\"$HOOKSIM_EVENT_FILE\" --retry-schedule-ms 20 "
                             "--timeout-ms 1000 --jitter 0";
  const CliResult r =
      Cli({"conform", "--sender-cmd", sender, "--contract", "standard-webhooks",
           "--cases", "gone-410", "--quiet-ms", "300"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("410 disables the endpoint"), std::string::npos)
      << r.out;
}

TEST(ConformProfilesTest, UnknownContractExits2ListingTheKnownOnes) {
  const CliResult r =
      Cli({"conform", "--sender-cmd", "true", "--contract", "nosuch"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("known: divshot, standard-webhooks, svix, github"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace hooksim
