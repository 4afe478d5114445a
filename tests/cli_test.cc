#include "sim/cli/cli.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mock-receivers/http/http_receiver_server.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using testing::Cli;
using testing::CliResult;

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
  EXPECT_NE(r.out.find("receiver"), std::string::npos);
  r = Cli({"help", "receiver"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--listen"), std::string::npos);
  EXPECT_NE(r.out.find("/__hooksim/stats"), std::string::npos);
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

// Each bad flag is exit 2 with a message naming the flag and the value;
// none of these reaches the point of serving.
TEST(CliTest, ReceiverBadFlagsAreUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> expected;  // Substrings of the message.
  };
  const std::vector<Case> cases = {
      {{"--listen", "nope"}, {"--listen", "\"nope\""}},
      {{"--listen", "127.0.0.1:70000"}, {"--listen", "70000"}},
      {{"--listen", "127.0.0.1:-1"}, {"--listen"}},
      {{"--listen", "256.1.1.1:0"}, {"--listen 256.1.1.1:0"}},
      {{"--behavior", R"({"sequence": [200, 700]})"},
       {"--behavior", "/sequence/1", "700"}},
      {{"--behavior", "{bad"}, {"--behavior", "invalid JSON"}},
      {{"--behavior-file", "/nonexistent/b.json"},
       {"--behavior-file", "/nonexistent/b.json", "cannot open"}},
      {{"--scenario", "/nonexistent/s.json"},
       {"--scenario", "/nonexistent/s.json"}},
      {{"--behavior", "{}", "--scenario", "x.json"}, {"at most one"}},
      {{"--time-scale", "0"}, {"--time-scale", "\"0\""}},
      {{"--time-scale", "2"}, {"--time-scale"}},
      {{"--journal-capacity", "0"}, {"--journal-capacity"}},
      {{"--seed", "-1"}, {"--seed"}},
      {{"--bogus"}, {"bogus"}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"receiver"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CliResult r = Cli(args);
    EXPECT_EQ(r.code, 2) << c.args[0] << " " << r.err;
    for (const std::string& e : c.expected) {
      EXPECT_NE(r.err.find(e), std::string::npos)
          << "expected \"" << e << "\" in: " << r.err;
    }
    EXPECT_EQ(r.out, "");
  }
}

TEST(CliTest, ReceiverOnAUsedPortIsAUsageError) {
  MockReceiver receiver(ReceiverOptions{"busy", {}, nullptr}, BehaviorSpec{},
                        Random(1));
  HttpReceiverServer busy(receiver, HttpReceiverOptions{});
  ASSERT_TRUE(busy.Start().ok());
  const std::string listen = "127.0.0.1:" + std::to_string(busy.port());
  CliResult r = Cli({"receiver", "--listen", listen});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--listen " + listen), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
  busy.Stop();
}

// The built binary, end to end: start on a kernel-chosen port, read the
// printed URL, send a webhook, SIGINT, exit 0 with a summary.
TEST(CliTest, ReceiverBinaryServesUntilSigint) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  const std::string behavior = R"({"sequence":[503,200],"per":"delivery"})";
  std::vector<std::string> args = {HOOKSIM_BINARY, "receiver",   "--listen",
                                   "127.0.0.1:0",  "--behavior", behavior};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, HOOKSIM_BINARY, &actions, nullptr, argv.data(),
                        environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  const int out_fd = pipe_fds[0];

  // Reads stdout until `done` holds or 10 s pass (a failure bound only).
  std::string output;
  auto read_until = [&](auto done) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    char buf[1024];
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = read(out_fd, buf, sizeof(buf));
      if (n <= 0) break;
      output.append(buf, static_cast<size_t>(n));
    }
    return done();
  };
  const bool printed =
      read_until([&] { return output.find("serving") != std::string::npos; });
  int port = 0;
  const std::string marker = "http://127.0.0.1:";
  if (const size_t at = output.find(marker); at != std::string::npos) {
    port = std::stoi(output.substr(at + marker.size()));
  }
  if (printed && port > 0) {
    EXPECT_EQ(output.rfind("receiver default  http://127.0.0.1:", 0), 0u)
        << output;
    EXPECT_NE(output.find("/hook  admin http://127.0.0.1:"), std::string::npos);
    httplib::Client client("127.0.0.1", port);
    client.set_tcp_nodelay(true);
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(5));
    client.set_write_timeout(std::chrono::seconds(5));
    const httplib::Headers id = {{"X-Hooksim-Delivery", "dlv_e2e"}};
    auto first = client.Post("/hook", id, "{}", "application/json");
    auto second = client.Post("/hook", id, "{}", "application/json");
    EXPECT_TRUE(first && first->status == 503);
    EXPECT_TRUE(second && second->status == 200);
  } else {
    ADD_FAILURE() << "no URL printed: " << output;
  }

  kill(pid, SIGINT);
  int status = -1;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "hooksim receiver did not stop on SIGINT";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  read_until([] { return false; });  // The rest, up to EOF.
  close(out_fd);
  EXPECT_NE(output.find("receiver default  requests=2 deliveries=1 "
                        "delivered=1"),
            std::string::npos)
      << output;
}

}  // namespace
}  // namespace hooksim
