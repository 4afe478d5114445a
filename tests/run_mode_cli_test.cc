// `hooksim run --mode http`: flag checking, and one bundled scenario over
// real sockets through the CLI with its JSON report.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sim/cli/cli.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using testing::Cli;
using testing::CliResult;

TEST(RunModeCliTest, BadModeAndTimeScaleAreUsageErrors) {
  const std::string file = testing::SourcePath("scenarios/always-200.json");
  CliResult r = Cli({"run", file, "--mode", "tcp"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--mode: expected sim or http, got \"tcp\""),
            std::string::npos)
      << r.err;
  for (const char* bad : {"0", "-1", "2", "abc", "0.5x", "nan", ""}) {
    r = Cli({"run", file, "--mode", "http", "--time-scale", bad});
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find("--time-scale: expected a number in (0, 1]"),
              std::string::npos)
        << r.err;
  }
  r = Cli({"run", file, "--time-scale", "0.5"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--mode http only"), std::string::npos) << r.err;
}

TEST(RunModeCliTest, HttpRunReportsModeAndReproduceLine) {
  const std::string report = ::testing::TempDir() + "/http-report.json";
  // Time scale 0.1: the 10 s attempt timeout is 1 s of wall time, so a
  // loaded machine (ASan, parallel tests) does not turn a 200 into a
  // timeout and a re-attempt; the 20 events still take only 2 s.
  CliResult r =
      Cli({"run", testing::SourcePath("scenarios/always-200.json"), "--mode",
           "http", "--time-scale", "0.1", "--report-json", report});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS  always-200"), std::string::npos) << r.out;
  std::ifstream f(report);
  nlohmann::json doc = nlohmann::json::parse(f);
  ASSERT_EQ(doc["scenarios"].size(), 1u);
  EXPECT_EQ(doc["scenarios"][0]["mode"], "http");
  EXPECT_DOUBLE_EQ(doc["scenarios"][0]["time_scale"].get<double>(), 0.1);
  EXPECT_EQ(doc["scenarios"][0]["delivered"], 20);
  const std::string reproduce = doc["scenarios"][0]["reproduce"];
  EXPECT_NE(reproduce.find("--mode http --time-scale 0.1"), std::string::npos)
      << reproduce;
}

}  // namespace
}  // namespace hooksim
