// `hooksim bench --sender-cmd` and --threshold: a scripted sender
// (tests/senders/scripted_sender.py) with a known habit against receivers
// that fail first attempts gives exact counts from the receivers' side;
// thresholds set the exit code and the JUnit report. No figure of speed is
// asserted.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/cli/bench_command.h"
#include "sim/report/thresholds.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using ::hooksim::testing::Cli;
using ::hooksim::testing::CliResult;

constexpr char kFailFirst[] = R"({"sequence":[503,200],"per":"delivery"})";

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/sender_bench_test_" +
         std::to_string(getpid()) + "_" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The scripted sender with `env` ("SCRIPTED_RESENDS=1 ") in front.
std::string Scripted(const std::string& env = "") {
  return env + "/usr/bin/python3 " +
         testing::SourcePath("tests/senders/scripted_sender.py");
}

bool HavePython() { return access("/usr/bin/python3", X_OK) == 0; }

// Runs `hooksim bench --sender-cmd CMD ARGS... --report-json F`.
nlohmann::json RunSender(const std::string& cmd,
                         std::vector<std::string> args, CliResult* result) {
  const std::string json = TempPath("report.json");
  std::remove(json.c_str());
  std::vector<std::string> all = {"bench", "--sender-cmd", cmd,
                                  "--report-json", json, "--quiet-ms", "300"};
  all.insert(all.end(), args.begin(), args.end());
  *result = Cli(all);
  const std::string text = ReadAll(json);
  std::remove(json.c_str());
  return text.empty() ? nlohmann::json() : nlohmann::json::parse(text);
}

TEST(SenderBenchTest, CountsEveryAttemptOfARetryingSenderExactly) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  CliResult r;
  const nlohmann::json j =
      RunSender(Scripted(), {"--count", "25", "--receivers", "2",
                             "--behavior", kFailFirst}, &r);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("deliveries/s"), std::string::npos) << r.out;
  EXPECT_EQ(j["model"], "closed");
  EXPECT_EQ(j["events"], 25);
  EXPECT_EQ(j["events_taken"], 25);
  EXPECT_EQ(j["deliveries"], 50);  // events x receivers.
  EXPECT_EQ(j["delivered"], 50);
  EXPECT_EQ(j["never_seen"], 0);
  EXPECT_EQ(j["attempts"], 100);  // 503, then 200: two each.
  EXPECT_EQ(j["duplicates"], 0);
  EXPECT_EQ(j["unmatched_requests"], 0);
  EXPECT_EQ(j["answers"]["503"], 50);
  EXPECT_EQ(j["answers"]["200"], 50);
  EXPECT_EQ(j["publish_to_first_attempt_ms"]["count"], 50);
  EXPECT_EQ(j["publish_to_first_2xx_ms"]["count"], 50);
  EXPECT_LE(j["publish_to_first_attempt_ms"]["p50"].get<double>(),
            j["publish_to_first_2xx_ms"]["max"].get<double>());
  EXPECT_GT(j["deliveries_per_s"].get<double>(), 0);
  EXPECT_EQ(j["sender"]["exit_code"], 0);
  ASSERT_EQ(j["per_receiver"].size(), 2u);
  for (const auto& receiver : j["per_receiver"]) {
    EXPECT_EQ(receiver["delivered"], 25);
    EXPECT_EQ(receiver["attempts"], 50);
  }
}

TEST(SenderBenchTest, ResendsAfterA2xxAreDuplicates) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  CliResult r;
  const nlohmann::json j = RunSender(Scripted("SCRIPTED_RESENDS=2 "),
                                     {"--count", "10"}, &r);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(j["delivered"], 10);
  EXPECT_EQ(j["attempts"], 30);
  EXPECT_EQ(j["duplicates"], 20);
}

constexpr char kFailTwice[] =
    R"({"sequence":[503,503,200],"per":"delivery"})";

TEST(SenderBenchTest, RetryGapsOfASenderKeepingTheScheduleAreNeverEarly) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  CliResult r;
  // The sender sleeps HOOKSIM_RETRY_SCHEDULE_MS's delays after reading
  // each 503, so no gap can be shorter than its delay; how much longer
  // depends on the machine and is not asserted.
  const nlohmann::json j = RunSender(
      Scripted("SCRIPTED_TAKE_SCHEDULE=1 "),
      {"--count", "4", "--behavior", kFailTwice, "--retry-schedule-ms",
       "300,400"},
      &r);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(j["retry_schedule_ms"], "300,400");
  EXPECT_EQ(j["delivered"], 4);
  EXPECT_EQ(j["attempts"], 12);
  EXPECT_EQ(j["retry_gaps"]["gaps"], 8);  // Two re-attempts per delivery.
  EXPECT_GE(j["retry_gaps"]["worst_error_ms"].get<double>(), -5.0);
  EXPECT_NE(r.out.find("retry gaps  8 against 300,400 ms"), std::string::npos)
      << r.out;
  // One keep-alive connection to the one receiver, all along.
  EXPECT_EQ(j["peak_open_connections"], 1);
  EXPECT_EQ(j["per_receiver"][0]["peak_open_connections"], 1);
}

TEST(SenderBenchTest, ASenderIgnoringTheScheduleIsReportedFarOffIt) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  CliResult r;
  // Re-attempts at once against delays of a second: every gap is short
  // by about a second.
  const nlohmann::json j = RunSender(
      Scripted(), {"--count", "3", "--behavior", kFailTwice,
                   "--retry-schedule-ms", "1000", "--jitter", "0.2"},
      &r);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(j["retry_gaps"]["gaps"], 6);
  EXPECT_EQ(j["retry_gaps"]["outside_schedule"], 6);
  EXPECT_LT(j["retry_gaps"]["worst_error_ms"].get<double>(), -500.0);
  EXPECT_GT(j["retry_gaps"]["mean_abs_error_ms"].get<double>(), 500.0);
  // A threshold on the gaps sees them.
  const CliResult failed = Cli(
      {"bench", "--sender-cmd", Scripted(), "--count", "2", "--behavior",
       kFailTwice, "--retry-schedule-ms", "1000", "--quiet-ms", "300",
       "--threshold", "retry_gaps.outside_schedule==0"});
  EXPECT_EQ(failed.code, 1) << failed.err << failed.out;
}

TEST(SenderBenchTest, RefusedRequestsAreErrorsByKind) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  CliResult r;
  const nlohmann::json j =
      RunSender(Scripted("SCRIPTED_GARBAGE=3 "), {"--count", "5"}, &r);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(j["errors"]["bad_request"], 3);
  EXPECT_EQ(j["errors"]["abandoned"], 0);
  EXPECT_EQ(j["errors"]["schema_invalid"], 0);
  EXPECT_EQ(j["errors"]["signature_invalid"], 0);
  EXPECT_EQ(j["per_receiver"][0]["errors"]["bad_request"], 3);
  EXPECT_EQ(j["delivered"], 5);
  EXPECT_NE(r.out.find("errors      bad_request=3"), std::string::npos)
      << r.out;
  // Without --retry-schedule-ms the sender is handed what conform hands
  // it: one delay per re-attempt of the contract (divshot: 5).
  EXPECT_EQ(j["retry_schedule_ms"], "500,750,1000,1250,1500");
  const CliResult threshold =
      Cli({"bench", "--sender-cmd", Scripted("SCRIPTED_GARBAGE=1 "),
           "--count", "2", "--quiet-ms", "300", "--threshold",
           "errors.bad_request==0"});
  EXPECT_EQ(threshold.code, 1) << threshold.err << threshold.out;
}

TEST(SenderBenchTest, ASigningContractHandsOverTheSecretAndChecksIt) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  CliResult r;
  const nlohmann::json j =
      RunSender(Scripted("SCRIPTED_SIGN=1 "),
                {"--count", "4", "--contract", "standard-webhooks"}, &r);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(j["delivered"], 4);
  EXPECT_EQ(j["errors"]["signature_invalid"], 0);
  // Unsigned: every attempt is answered 401 and counted.
  CliResult u;
  const nlohmann::json unsigned_run = RunSender(
      Scripted(), {"--count", "4", "--contract", "standard-webhooks"}, &u);
  ASSERT_EQ(u.code, 0) << u.err << u.out;
  EXPECT_EQ(unsigned_run["delivered"], 0);
  EXPECT_EQ(unsigned_run["answers"]["401"], 12);  // 3 attempts each.
  EXPECT_EQ(unsigned_run["errors"]["signature_invalid"], 12);
}

TEST(SenderBenchTest, VsEngineMeasuresTheEngineTheSameWayOnTheSameEvents) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  CliResult r;
  const nlohmann::json j = RunSender(
      Scripted(), {"--count", "5", "--receivers", "2", "--behavior",
                   kFailFirst, "--retry-schedule-ms", "50", "--vs-engine",
                   "--threshold", "engine.delivered==10"},
      &r);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(j["delivered"], 10);
  EXPECT_EQ(j["attempts"], 20);
  // hooksim deliver, one per receiver, judged from the same receivers'
  // side: 503 then 200 for every delivery, re-attempted after 50 ms.
  const nlohmann::json& e = j["engine"];
  EXPECT_EQ(e["events"], 5);
  EXPECT_EQ(e["deliveries"], 10);
  EXPECT_EQ(e["delivered"], 10);
  EXPECT_EQ(e["attempts"], 20);
  EXPECT_EQ(e["duplicates"], 0);
  EXPECT_EQ(e["retry_gaps"]["gaps"], 10);
  EXPECT_EQ(e["sender"]["exit_code"], 0);
  EXPECT_GT(j["vs_engine"]["deliveries_per_s"].get<double>(), 0);
  EXPECT_NE(r.out.find("vs engine"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pass engine.delivered = 10"), std::string::npos)
      << r.out;
  const CliResult open = Cli({"bench", "--sender-cmd", "true", "--vs-engine",
                              "--rate", "10"});
  EXPECT_EQ(open.code, 2);
  EXPECT_NE(open.err.find("--vs-engine with --rate"), std::string::npos)
      << open.err;
  const CliResult alone = Cli({"bench", "--vs-engine"});
  EXPECT_EQ(alone.code, 2);
  EXPECT_NE(alone.err.find("--vs-engine applies to --sender-cmd only"),
            std::string::npos)
      << alone.err;
}

TEST(SenderBenchTest, ASenderThatGivesUpLeavesDeliveriesUndelivered) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  CliResult r;
  // One attempt each against 503-first receivers: nothing gets its 2xx.
  const nlohmann::json j = RunSender(Scripted("SCRIPTED_ATTEMPTS=1 "),
                                     {"--count", "8", "--behavior",
                                      kFailFirst}, &r);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(j["delivered"], 0);
  EXPECT_EQ(j["attempts"], 8);
  EXPECT_EQ(j["answers"]["503"], 8);
  EXPECT_EQ(j["publish_to_first_attempt_ms"]["count"], 8);
  EXPECT_EQ(j["publish_to_first_2xx_ms"]["count"], 0);
}

TEST(SenderBenchTest, ASenderThatExitsAtOnceIsReportedPlainly) {
  CliResult r;
  const nlohmann::json j = RunSender("echo 'cannot start: no config' >&2; exit 3",
                                     {"--count", "5"}, &r);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(j["delivered"], 0);
  EXPECT_EQ(j["never_seen"], 5);
  EXPECT_EQ(j["sender"]["exit_code"], 3);
  EXPECT_EQ(j["sender"]["stderr_tail"], "cannot start: no config");
  EXPECT_EQ(j["budget_ended"], false);
  EXPECT_NE(r.out.find("exited with 3"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("delivered nothing"), std::string::npos) << r.err;
}

TEST(SenderBenchTest, ASenderThatNeverEndsIsStoppedAtTheBudgetWithItsGroup) {
  const std::string pid_file = TempPath("bg.pid");
  std::remove(pid_file.c_str());
  CliResult r;
  // Reads nothing (5000 events of ~310 bytes overflow its standard input's
  // buffer), leaves a background process behind, never exits.
  const nlohmann::json j = RunSender(
      "sleep 300 & echo $! > " + pid_file + "; sleep 300",
      {"--count", "5000", "--sender-wait-s", "0.5"}, &r);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(j["budget_ended"], true);
  EXPECT_EQ(j["never_seen"], 5000);
  EXPECT_LT(j["events_taken"].get<int>(), 5000);
  EXPECT_EQ(j["sender"]["signal"], 15);
  const std::string pid_text = ReadAll(pid_file);
  std::remove(pid_file.c_str());
  ASSERT_FALSE(pid_text.empty());
  const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
  EXPECT_EQ(kill(pid, 0), -1);  // Nothing left behind.
  EXPECT_EQ(errno, ESRCH);
}

// True when `pid` is gone: no such process, or a zombie (dead, not yet
// reaped by whichever process adopted it).
bool Gone(pid_t pid) {
  if (kill(pid, 0) == -1 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() &&
         line[close + 2] == 'Z';
}

// SIGTERM (a cancelled CI job) stops the bench as Ctrl-C does: exit 143,
// and the user's sender is stopped with its whole process group.
TEST(SenderBenchTest, SigtermStopsTheSenderWithItsGroup) {
  const std::string pid_file = TempPath("term.pid");
  std::remove(pid_file.c_str());
  std::vector<std::string> args = {
      HOOKSIM_BINARY, "bench", "--sender-cmd",
      "sleep 300 & echo $! > " + pid_file + "; sleep 300", "--count", "5",
      "--sender-wait-s", "120"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, HOOKSIM_BINARY, &actions, nullptr, argv.data(),
                        environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  // The sender has started once it wrote its background pid (a failure
  // bound of 20 s, not a speed figure).
  std::string pid_text;
  for (int i = 0; i < 2000 && pid_text.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pid_text = ReadAll(pid_file);
    if (!pid_text.empty() && pid_text.back() != '\n') pid_text.clear();
  }
  kill(pid, SIGTERM);
  int status = -1;
  for (int i = 0; i < 2000 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!WIFEXITED(status) && !WIFSIGNALED(status)) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ADD_FAILURE() << "hooksim bench did not stop on SIGTERM";
  }
  std::remove(pid_file.c_str());
  ASSERT_FALSE(pid_text.empty()) << "the sender never started";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 143) << status;
  const pid_t background = static_cast<pid_t>(std::stol(pid_text));
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = Gone(background);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "the sender's background process " << background
                    << " was left running";
  if (!gone) kill(background, SIGKILL);
}

TEST(SenderBenchTest, OpenModelPublishesEachEventAtItsTime) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  CliResult r;
  const nlohmann::json j =
      RunSender(Scripted(), {"--count", "20", "--rate", "400"}, &r);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(j["model"], "open");
  EXPECT_EQ(j["rate"], 400);
  EXPECT_EQ(j["delivered"], 20);
  EXPECT_EQ(j["publish_lag_ms"]["count"], 20);
}

TEST(SenderBenchTest, TheUsersOwnPayloadsAreTheEvents) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  const std::string events = TempPath("events.jsonl");
  {
    std::ofstream out(events);
    out << R"({"event":"ping","data":{"n":1}})" << "\n"
        << R"({"event":"ping","data":{"n":2}})" << "\n";
  }
  CliResult r;
  const nlohmann::json j =
      RunSender(Scripted(), {"--event-file", events}, &r);
  std::remove(events.c_str());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(j["events"], 2);
  EXPECT_EQ(j["delivered"], 2);
  EXPECT_EQ(j["attempts"], 2);
}

TEST(SenderBenchTest, AFailedThresholdExits1AndFailsItsJUnitCase) {
  if (!HavePython()) GTEST_SKIP() << "no /usr/bin/python3";
  const std::string junit = TempPath("thresholds.xml");
  CliResult r;
  const nlohmann::json j = RunSender(
      Scripted(), {"--count", "5", "--behavior", kFailFirst, "--threshold",
                   "attempts==10", "--threshold", "duplicates>0",
                   "--threshold", "answers.429<1", "--junit", junit},
      &r);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(j["attempts"], 10);
  EXPECT_NE(r.out.find("FAIL duplicates = 0 (fails duplicates>0)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("1 of 3 thresholds failed"), std::string::npos)
      << r.err;
  const std::string xml = ReadAll(junit);
  std::remove(junit.c_str());
  EXPECT_NE(xml.find("tests=\"3\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("failures=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"threshold: duplicates&gt;0\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<failure"), std::string::npos) << xml;
}

TEST(SenderBenchTest, ThresholdsOnUnknownFiguresAreUsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"bench", "--sender-cmd", "true", "--threshold", "no_such_figure<1"},
           {"bench", "--threshold", "no_such_figure<1"},
           {"bench", "--sender-cmd", "true", "--threshold",
            "publish_to_first_attempt_ms.p98<1"}}) {
    const CliResult r = Cli(args);
    EXPECT_EQ(r.code, 2) << args.back();
    EXPECT_NE(r.err.find("unknown figure"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(args.back().substr(0, args.back().find('<'))),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  const CliResult bad = Cli({"bench", "--threshold", "deliveries_per_s=>5"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("deliveries_per_s=>5"), std::string::npos) << bad.err;
  const CliResult text = Cli({"bench", "--sender-cmd", "true", "--threshold",
                              "model==1"});
  EXPECT_EQ(text.code, 2);
  EXPECT_NE(text.err.find("not a number"), std::string::npos) << text.err;
}

TEST(SenderBenchTest, EngineOnlyFlagsAreRefusedWithASender) {
  for (const auto& [flag, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"--target", "http://127.0.0.1:9/x"},
           {"--timeout-ms", "1000"},
           {"--concurrency", "4"}}) {
    const CliResult r = Cli({"bench", "--sender-cmd", "true", flag, value});
    EXPECT_EQ(r.code, 2) << flag;
    EXPECT_NE(r.err.find(flag + " is for the engine's own bench"),
              std::string::npos)
        << r.err;
  }
  const CliResult r =
      Cli({"bench", "--sender-cmd", "true", "--duration-s", "1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--rate"), std::string::npos) << r.err;
  const CliResult many =
      Cli({"bench", "--sender-cmd", "true", "--count", "100001"});
  EXPECT_EQ(many.code, 2);
  EXPECT_NE(many.err.find("at most 100000 events"), std::string::npos)
      << many.err;
}

TEST(EngineBenchThresholdTest, ThresholdsSetTheEnginesExitCode) {
  const CliResult pass = Cli({"bench", "--count", "20", "--concurrency", "2",
                              "--threshold", "delivered==20", "--threshold",
                              "outcomes.http_500==0"});
  EXPECT_EQ(pass.code, 0) << pass.err;
  EXPECT_NE(pass.out.find("pass delivered = 20"), std::string::npos)
      << pass.out;
  const CliResult fail = Cli({"bench", "--count", "20", "--concurrency", "2",
                              "--threshold", "gave_up>0"});
  EXPECT_EQ(fail.code, 1) << fail.err;
}

TEST(EngineBenchThresholdTest, RateAndEventFileDriveTheEngine) {
  const std::string events = TempPath("engine-events.jsonl");
  const std::string json = TempPath("engine.json");
  {
    std::ofstream out(events);
    out << R"({"event":"ping","data":{"n":1}})" << "\n"
        << R"({"event":"ping","data":{"n":2}})" << "\n"
        << R"({"event":"ping","data":{"n":3}})" << "\n";
  }
  const CliResult r =
      Cli({"bench", "--count", "9", "--rate", "500", "--event-file", events,
           "--concurrency", "2", "--report-json", json});
  std::remove(events.c_str());
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadAll(json));
  std::remove(json.c_str());
  EXPECT_EQ(j["events"], 9);
  EXPECT_EQ(j["delivered"], 9);
  EXPECT_EQ(j["receiver_requests"], 9);
  EXPECT_EQ(j["model"], "open");
  EXPECT_EQ(j["publish_lag_ms"]["count"], 9);
}

TEST(ThresholdTest, ParsesEveryOperator) {
  struct Case {
    const char* text;
    ThresholdOp op;
    double value;
  };
  for (const Case& c : {Case{"a>=1", ThresholdOp::kGreaterEqual, 1},
                        Case{"a <= 2.5", ThresholdOp::kLessEqual, 2.5},
                        Case{"a==0", ThresholdOp::kEqual, 0},
                        Case{"a>-1", ThresholdOp::kGreater, -1},
                        Case{"a<1e3", ThresholdOp::kLess, 1000}}) {
    Result<Threshold> t = ParseThreshold(c.text);
    ASSERT_TRUE(t.ok()) << c.text;
    EXPECT_EQ(t->figure, "a");
    EXPECT_EQ(t->op, c.op) << c.text;
    EXPECT_EQ(t->value, c.value) << c.text;
  }
  for (const char* bad : {"a", "a=1", ">=1", "a>=", "a>=x", "a>=1 2"}) {
    EXPECT_FALSE(ParseThreshold(bad).ok()) << bad;
  }
}

TEST(ThresholdTest, EvaluatesDottedFigures) {
  const nlohmann::ordered_json report = nlohmann::ordered_json::parse(
      R"({"x":{"p99":12.5},"answers":{"200":3},"list":[{"n":4}],"b":true})");
  std::vector<Threshold> ts;
  for (const char* text : {"x.p99<13", "x.p99<12", "answers.200==3",
                           "answers.503==0", "list.0.n>=4", "b==1"}) {
    ts.push_back(*ParseThreshold(text));
  }
  const std::vector<ThresholdResult> r = EvaluateThresholds(ts, report);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_TRUE(r[0].passed);
  EXPECT_FALSE(r[1].passed);
  EXPECT_EQ(r[1].actual, 12.5);
  EXPECT_TRUE(r[2].passed);
  EXPECT_TRUE(r[3].passed);
  EXPECT_TRUE(r[4].passed);
  EXPECT_TRUE(r[5].passed);
  EXPECT_FALSE(ThresholdFigure(*ParseThreshold("x.p98<1"), report).ok());
  EXPECT_FALSE(ThresholdFigure(*ParseThreshold("list.1.n<1"), report).ok());
}

}  // namespace
}  // namespace hooksim
