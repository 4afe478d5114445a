// The command-line bugs a new user found (issue 13, items 6-19): each test
// reproduces what the user typed and checks what should have happened.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "sim/contract/http_types.h"
#include "sim/base/random.h"
#include "sim/cli/receiver_command.h"
#include "tests/test_util.h"

extern char** environ;

namespace hooksim {
namespace {

using testing::Cli;
using testing::CliResult;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/hooksim_cli_hardening_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

size_t Lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

// Item 6: a non-loopback --listen warns (the address below is TEST-NET-1,
// not assigned here, so nothing is served on the network); loopback does
// not; a bad token is refused.
TEST(CliHardeningTest, NonLoopbackListenWarnsAboutTheAdminApi) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.9.9.9"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("192.0.2.1"));
  CliResult r = Cli({"receiver", "--listen", "192.0.2.1:0"});
  EXPECT_EQ(r.code, 2);  // Cannot bind an address this machine lacks.
  EXPECT_NE(r.err.find("warning: --listen 192.0.2.1:0 is not a loopback "
                       "address: the admin API"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--admin-token"), std::string::npos);
  r = Cli({"receiver", "--listen", "192.0.2.1:0", "--admin-token", "t0ken"});
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  r = Cli({"receiver", "--admin-token", "has space"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--admin-token: expected"), std::string::npos) << r.err;
}

// Item 7: only `hooks add` creates a state.
TEST(CliHardeningTest, ReadOnlyCommandsCreateNoStateAtAMistypedPath) {
  TempDir dir;
  const std::string missing = dir / "nonexistent/dir/state.db";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"hooks", "list", "--state", missing},
           {"hooks", "pause", "hk_000000000000", "--state", missing},
           {"deliver", "--resume", "--state", missing},
           {"deliver", "--generate", "1", "--state", missing},
           {"worker", "--state", missing}}) {
    const CliResult r = Cli(args);
    EXPECT_EQ(r.code, 2) << args[0] << " " << args[1];
    EXPECT_NE(r.err.find("no state database at " + missing), std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(dir / "nonexistent")) << args[0] << " " << args[1];
  }
  const std::string empty = dir / "empty.json";
  std::ofstream(empty).close();
  CliResult r = Cli({"hooks", "list", "--state", empty});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(empty + ": an empty file (0 bytes), not a hooksim "
                       "state database"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(fs::file_size(empty), 0u) << "the empty file was left alone";
  r = Cli({"hooks", "add", "http://127.0.0.1:9/x", "--state", missing});
  EXPECT_EQ(r.code, 0) << r.err;
  r = Cli({"hooks", "list", "--state", missing});
  EXPECT_EQ(r.code, 0) << r.err;
}

// Item 9.
TEST(CliHardeningTest, ExtraArgumentsAndUnknownHelpTopicsAreUsageErrors) {
  CliResult r = Cli({"receiver", "foo.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unexpected argument \"foo.json\""), std::string::npos)
      << r.err;
  r = Cli({"events", "5"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unexpected argument \"5\""), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  r = Cli({"help", "nosuch"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command \"nosuch\""), std::string::npos);
  r = Cli({"help", "run"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(Cli({"help"}).code, 0);
}

// Item 11.
TEST(CliHardeningTest, HttpsHookInAScenarioIsRefusedWithItsPointer) {
  TempDir dir;
  const std::string file = dir / "https.json";
  std::ofstream(file) << R"({"name": "https", "seed": 1,
    "receivers": {"ok": {"behavior": {"status": 200}}},
    "hooks": [{"id": "h", "url": "https://example.com/hook"},
              {"id": "r", "receiver": "ok"}],
    "events": {"count": 1}})";
  const CliResult r = Cli({"run", file});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("/hooks/0/url"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("only http:// URLs"), std::string::npos) << r.err;
}

// Item 13: a report path that cannot be written stops the run before it
// starts, and leaves nothing behind.
TEST(CliHardeningTest, ReportPathsAreCheckedBeforeTheRun) {
  TempDir dir;
  fs::create_directories(dir / "adir");
  const std::string scenario = testing::SourcePath("scenarios/always-200.json");
  CliResult r = Cli({"run", scenario, "--report-json", dir / "adir"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out.find("PASS"), std::string::npos) << "nothing ran: " << r.out;
  EXPECT_NE(r.err.find("--report-json"), std::string::npos) << r.err;
  r = Cli({"run", scenario, "--junit", dir / "missing/dir/junit.xml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out.find("PASS"), std::string::npos) << r.out;
  // A writable path: checked without leaving a file when the run then
  // fails to load.
  r = Cli({"run", dir / "no-such.json", "--report-json", dir / "r.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(fs::exists(dir / "r.json"));
  r = Cli({"run", scenario, "--report-json", dir / "r.json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "r.json"));
}

// Item 10.
TEST(CliHardeningTest, TimeScaleBelowTheTimeoutFloorIsRefused) {
  const std::string scenario = testing::SourcePath("scenarios/always-200.json");
  const CliResult r =
      Cli({"run", scenario, "--mode", "http", "--time-scale", "0.0001"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << "nothing ran: " << r.out;
  EXPECT_NE(r.err.find("10000 ms timeout becomes 1 ms of wall time, below the "
                       "floor of 5 ms"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--time-scale 0.0005 or more"), std::string::npos)
      << r.err;
}

// Item 12.
TEST(CliHardeningTest, BenchTargetWithFailureRateIsAUsageError) {
  const CliResult r = Cli({"bench", "--target", "http://127.0.0.1:9/hook",
                           "--failure-rate", "0.5"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--failure-rate"), std::string::npos) << r.err;
}

// Item 15: two ad hoc runs against a receiver that stays up are two sets
// of deliveries, not re-attempts; with --seed they repeat exactly.
TEST(CliHardeningTest, AdHocDeliveriesGetPerRunIdsUnlessSeeded) {
  MockReceiver receiver(ReceiverOptions{"ids", {}, nullptr}, BehaviorSpec{},
                        Random(1));
  HttpReceiverServer server(receiver, {});
  ASSERT_TRUE(server.Start().ok());
  const std::string url = server.base_url() + "/hook";
  auto counts = [&](size_t* deliveries, int* after_success) {
    receiver.WithJournal([&](const Journal& j) {
      *deliveries = j.deliveries().size();
      *after_success = 0;
      for (const auto& d : j.deliveries()) {
        *after_success += d.second.attempts_after_success();
      }
    });
  };
  for (int run = 0; run < 2; ++run) {
    const CliResult r = Cli({"deliver", "--url", url, "--count", "3"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }
  size_t deliveries = 0;
  int after_success = 0;
  counts(&deliveries, &after_success);
  EXPECT_EQ(deliveries, 6u);
  EXPECT_EQ(after_success, 0);
  receiver.Reset();
  for (int run = 0; run < 2; ++run) {
    const CliResult r =
        Cli({"deliver", "--url", url, "--count", "3", "--seed", "7"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }
  counts(&deliveries, &after_success);
  EXPECT_EQ(deliveries, 3u) << "seeded runs reuse their ids";
  EXPECT_EQ(after_success, 3);
  server.Stop();
}

// Item 14: a host name that does not resolve is its own outcome. (An
// empty label makes the resolver refuse the name locally: no DNS query
// leaves the machine.)
TEST(CliHardeningTest, AnUnresolvableHostIsDnsNotRefused) {
  const CliResult r = Cli({"deliver", "--url", "http://no-such-host..invalid/hook",
                           "--retry-schedule-ms", "0", "--timeout-ms", "200"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.out.find("attempt 1/6  dns"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("last=dns"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("refused"), std::string::npos) << r.out;
  EXPECT_EQ(ParseAttemptError("dns"), AttemptError::kDns);
}

// Item 17: a file given twice gives no duplicate (classname, name) pair;
// virtual-world cases have a time; suites carry timestamp and hostname.
TEST(CliHardeningTest, JUnitHasUniqueCasesTimesTimestampAndHostname) {
  TempDir dir;
  const std::string scenario = testing::SourcePath("scenarios/always-200.json");
  const std::string junit = dir / "junit.xml";
  const CliResult r = Cli({"run", scenario, scenario, "--junit", junit});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f(junit);
  std::stringstream text;
  text << f.rdbuf();
  const std::string xml = text.str();
  std::set<std::string> pairs;
  size_t cases = 0;
  for (size_t at = xml.find("<testcase "); at != std::string::npos;
       at = xml.find("<testcase ", at + 1)) {
    const std::string tag = xml.substr(at, xml.find('>', at) - at);
    const size_t name_end = tag.find("\" time=");
    pairs.insert(tag.substr(0, name_end));
    ++cases;
    EXPECT_EQ(tag.find("time=\"0.000\""), std::string::npos) << tag;
  }
  EXPECT_GT(cases, 2u);
  EXPECT_EQ(pairs.size(), cases) << xml;
  EXPECT_NE(xml.find(" (2)\""), std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"always-200\""), std::string::npos);
  EXPECT_NE(xml.find(" timestamp=\"20"), std::string::npos) << xml.substr(0, 400);
  EXPECT_NE(xml.find(" hostname=\""), std::string::npos);
}

// Item 16.
TEST(CliHardeningTest, ValidateOnABinaryFileIsOneLineAndExit2) {
  TempDir dir;
  const std::string file = dir / "binary";
  {
    std::ofstream f(file, std::ios::binary);
    for (int i = 0; i < 3000; ++i) f.put(static_cast<char>((i * 37) % 256));
  }
  const CliResult r = Cli({"validate", file});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("not a text file"), std::string::npos) << r.err;
}

// Item 18: what the user can act on, not SQLite's words.
TEST(CliHardeningTest, StateErrorsSayWhatTheUserCanActOn) {
  TempDir dir;
  const std::string foreign = dir / "notes.txt";
  std::ofstream(foreign) << "these are my notes, not a database\n";
  CliResult r = Cli({"hooks", "list", "--state", foreign});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(foreign + ": not a hooksim state database"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("file is not a database"), std::string::npos) << r.err;
  r = Cli({"hooks", "add", "http://127.0.0.1:9/x", "--state", dir / ""});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not a state database (not a regular file)"),
            std::string::npos)
      << r.err;
}

// Item 8: `run --mode http` stopped by a signal says so, prints and
// reports the scenarios finished so far, exits 130 (SIGINT) or 143
// (SIGTERM); also when started with SIGINT ignored (a background job of a
// script).
struct Spawned {
  pid_t pid = -1;
  int out_fd = -1;
  int err_fd = -1;
};

Spawned SpawnHooksim(std::vector<std::string> args, bool ignore_sigint) {
  int out_pipe[2];
  int err_pipe[2];
  EXPECT_EQ(pipe(out_pipe), 0);
  EXPECT_EQ(pipe(err_pipe), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  if (!ignore_sigint) sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  struct sigaction old {};
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  if (ignore_sigint) sigaction(SIGINT, &ignore, &old);  // Inherited as ignored.
  args.insert(args.begin(), HOOKSIM_BINARY);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Spawned s;
  EXPECT_EQ(posix_spawn(&s.pid, HOOKSIM_BINARY, &actions, &attr, argv.data(),
                        environ),
            0);
  if (ignore_sigint) sigaction(SIGINT, &old, nullptr);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out_pipe[1]);
  close(err_pipe[1]);
  s.out_fd = out_pipe[0];
  s.err_fd = err_pipe[0];
  return s;
}

// Reads fd until `done(text)` or EOF or 60 s (a failure bound only).
template <typename Done>
void ReadUntil(int fd, std::string& text, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  while (!done(text) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return;
    text.append(buf, static_cast<size_t>(n));
  }
}

int WaitExit(pid_t pid) {
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ExpectInterruptedRun(int signal, bool ignore_sigint, int want_code) {
  TempDir dir;
  const std::string report = dir / "report.json";
  const std::string junit = dir / "junit.xml";
  // always-200 ends in well under a second at this scale; hang-past-timeout
  // then runs for minutes (its hangs end only at the sender's timeout).
  Spawned s = SpawnHooksim(
      {"run", testing::SourcePath("scenarios/always-200.json"),
       testing::SourcePath("scenarios/hang-past-timeout.json"), "--mode",
       "http", "--time-scale", "0.05", "--report-json", report, "--junit",
       junit},
      ignore_sigint);
  std::string out;
  ReadUntil(s.out_fd, out, [](const std::string& t) {
    return t.find("PASS  always-200") != std::string::npos;
  });
  ASSERT_NE(out.find("PASS  always-200"), std::string::npos) << out;
  kill(s.pid, signal);
  ReadUntil(s.out_fd, out, [](const std::string&) { return false; });
  std::string err;
  ReadUntil(s.err_fd, err, [](const std::string&) { return false; });
  close(s.out_fd);
  close(s.err_fd);
  EXPECT_EQ(WaitExit(s.pid), want_code) << out << err;
  EXPECT_NE(out.find("1 scenario: 1 passed, 0 failed (interrupted: 1 of 2 "
                     "finished)"),
            std::string::npos)
      << out;
  EXPECT_NE(err.find("hooksim run: interrupted"), std::string::npos) << err;
  std::ifstream f(report);
  const nlohmann::json doc = nlohmann::json::parse(f, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "a report was written";
  ASSERT_EQ(doc["scenarios"].size(), 1u);
  EXPECT_EQ(doc["scenarios"][0]["name"], "always-200");
  EXPECT_TRUE(fs::exists(junit));
}

TEST(CliHardeningTest, HttpRunStopsOnSigintWithReports) {
  ExpectInterruptedRun(SIGINT, /*ignore_sigint=*/false, 130);
}

TEST(CliHardeningTest, HttpRunStopsOnSigintEvenWhenStartedIgnoringIt) {
  ExpectInterruptedRun(SIGINT, /*ignore_sigint=*/true, 130);
}

TEST(CliHardeningTest, HttpRunStopsOnSigtermWith143) {
  ExpectInterruptedRun(SIGTERM, /*ignore_sigint=*/false, 143);
}

}  // namespace
}  // namespace hooksim
