// Contract profiles on the durable sender: `hooks add --contract`, and
// `--contract` on `deliver` (store-backed), `deliver --resume`, `worker`
// and `bench`. Loopback only; every wait is bounded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "sim/durable/state_store.h"
#include "tests/loopback_servers.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using testing::Cli;
using testing::CliResult;
using testing::HttplibServer;

// Answers per path: /gone 410, /fail 500, /ok 200, /busy 429 with
// "Retry-After: 1" then 200 (per delivery id). Records the arrival time
// per delivery id.
class ProfileReceiver {
 public:
  ProfileReceiver() {
    server_.server().Post(R"(/(gone|fail|ok|busy))", [this](const auto& req,
                                                            auto& res) {
      std::lock_guard<std::mutex> lock(mu_);
      const std::string id = req.get_header_value("X-Hooksim-Delivery");
      const int n = ++per_delivery_[id];
      ++per_path_[req.path];
      arrivals_[id].push_back(std::chrono::steady_clock::now());
      if (req.path == "/gone") res.status = 410;
      if (req.path == "/fail") res.status = 500;
      if (req.path == "/ok") res.status = 200;
      if (req.path == "/busy") {
        res.status = n == 1 ? 429 : 200;
        if (n == 1) res.set_header("Retry-After", "1");
      }
      res.set_content("{}", "application/json");
    });
    server_.Start();
  }
  std::string url(const std::string& path) const { return server_.url(path); }
  int Count(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return per_path_[path];
  }
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>>
  arrivals() {
    std::lock_guard<std::mutex> lock(mu_);
    return arrivals_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> per_delivery_;
  std::map<std::string, int> per_path_;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>>
      arrivals_;
  HttplibServer server_;  // Last: stopped first.
};

int64_t QueryInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return -1;
  sqlite3_stmt* q = nullptr;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW) {
    v = sqlite3_column_int64(q, 0);
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return v;
}

class DurableContractTest : public ::testing::Test {
 protected:
  DurableContractTest() {
    char tmpl[] = "/tmp/hooksim_dcontract_XXXXXX";
    dir_ = mkdtemp(tmpl);
    state_ = dir_ + "/state.db";
  }
  ~DurableContractTest() override { std::filesystem::remove_all(dir_); }

  CliResult Run(std::vector<std::string> args) {
    args.push_back("--state");
    args.push_back(state_);
    return Cli(args);
  }
  std::string Add(const std::string& url, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"hooks", "add", url};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = Run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.empty() ? "" : r.out.substr(0, r.out.size() - 1);
  }
  // A contract file: `attempts` attempts, 1 ms apart, no jitter.
  std::string ContractFile(int attempts, const std::string& gone = "retry") {
    const std::string path = dir_ + "/c" + std::to_string(attempts) + gone +
                             ".json";
    nlohmann::json schedule = nlohmann::json::array();
    if (attempts > 1) schedule.push_back(1);
    std::ofstream(path) << nlohmann::json{{"name", "test-" + gone},
                                          {"attempts", attempts},
                                          {"schedule_ms", schedule},
                                          {"jitter", 0},
                                          {"timeout_ms", 2000},
                                          {"gone_410", gone}}
                               .dump();
    return path;
  }

  std::string dir_;
  std::string state_;
};

TEST_F(DurableContractTest, AHookStoredWithAContractSendsByItsAttempts) {
  ProfileReceiver receiver;
  const std::string three = Add(receiver.url("/fail"),
                                {"--contract", ContractFile(3)});
  const std::string plain = Add(receiver.url("/fail"));
  const nlohmann::json list =
      nlohmann::json::parse(Run({"hooks", "list", "--json"}).out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["contract"], "test-retry");
  EXPECT_TRUE(list[1]["contract"].is_null());
  EXPECT_NE(Run({"hooks", "list"}).out.find("(contract test-retry)"),
            std::string::npos);

  const CliResult r = Run({"deliver", "--generate", "2", "--retry-schedule-ms",
                           "1", "--jitter", "0", "--concurrency", "2"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  // 2 deliveries x 3 attempts to the hook's own contract, 2 x 6 (divshot,
  // the runner's default) to the other.
  EXPECT_EQ(receiver.Count("/fail"), 2 * 3 + 2 * 6) << r.out;
  EXPECT_EQ(QueryInt(state_, "SELECT MAX(attempts) FROM deliveries WHERE "
                             "hook_id = '" + three + "'"),
            3);
  EXPECT_EQ(QueryInt(state_, "SELECT MAX(attempts) FROM deliveries WHERE "
                             "hook_id = '" + plain + "'"),
            6);
}

TEST_F(DurableContractTest, RunnerContractGivesAttemptsToHooksWithoutOne) {
  ProfileReceiver receiver;
  Add(receiver.url("/fail"));
  const CliResult r =
      Run({"deliver", "--generate", "1", "--contract", ContractFile(2),
           "--retry-schedule-ms", "1"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(receiver.Count("/fail"), 2) << r.out;
}

TEST_F(DurableContractTest, GoneDisablesTheHookInTheStoreForEveryRunner) {
  ProfileReceiver receiver;
  const std::string gone =
      Add(receiver.url("/gone"), {"--contract", "standard-webhooks"});
  const std::string ok = Add(receiver.url("/ok"));
  CliResult r = Run({"deliver", "--generate", "3", "--concurrency", "1",
                     "--retry-schedule-ms", "1"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  // The first 410 stops its delivery and disables the endpoint: the other
  // two deliveries to it end without an attempt.
  EXPECT_EQ(receiver.Count("/gone"), 1) << r.out;
  EXPECT_EQ(receiver.Count("/ok"), 3);
  EXPECT_NE(r.out.find(gone + "  active  delivered=0 gave_up=3"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM hooks WHERE gone_ms IS "
                             "NOT NULL AND id = '" + gone + "'"),
            1);
  const nlohmann::json list =
      nlohmann::json::parse(Run({"hooks", "list", "--json"}).out);
  EXPECT_TRUE(list[0]["disabled_ms"].is_number()) << list.dump();
  EXPECT_TRUE(list[1]["disabled_ms"].is_null()) << list.dump();

  // A later run (another process would do the same): nothing more reaches
  // the disabled endpoint; its new deliveries end gave_up unsent.
  r = Run({"deliver", "--generate", "2", "--retry-schedule-ms", "1"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(receiver.Count("/gone"), 1) << r.out;
  EXPECT_EQ(receiver.Count("/ok"), 5);
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM deliveries WHERE hook_id "
                             "= '" + gone + "' AND state = 'gave_up' AND "
                             "attempts = 0"),
            4);
}

TEST_F(DurableContractTest, UnderDivshotA410IsRetried) {
  ProfileReceiver receiver;
  Add(receiver.url("/gone"));
  const CliResult r =
      Run({"deliver", "--generate", "1", "--retry-schedule-ms", "1"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(receiver.Count("/gone"), 6);
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM hooks WHERE gone_ms IS "
                             "NOT NULL"),
            0);
}

TEST_F(DurableContractTest, RetryAfterIsHonouredByTheDurableSender) {
  ProfileReceiver receiver;
  Add(receiver.url("/busy"), {"--contract", "standard-webhooks"});
  const CliResult r =
      Run({"deliver", "--generate", "1", "--retry-schedule-ms", "1"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  const auto arrivals = receiver.arrivals();
  ASSERT_EQ(arrivals.size(), 1u);
  const auto& times = arrivals.begin()->second;
  ASSERT_EQ(times.size(), 2u);
  // The schedule says 1 ms; Retry-After: 1 says not before 1 s.
  EXPECT_GE(times[1] - times[0], std::chrono::milliseconds(990));
}

TEST_F(DurableContractTest, BadContractsAreUsageErrors) {
  const CliResult add =
      Run({"hooks", "add", "http://127.0.0.1:1/a", "--contract", "nope"});
  EXPECT_EQ(add.code, 2);
  EXPECT_NE(add.err.find("unknown contract \"nope\" (known: divshot"),
            std::string::npos)
      << add.err;
  Add("http://127.0.0.1:1/a");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"worker", "--contract", "nope"},
           {"deliver", "--generate", "1", "--contract", "nope"},
           {"deliver", "--resume", "--contract", "nope"},
           {"bench", "--contract", "nope"}}) {
    const CliResult r = args[0] == "bench" ? Cli(args) : Run(args);
    EXPECT_EQ(r.code, 2) << args[0] << r.err;
    EXPECT_NE(r.err.find("--contract: unknown contract \"nope\" (known: "
                         "divshot, standard-webhooks"),
              std::string::npos)
        << r.err;
  }
  const CliResult list = Run({"hooks", "list", "--contract", "svix"});
  EXPECT_EQ(list.code, 2);
  EXPECT_NE(list.err.find("--contract: only for hooks add"),
            std::string::npos)
      << list.err;
}

TEST_F(DurableContractTest, GithubHookTakesAPlainSecretAndSendsOnce) {
  ProfileReceiver receiver;
  const CliResult bad = Run({"hooks", "add", receiver.url("/fail"), "--secret",
                             "plain-text"});
  EXPECT_EQ(bad.code, 2) << "a whsec_ secret without a github contract";
  Add(receiver.url("/fail"),
      {"--contract", "github", "--secret", "plain-text"});
  const CliResult r =
      Run({"deliver", "--generate", "1", "--retry-schedule-ms", "1"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(receiver.Count("/fail"), 1) << "github: no automatic re-attempt";
}

TEST_F(DurableContractTest, WorkerSendsByItsContract) {
  ProfileReceiver receiver;
  Add(receiver.url("/fail"));
  {  // Stored, not sent: the worker picks it up.
    Result<std::unique_ptr<StateStore>> s = StateStore::Open(state_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Enqueue({{"release", "{\"n\":1}"}}, 1).ok());
  }
  const std::string path = ContractFile(4);
  const std::vector<std::string> args = {
      HOOKSIM_BINARY, "worker", "--state", state_, "--contract", path,
      "--retry-schedule-ms", "1", "--poll-ms", "10"};
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(HOOKSIM_BINARY, argv.data());
    _exit(127);
  }
  const auto until = std::chrono::steady_clock::now() + testing::kMaxWait;
  while (receiver.Count("/fail") < 4 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Give a fifth attempt the time it would need to show.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(receiver.Count("/fail"), 4);
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM deliveries WHERE state = "
                             "'gave_up' AND attempts = 4"),
            1);
}

}  // namespace
}  // namespace hooksim
