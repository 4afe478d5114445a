// hooksim conform end to end: the engine passes every case of the battery
// (over real loopback sockets, with a compressed schedule), and broken
// senders are reported with the rule they break and why, within the
// budget, with no process left behind.
#include "sim/os/temp_dir.h"
#include "sim/cli/conform_command.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/test_util.h"

namespace hooksim {
namespace {

using testing::Cli;
using testing::CliResult;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The engine as a foreign sender: the built binary, a compressed schedule
// and a 2 s timeout (the held answers take 6 s, the slow 2xx 0.2 s: wide
// margins on a loaded machine).
std::string EngineSender() {
  return std::string(HOOKSIM_BINARY) +
         " deliver --url \"$HOOKSIM_URL\" --event-file \"$HOOKSIM_EVENT_FILE\""
         " --retry-schedule-ms 50 --timeout-ms 2000 --jitter 0";
}

const nlohmann::json* FindCase(const nlohmann::json& report,
                               const std::string& name) {
  for (const auto& c : report["cases"]) {
    if (c["name"] == name) return &c;
  }
  return nullptr;
}

const nlohmann::json* FindRule(const nlohmann::json& c,
                               const std::string& rule) {
  for (const auto& r : c["rules"]) {
    if (r["rule"] == rule) return &r;
  }
  return nullptr;
}

TEST(ConformCommandTest, TheEngineConformsToEveryCase) {
  TempDir dir("conform-test");
  const std::string json_file = dir.File("report.json");
  const std::string junit_file = dir.File("report.xml");
  const CliResult r = Cli(
      {"conform", "--sender-cmd", EngineSender(), "--slow-ms", "200",
       "--hang-ms", "6000", "--quiet-ms", "500", "--case-timeout-s", "90",
       "--parallel", "6", "--report-json", json_file, "--junit", junit_file});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("0 failed, 0 could not be judged"), std::string::npos)
      << r.out;

  const nlohmann::json report = nlohmann::json::parse(ReadAll(json_file));
  EXPECT_EQ(report["summary"]["failed"], 0);
  EXPECT_EQ(report["summary"]["could_not_judge"], 0);
  EXPECT_EQ(report["cases"].size(), 12u);
  const auto requests = [&](const std::string& name) {
    const nlohmann::json* c = FindCase(report, name);
    return c ? (*c)["requests"].size() : 0u;
  };
  EXPECT_EQ(requests("ok-200"), 1u);
  EXPECT_EQ(requests("503-then-200"), 2u);
  EXPECT_EQ(requests("always-500"), 6u);
  EXPECT_EQ(requests("redirect-302"), 6u);
  EXPECT_EQ(requests("reply-past-timeout"), 6u);
  EXPECT_EQ(requests("slow-2xx"), 1u);
  EXPECT_EQ(requests("several-events"), 6u);
  // The sender's own output is kept: deliver prints a summary line.
  const nlohmann::json* ok = FindCase(report, "ok-200");
  ASSERT_NE(ok, nullptr);
  EXPECT_FALSE((*ok)["sender"]["stdout"].get<std::string>().empty());
  EXPECT_EQ((*ok)["sender"]["exit_code"], 0);

  // JUnit: the root carries the totals, one testcase per case and rule.
  const std::string xml = ReadAll(junit_file);
  size_t rules = report["summary"]["rules"];
  EXPECT_NE(xml.find("<testsuites name=\"hooksim\" tests=\"" +
                     std::to_string(rules) + "\" failures=\"0\" errors=\"0\""),
            std::string::npos)
      << xml.substr(0, 300);
  EXPECT_NE(xml.find("name=\"always-500/attempts\""), std::string::npos);
  EXPECT_NE(xml.find("name=\"redirect-302/no-redirect\""), std::string::npos);
}

TEST(ConformCommandTest, ACommandThatIsNotFoundIsReportedPerCase) {
  TempDir dir("conform-test");
  const std::string json_file = dir.File("report.json");
  const auto started = std::chrono::steady_clock::now();
  const CliResult r =
      Cli({"conform", "--sender-cmd", "hooksim-no-such-sender-xyz --flag",
           "--cases", "ok-200,always-500", "--quiet-ms", "200",
           "--case-timeout-s", "60", "--report-json", json_file});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  // Not a timeout: each case ends once the shell has exited and the quiet
  // period passed.
  EXPECT_LT(std::chrono::steady_clock::now() - started,
            std::chrono::seconds(50));
  const nlohmann::json report = nlohmann::json::parse(ReadAll(json_file));
  for (const char* name : {"ok-200", "always-500"}) {
    const nlohmann::json* c = FindCase(report, name);
    ASSERT_NE(c, nullptr);
    const nlohmann::json* attempts = FindRule(*c, "attempts");
    ASSERT_NE(attempts, nullptr);
    EXPECT_EQ((*attempts)["verdict"], "fail");
    const std::string message = (*attempts)["message"];
    EXPECT_NE(message.find("the sender exited with 127"), std::string::npos)
        << message;
    EXPECT_NE(message.find("sent nothing"), std::string::npos) << message;
    EXPECT_NE(message.find("not found"), std::string::npos) << message;
    EXPECT_EQ((*FindRule(*c, "method"))["verdict"], "could-not-judge");
  }
}

TEST(ConformCommandTest, ASenderThatExitsAtOnceSentNothing) {
  const CliResult r = Cli({"conform", "--sender-cmd", "exit 0", "--cases",
                           "503-then-200", "--quiet-ms", "200"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("expected 2 attempts, saw 0: the sender exited with 0"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("sent nothing"), std::string::npos);
}

TEST(ConformCommandTest, ASenderThatNeverExitsIsStoppedAtTheBudget) {
  TempDir dir("conform-test");
  const std::string pid_file = dir.File("pid");
  // Its own background child too: both must be gone afterwards.
  const std::string cmd =
      "echo $$ > " + pid_file + "; sleep 300 & sleep 300; wait";
  const auto started = std::chrono::steady_clock::now();
  const CliResult r = Cli({"conform", "--sender-cmd", cmd, "--cases", "ok-200",
                           "--case-timeout-s", "2", "--quiet-ms", "100"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("was still running when the 2.0 s budget ended"),
            std::string::npos)
      << r.out;
  // Budget + grace + teardown; far less than the sender's 300 s.
  EXPECT_LT(took, std::chrono::seconds(60));
  const std::string pid_text = ReadAll(pid_file);
  ASSERT_FALSE(pid_text.empty());
  const pid_t group = static_cast<pid_t>(std::stol(pid_text));
  errno = 0;
  EXPECT_EQ(kill(-group, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(ConformCommandTest, ARuleBreakingSenderIsReportedWithTheRule) {
  if (access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no curl";
  // Sends once, with PUT, no retries.
  const std::string cmd =
      "/usr/bin/curl -s -o /dev/null -X PUT -H 'Content-Type: "
      "application/json' --data-binary \"$(cat \"$HOOKSIM_EVENT_FILE\")\" "
      "\"$HOOKSIM_URL\"";
  TempDir dir("conform-test");
  const std::string junit_file = dir.File("report.xml");
  const CliResult r =
      Cli({"conform", "--sender-cmd", cmd, "--cases", "ok-200,not-found-404",
           "--quiet-ms", "300", "--junit", junit_file});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("expected 6 attempts, saw 1: the sender stopped after "
                       "404"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("expected POST, saw PUT on 1 of 1 requests"),
            std::string::npos)
      << r.out;
  const std::string xml = ReadAll(junit_file);
  EXPECT_NE(xml.find("failures=\"3\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure message=\"expected 6 attempts, saw 1"),
            std::string::npos);
}

// The example senders' verdicts recorded in the README, on the quick cases
// (the others take a full schedule of real backoffs and timeouts).
nlohmann::json RunExample(const std::string& cmd, const std::string& cases,
                          int* code) {
  TempDir dir("conform-test");
  const std::string json_file = dir.File("report.json");
  const CliResult r =
      Cli({"conform", "--sender-cmd", cmd, "--cases", cases, "--parallel", "4",
           "--quiet-ms", "500", "--report-json", json_file});
  *code = r.code;
  return nlohmann::json::parse(ReadAll(json_file));
}

std::string Verdict(const nlohmann::json& report, const std::string& name,
                    const std::string& rule) {
  const nlohmann::json* c = FindCase(report, name);
  if (c == nullptr) return "no case";
  const nlohmann::json* r = FindRule(*c, rule);
  return r ? (*r)["verdict"].get<std::string>() + ": " +
                 (*r)["message"].get<std::string>()
           : "no rule";
}

TEST(ConformCommandTest, PythonRequestsWithRetryDoesNotRetry4xxAndFollows302) {
  if (access("/usr/bin/python3", X_OK) != 0 ||
      system("/usr/bin/python3 -c 'import requests' 2>/dev/null") != 0) {
    GTEST_SKIP() << "no /usr/bin/python3 with requests";
  }
  int code = 0;
  const nlohmann::json report = RunExample(
      "/usr/bin/python3 " +
          testing::SourcePath("examples/senders/requests_retry_sender.py"),
      "ok-200,503-then-200,redirect-302,not-found-404", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(Verdict(report, "ok-200", "attempts").rfind("pass", 0), 0u);
  EXPECT_EQ(Verdict(report, "503-then-200", "attempts").rfind("pass", 0), 0u);
  EXPECT_EQ(Verdict(report, "not-found-404", "attempts")
                .rfind("fail: expected 6 attempts, saw 1: the sender stopped "
                       "after 404",
                       0),
            0u)
      << Verdict(report, "not-found-404", "attempts");
  EXPECT_EQ(Verdict(report, "redirect-302", "no-redirect")
                .rfind("fail: the sender followed the 302", 0),
            0u)
      << Verdict(report, "redirect-302", "no-redirect");
}

TEST(ConformCommandTest, CurlRetryDoesNotRetry4xx) {
  if (access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no curl";
  int code = 0;
  const nlohmann::json report = RunExample(
      "sh " + testing::SourcePath("examples/senders/curl_retry_sender.sh"),
      "ok-200,503-then-200,not-found-404,redirect-302", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(Verdict(report, "ok-200", "attempts").rfind("pass", 0), 0u);
  EXPECT_EQ(Verdict(report, "503-then-200", "attempts").rfind("pass", 0), 0u)
      << Verdict(report, "503-then-200", "attempts");
  EXPECT_EQ(Verdict(report, "not-found-404", "attempts")
                .rfind("fail: expected 6 attempts, saw 1: the sender stopped "
                       "after 404",
                       0),
            0u);
  // Not followed (no -L), but not retried either: curl took the 302 as
  // the answer.
  EXPECT_EQ(Verdict(report, "redirect-302", "no-redirect").rfind("pass", 0),
            0u);
  EXPECT_EQ(Verdict(report, "redirect-302", "attempts")
                .rfind("fail: expected 6 attempts, saw 1: the sender stopped "
                       "after 302",
                       0),
            0u);
}

TEST(ConformCommandTest, JUnitHasOneTestcasePerCaseAndRule) {
  std::vector<CaseResult> results;
  for (const char* name : {"ok-200", "redirect-302"}) {
    CaseResult r;
    r.c = *SelectCases(ConformBattery(BatteryOptions{}), name)->begin();
    r.observation.sender.ended = true;
    r.observation.sender.exit_code = 127;
    r.observation.sender.stderr_text = "sh: 1: <x>: not found\x07\n";
    r.verdicts = JudgeCase(r.c, r.observation);
    results.push_back(std::move(r));
  }
  std::ostringstream out;
  WriteJUnit(ConformJUnit(results, std::chrono::seconds(2)), out);
  const std::string xml = out.str();
  // ok-200: 6 rules; redirect-302: 7 (no-redirect). attempts fail (nothing
  // sent); the others cannot be judged: errors.
  EXPECT_NE(xml.find("<testsuites name=\"hooksim\" tests=\"13\" "
                     "failures=\"2\" errors=\"11\" skipped=\"0\" "
                     "time=\"2.000\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testsuite name=\"hooksim conform\" tests=\"13\""),
            std::string::npos);
  std::set<std::string> names;
  size_t testcases = 0;
  for (size_t at = xml.find("<testcase "); at != std::string::npos;
       at = xml.find("<testcase ", at + 1)) {
    ++testcases;
    const size_t name = xml.find(" name=\"", at) + 7;
    EXPECT_TRUE(
        names.insert(xml.substr(name, xml.find('"', name) - name)).second);
  }
  EXPECT_EQ(testcases, 13u);
  EXPECT_TRUE(names.count("redirect-302/no-redirect"));
  EXPECT_NE(xml.find("<error message=\"no request to judge: the sender exited "
                     "with 127 after 0.0 s and sent nothing (stderr: sh: 1: "
                     "&lt;x&gt;: not found\xEF\xBF\xBD)\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<system-err>sh: 1: &lt;x&gt;: not found\xEF\xBF\xBD\n"
                     "</system-err>"),
            std::string::npos);
}

TEST(ConformCommandTest, BadUsageExits2NamingTheFlag) {
  struct BadCase {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<BadCase> cases = {
      {{"conform"}, "--sender-cmd is required"},
      {{"conform", "--sender-cmd", "  "}, "--sender-cmd: expected a shell"},
      {{"conform", "--sender-cmd", "x", "--parallel", "0"},
       "--parallel: expected an integer 1..32, got \"0\""},
      {{"conform", "--sender-cmd", "x", "--case-timeout-s", "-1"},
       "--case-timeout-s: expected an integer 1..3600, got \"-1\""},
      {{"conform", "--sender-cmd", "x", "--cases", "ok-200,nope"},
       "--cases: unknown case \"nope\""},
      {{"conform", "--sender-cmd", "x", "--slow-ms", "5000", "--hang-ms",
        "4000"},
       "--slow-ms: must be below --hang-ms"},
      {{"conform", "--sender-cmd", "x", "--quiet-ms", "5000",
        "--case-timeout-s", "5"},
       "--quiet-ms: must be below the case budget"},
      {{"conform", "--sender-cmd", "x", "extra"}, "unexpected argument"},
      {{"conform", "--sender-cmd", "x", "--junit",
        "/nonexistent-dir/x/report.xml"},
       "cannot write the file"},
  };
  for (const BadCase& c : cases) {
    const CliResult r = Cli(c.args);
    EXPECT_EQ(r.code, 2) << c.args.back();
    EXPECT_NE(r.err.find(c.message), std::string::npos)
        << c.args.back() << ": " << r.err;
  }
}

TEST(ConformCommandTest, HelpAndListCases) {
  CliResult r = Cli({"conform", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("HOOKSIM_EVENT_FILE"), std::string::npos);
  EXPECT_NE(r.out.find("--hang-ms"), std::string::npos);
  r = Cli({"conform", "--list-cases", "--hang-ms", "4000"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("reply-past-timeout"), std::string::npos);
  EXPECT_NE(r.out.find("200, but only after 4 s"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hooksim
