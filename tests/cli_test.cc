#include "sim/cli.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace hooksim {
namespace {

struct CliResult {
  int code;
  std::string out;
  std::string err;
};

CliResult Cli(std::vector<std::string> args, const std::string& stdin_text = "") {
  args.insert(args.begin(), "hooksim");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  const int code = RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  return {code, out.str(), err.str()};
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(CliTest, HelpAndUsage) {
  CliResult r = Cli({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("run FILE|DIR"), std::string::npos);
  r = Cli({"run", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--report-json"), std::string::npos);
  EXPECT_NE(r.out.find("--trace"), std::string::npos);
  EXPECT_EQ(Cli({}).code, 2);
  r = Cli({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command \"frobnicate\""), std::string::npos);
}

TEST(CliTest, BadFlagsAreUsageErrors) {
  CliResult r = Cli({"run", "--seed", "abc", "x.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("seed"), std::string::npos) << r.err;
  r = Cli({"run", "--bogus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(Cli({"run"}).code, 2);
  EXPECT_EQ(Cli({"events", "--count", "0"}).code, 2);
  EXPECT_EQ(Cli({"events", "--count", "-5"}).code, 2);
  r = Cli({"run", "x.json", "--seed", "-5"});  // Must not wrap around.
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--seed: expected an integer"), std::string::npos);
  EXPECT_EQ(Cli({"events", "--seed", "1x"}).code, 2);
}

TEST(CliTest, RunPassingScenarioPrintsOneLineAndSummary) {
  CliResult r = Cli({"run", testing::SourcePath("scenarios/always-200.json")});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS  always-200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deliveries=20 attempts=20"), std::string::npos);
  EXPECT_NE(r.out.find("seed=1"), std::string::npos);
  EXPECT_NE(r.out.find("1 scenario: 1 passed, 0 failed"), std::string::npos);
}

TEST(CliTest, FailingScenarioPrintsRulesAndReproduceLine) {
  const std::string file =
      testing::SourcePath("examples/failing/too-few-retries.json");
  CliResult r = Cli({"run", file, "--seed", "77"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("FAIL  too-few-retries"), std::string::npos);
  EXPECT_NE(r.out.find("C6 "), std::string::npos);
  EXPECT_NE(r.out.find("expected 6 attempts before giving up"), std::string::npos);
  EXPECT_NE(r.out.find("reproduce: hooksim run " + file + " --seed 77"),
            std::string::npos)
      << r.out;
}

TEST(CliTest, MalformedScenarioStopsWithCode2AndNamesFileAndPath) {
  const std::string path = ::testing::TempDir() + "/cli_bad.json";
  {
    std::ofstream f(path);
    f << R"({"name": "x", "receivers": {"r": {}}, "hooks": [{"receiver": "q"}]})";
  }
  CliResult r = Cli({"run", path, testing::SourcePath("scenarios/always-200.json")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(path + ": /hooks/0/receiver: no receiver named \"q\""),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("PASS"), std::string::npos);  // Nothing ran.
  EXPECT_EQ(Cli({"run", "/nonexistent.json"}).code, 2);
}

TEST(CliTest, ReportsAreWritten) {
  const std::string json = ::testing::TempDir() + "/cli_report.json";
  const std::string xml = ::testing::TempDir() + "/cli_report.xml";
  CliResult r = Cli({"run", testing::SourcePath("scenarios/always-200.json"),
                     testing::SourcePath("examples/failing/wrong-expectation.json"),
                     "--report-json", json, "--junit", xml});
  EXPECT_EQ(r.code, 1);
  const nlohmann::json report = nlohmann::json::parse(ReadFile(json));
  ASSERT_EQ(report["scenarios"].size(), 2u);
  EXPECT_EQ(report["summary"]["failed"], 1);
  EXPECT_EQ(report["scenarios"][1]["passed"], false);
  EXPECT_EQ(report["scenarios"][0]["fingerprint"].get<std::string>().size(), 16u);
  const std::string junit = ReadFile(xml);
  EXPECT_NE(junit.find("<testsuites name=\"hooksim\" tests=\"18\" failures=\"1\""),
            std::string::npos)
      << junit.substr(0, 300);
  EXPECT_NE(junit.find("<failure message="), std::string::npos);
}

TEST(CliTest, EventsAreDeterministicJsonLines) {
  CliResult a = Cli({"events", "--count", "5", "--seed", "3"});
  CliResult b = Cli({"events", "--count", "5", "--seed", "3"});
  CliResult c = Cli({"events", "--count", "5", "--seed", "4"});
  EXPECT_EQ(a.code, 0);
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  std::istringstream lines(a.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j["event"], "release");
    ++n;
  }
  EXPECT_EQ(n, 5);
}

TEST(CliTest, ValidateReadsStdinAndFlagsBadFields) {
  CliResult ok = Cli({"validate"}, Cli({"events", "--count", "3"}).out);
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  CliResult bad = Cli({"validate", "-"},
                      R"({"event": "release", "data": {"app": {"name": "a", "id": "x"},
                      "release": {"env": "production", "version": "12"}}})");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("/data/release/version"), std::string::npos) << bad.out;
  EXPECT_EQ(Cli({"validate", "/nonexistent"}).code, 2);
}

}  // namespace
}  // namespace hooksim
