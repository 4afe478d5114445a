// `hooksim deliver` to registered hooks, --resume, the worker, and a crash
// test that kills a real `hooksim deliver` process mid-schedule. Loopback
// only; every wait is bounded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "sim/base/random.h"
#include "sim/base/time.h"
#include "sim/contract/release_events.h"
#include "sim/durable/durable_delivery.h"
#include "sim/durable/open_state.h"
#include "sim/durable/state_store.h"
#include "sim/world/sender_world.h"
#include "tests/loopback_servers.h"
#include "tests/pg_cluster.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using testing::Cli;
using testing::CliResult;
using testing::HttplibServer;
using testing::kMaxWait;

// What the receiver saw, in arrival order.
struct Seen {
  std::string path;
  std::string delivery;
  int attempt = 0;
  std::string body;
  int status = 0;
  int64_t arrival_ms = 0;        // Wall clock, when the request was read.
  std::string timestamp_header;  // webhook-timestamp, if any.
};

// A receiver on loopback answering per path (cpp-httplib's server serves
// 8 connections at once, and idle keep-alive connections hold their
// thread: so the senders here use few connections, --concurrency <= 4): /ok,
// /ok2, /slowa, /slowb 200; /fail 503 always; /flaky 503, 503, then 200
// (counted per delivery id). /slow* answer after slow_ms; every path after
// latency_ms (SetLatency).
class Receiver {
 public:
  Receiver() {
    server_.server().Post(
        R"(/(ok|ok2|fail|flaky|slowa|slowb))", [this](const auto& req,
                                                      auto& res) {
          std::unique_lock<std::mutex> lock(mu_);
          Seen s{req.path,
                 req.get_header_value("X-Hooksim-Delivery"),
                 std::atoi(req.get_header_value("X-Hooksim-Attempt").c_str()),
                 req.body,
                 200,
                 WallMs(),
                 req.get_header_value("webhook-timestamp")};
          const int n = ++per_delivery_[s.delivery];
          if (s.path == "/fail") s.status = 503;
          if (s.path == "/flaky") s.status = n < 3 ? 503 : 200;
          seen_.push_back(s);
          cv_.notify_all();
          if ((block_ && block_(s)) || block_all_) {
            block_ = nullptr;  // Once.
            blocked_ = true;
            cv_.notify_all();
            cv_.wait_for(lock, kMaxWait, [this] { return released_; });
          }
          int delay = latency_ms_;
          if (s.path.rfind("/slow", 0) == 0) delay += slow_ms_;
          lock.unlock();
          if (delay > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(delay));
          }
          res.status = s.status;
          res.set_content("{}", "application/json");
        });
    server_.Start();
  }

  static int64_t WallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // Every request is held unanswered until Release() (or kMaxWait).
  void BlockAll() {
    std::lock_guard<std::mutex> lock(mu_);
    block_all_ = true;
  }
  void SetLatency(int latency_ms, int slow_ms) {
    std::lock_guard<std::mutex> lock(mu_);
    latency_ms_ = latency_ms;
    slow_ms_ = slow_ms;
  }
  size_t Count(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const Seen& s : seen_) n += s.path == path;
    return n;
  }

  std::string url(const std::string& path) const { return server_.url(path); }

  // The first request for which `when` is true is held unanswered until
  // Release() (or kMaxWait).
  void BlockFirst(std::function<bool(const Seen&)> when) {
    std::lock_guard<std::mutex> lock(mu_);
    block_ = std::move(when);
  }
  bool WaitBlocked() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kMaxWait, [this] { return blocked_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool WaitFor(std::function<bool(const std::vector<Seen>&)> done) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kMaxWait, [&] { return done(seen_); });
  }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> seen_;
  std::map<std::string, int> per_delivery_;
  std::function<bool(const Seen&)> block_;
  bool block_all_ = false;
  int latency_ms_ = 0;
  int slow_ms_ = 20;
  bool blocked_ = false;
  bool released_ = false;
  HttplibServer server_;  // Last: stopped first, before what handlers use.
};

class DurableDeliverTest : public ::testing::Test {
 protected:
  DurableDeliverTest() {
    char tmpl[] = "/tmp/hooksim_durable_XXXXXX";
    dir_ = mkdtemp(tmpl);
    state_ = dir_ + "/state.db";
  }
  ~DurableDeliverTest() override { std::filesystem::remove_all(dir_); }

  CliResult Run(std::vector<std::string> args) {
    args.push_back("--state");
    args.push_back(state_);
    return Cli(args);
  }
  std::string Add(const std::string& url) {
    const CliResult r = Run({"hooks", "add", url});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.size() - 1);
  }
  nlohmann::json List() {
    return nlohmann::json::parse(Run({"hooks", "list", "--json", "--all"}).out);
  }

  std::string dir_;
  std::string state_;
};

size_t CountPath(const std::vector<Seen>& seen, const std::string& path) {
  size_t n = 0;
  for (const Seen& s : seen) n += s.path == path;
  return n;
}

TEST_F(DurableDeliverTest, NoHooksIsAUsageError) {
  CliResult r = Run({"deliver", "--generate", "1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no state database at " + state_), std::string::npos)
      << r.err;
  const std::string id = Add("http://127.0.0.1:1/a");
  ASSERT_EQ(Run({"hooks", "remove", id}).code, 0);
  r = Run({"deliver", "--generate", "1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no hooks registered"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hooksim hooks add URL"), std::string::npos) << r.err;
}

TEST_F(DurableDeliverTest, WorkerUsageErrorsNameTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"worker", "--poll-ms", "0"},
       "--poll-ms: expected an integer 1..60000, got \"0\""},
      {{"worker", "--poll-ms", "60001"}, "--poll-ms: expected"},
      {{"worker", "--jitter", "2"}, "--jitter: expected a fraction"},
      {{"worker", "--concurrency", "0"}, "--concurrency"},
      {{"worker", "--url", "http://127.0.0.1:1/"}, "url"},
      {{"worker", "stray"}, "unexpected argument \"stray\""},
  };
  for (const Case& c : cases) {
    const CliResult r = Cli(c.args);
    EXPECT_EQ(r.code, 2) << c.message << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos)
        << "want: " << c.message << "\ngot: " << r.err;
  }
  const CliResult bad_state = Cli({"worker", "--state", dir_});
  EXPECT_EQ(bad_state.code, 2) << bad_state.err;
  EXPECT_NE(bad_state.err.find("--state: " + dir_), std::string::npos)
      << bad_state.err;
}

TEST_F(DurableDeliverTest, DeliversToActiveHooksHoldsPausedOnesUntilResumed) {
  Receiver receiver;
  const std::string ok = Add(receiver.url("/ok"));
  const std::string flaky = Add(receiver.url("/flaky"));
  const std::string held = Add(receiver.url("/ok"));
  ASSERT_EQ(Run({"hooks", "pause", held}).code, 0);

  // One attempt at a time: the receiver sees each hook's events in order.
  CliResult r =
      Run({"deliver", "--generate", "3", "--seed", "4", "--retry-schedule-ms",
           "5", "--jitter", "0", "--concurrency", "1"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("delivering 3 events to 3 hooks (1 paused: held)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(ok + "  active  delivered=3 gave_up=0 held=0"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(flaky + "  active  delivered=3 gave_up=0"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(held + "  paused  delivered=0 gave_up=0 held=3"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("9 deliveries: 6 delivered, 0 gave_up, 3 held, 0 "
                       "cancelled, 0 pending; 12 attempts"),
            std::string::npos)
      << r.out;
  std::vector<Seen> seen = receiver.seen();
  EXPECT_EQ(CountPath(seen, "/ok"), 3u) << "nothing reaches the paused hook";
  EXPECT_EQ(CountPath(seen, "/flaky"), 9u);
  // Bodies in event order, as the ok hook got them.
  std::vector<std::string> order;
  for (const Seen& s : seen) {
    if (s.path == "/ok") order.push_back(s.body);
  }

  const nlohmann::json before = List();
  EXPECT_EQ(before[2]["deliveries"]["held"], 3);
  EXPECT_EQ(before[0]["deliveries"]["delivered"], 3);

  // Resume: nothing is sent until a runner picks them up, in order.
  r = Run({"hooks", "resume", held});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("3 deliveries deliverable again"), std::string::npos)
      << r.out;
  r = Run({"deliver", "--resume", "--concurrency", "1", "--trace"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(held + "  active  delivered=3"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("hook=" + held), std::string::npos) << "--trace";
  // The run's own line counts the 3 it took up; the state's, all 9.
  EXPECT_NE(r.out.find("\n3 deliveries: 3 delivered"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("in " + state_ +
                       " now: 9 deliveries: 9 delivered, 0 gave_up, 0 held, "
                       "0 cancelled, 0 pending\n"),
            std::string::npos)
      << r.out;
  seen = receiver.seen();
  std::vector<std::string> resumed;
  for (size_t i = 12; i < seen.size(); ++i) resumed.push_back(seen[i].body);
  EXPECT_EQ(resumed, order) << "held deliveries go out in order";
  EXPECT_EQ(List()[2]["deliveries"]["delivered"], 3);

  r = Run({"deliver", "--resume"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("nothing pending"), std::string::npos) << r.out;
  EXPECT_EQ(receiver.seen().size(), seen.size());
}

TEST_F(DurableDeliverTest, RemovingAHookCancelsItsHeldDeliveriesWithAReason) {
  Receiver receiver;
  const std::string ok = Add(receiver.url("/ok"));
  const std::string gone = Add(receiver.url("/fail"));
  ASSERT_EQ(Run({"hooks", "pause", gone}).code, 0);
  const std::string events = dir_ + "/events.jsonl";
  std::ofstream(events) << R"({"event":"release","data":{"n":1}})"
                        << "\n"
                        << R"({"event":"custom","data":{}})"
                        << "\n";
  CliResult r = Run({"deliver", "--event-file", events, "--concurrency", "1"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  std::vector<Seen> seen = receiver.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].body, R"({"event":"release","data":{"n":1}})");
  EXPECT_EQ(seen[1].body, R"({"event":"custom","data":{}})");

  r = Run({"hooks", "remove", gone});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("2 deliveries cancelled (reason: hook removed)"),
            std::string::npos)
      << r.out;
  const nlohmann::json all = List();
  EXPECT_EQ(all[1]["state"], "removed");
  EXPECT_EQ(all[1]["deliveries"]["cancelled"], 2);
  EXPECT_EQ(all[1]["deliveries"]["held"], 0);
  r = Run({"deliver", "--resume"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(receiver.seen().size(), 2u) << "nothing for a removed hook";
  // New events no longer go to the removed hook.
  r = Run({"deliver", "--generate", "1", "--concurrency", "2"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("to 1 hook "), std::string::npos) << r.out;
}

TEST_F(DurableDeliverTest, GivingUpIsExitCodeOneAndStoredAsGaveUp) {
  Receiver receiver;
  const std::string fail = Add(receiver.url("/fail"));
  const CliResult r = Run({"deliver", "--generate", "2", "--retry-schedule-ms",
                           "1", "--jitter", "0", "--concurrency", "2"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find(fail + "  active  delivered=0 gave_up=2"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(CountPath(receiver.seen(), "/fail"), 12u);
  EXPECT_EQ(List()[0]["deliveries"]["gave_up"], 2);
}

TEST_F(DurableDeliverTest, CtrlCLeavesOpenDeliveriesStoredAsPending) {
  Receiver receiver;
  const std::string hook = Add(receiver.url("/fail"));
  // Once both first attempts were answered and recorded, Ctrl-C; the
  // re-attempts are an hour away, so only the interrupt can end the run.
  std::thread interrupter([&] {
    receiver.WaitFor([](const std::vector<Seen>& s) { return s.size() >= 2; });
    Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
    const auto until = std::chrono::steady_clock::now() + kMaxWait;
    while (store.ok() && std::chrono::steady_clock::now() < until) {
      int ended = 0;
      for (const Seen& s : receiver.seen()) {
        Result<std::vector<std::pair<int, std::string>>> a =
            (*store)->Attempts(s.delivery);
        ended += a.ok() && a->size() == 1 && !(*a)[0].second.empty();
      }
      if (ended == 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(getpid(), SIGINT);
  });
  const CliResult r = Run({"deliver", "--generate", "2", "--retry-schedule-ms",
                           "3600000", "--concurrency", "2"});
  interrupter.join();
  EXPECT_EQ(r.code, 130) << r.out << r.err;
  EXPECT_NE(r.err.find("interrupted: 2 deliveries still pending"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("hooksim deliver --resume"), std::string::npos);
  EXPECT_NE(r.out.find(hook + "  active  delivered=0 gave_up=0 held=0 "
                              "cancelled=0 pending=2"),
            std::string::npos)
      << r.out;
  const nlohmann::json hooks = List();
  EXPECT_EQ(hooks[0]["deliveries"]["pending"], 2);
  // Released: a new runner could claim them at once.
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
  ASSERT_TRUE(store.ok());
  Result<ClaimResult> claimed = (*store)->Claim("next", {}, 0);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->deliveries.size(), 2u);
  for (const ClaimedDelivery& d : claimed->deliveries) {
    EXPECT_EQ(d.attempts_started, 1);
    EXPECT_EQ(*(*store)->Attempts(d.id),
              (std::vector<std::pair<int, std::string>>{{1, "503"}}));
  }
}

// --- Real processes -------------------------------------------------------

// Starts HOOKSIM_BINARY with `args`, stdout and stderr to `log`.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(HOOKSIM_BINARY));
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(HOOKSIM_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

// Waits (bounded) for the child; returns its exit code, or 128+signal.
int Reap(pid_t pid) {
  const auto until = std::chrono::steady_clock::now() + kMaxWait * 3;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  ADD_FAILURE() << "child " << pid << " did not end";
  return -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The kill -9 crash test runs against both backends: an SQLite file, and a
// throwaway PostgreSQL cluster (skipped only when its binaries are absent).
class DurableDeliverBackendTest : public DurableDeliverTest,
                                  public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      pg_ = std::make_unique<PgCluster>();
      if (!pg_->Available()) GTEST_SKIP() << pg_->skip_reason();
      ASSERT_TRUE(pg_->up()) << pg_->error();
      state_ = pg_->Url();
    }
  }
  std::unique_ptr<PgCluster> pg_;
};

INSTANTIATE_TEST_SUITE_P(Backends, DurableDeliverBackendTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Postgres" : "Sqlite";
                         });

TEST_P(DurableDeliverBackendTest, KilledMidScheduleAndResumedLosesAndRepeatsNothing) {
  Receiver receiver;
  Add(receiver.url("/ok"));
  Add(receiver.url("/flaky"));
  Add(receiver.url("/fail"));
  // The third attempt of a failing delivery is held unanswered: the sender
  // is killed while it waits, mid-schedule, with that attempt recorded as
  // started and never ended.
  receiver.BlockFirst(
      [](const Seen& s) { return s.path == "/fail" && s.attempt == 3; });
  const std::string log = dir_ + "/deliver.log";
  const pid_t pid =
      Spawn({"deliver", "--state", state_, "--generate", "4", "--seed", "9",
             "--retry-schedule-ms", "200", "--jitter", "0", "--timeout-ms",
             "60000", "--concurrency", "4", "--lease-ms", "1000"},
            log);
  ASSERT_GT(pid, 0);
  const bool blocked = receiver.WaitBlocked();
  kill(pid, SIGKILL);
  const int code = Reap(pid);
  receiver.Release();
  ASSERT_TRUE(blocked) << ReadFile(log);
  EXPECT_EQ(code, 128 + SIGKILL) << ReadFile(log);
  const size_t before_restart = receiver.seen().size();
  EXPECT_LT(CountPath(receiver.seen(), "/fail"), 24u) << "mid-schedule";
  // What the store had recorded as delivered when the sender died.
  std::set<std::string> recorded_delivered;
  {
    Result<std::unique_ptr<StateBackend>> store = OpenState(state_);
    ASSERT_TRUE(store.ok());
    for (const Seen& s : receiver.seen()) {
      if ((*store)->DeliveryState(s.delivery)->first == "delivered") {
        recorded_delivered.insert(s.delivery);
      }
    }
  }

  // Started again, it carries on where it stopped.
  const CliResult r =
      Run({"deliver", "--resume", "--retry-schedule-ms", "20", "--jitter", "0",
           "--timeout-ms", "60000", "--concurrency", "4", "--lease-ms",
           "1000"});
  EXPECT_EQ(r.code, 1) << "the failing hook's deliveries gave up\n"
                       << r.out << r.err;
  const std::vector<Seen> seen = receiver.seen();
  EXPECT_GT(seen.size(), before_restart);

  std::map<std::string, std::vector<size_t>> by_delivery;  // Indexes.
  for (size_t i = 0; i < seen.size(); ++i) {
    by_delivery[seen[i].delivery].push_back(i);
  }
  ASSERT_EQ(by_delivery.size(), 12u) << "4 events x 3 hooks, none lost";
  Result<std::unique_ptr<StateBackend>> store = OpenState(state_);
  ASSERT_TRUE(store.ok());
  int lost_outcomes = 0;
  std::string journal;  // For failure messages.
  for (size_t i = 0; i < seen.size(); ++i) {
    journal += std::to_string(i) + " " + seen[i].path + " " + seen[i].delivery +
               " attempt " + std::to_string(seen[i].attempt) + " -> " +
               std::to_string(seen[i].status) + "\n";
  }
  SCOPED_TRACE("journal (" + std::to_string(before_restart) +
               " before the restart):\n" + journal + "resume:\n" + r.out +
               r.err);
  for (const auto& [id, indexes] : by_delivery) {
    const std::string& path = seen[indexes.front()].path;
    SCOPED_TRACE(id + " " + path);
    EXPECT_LE(indexes.size(), 6u) << "never more than six attempts";
    Result<std::vector<std::pair<int, std::string>>> attempts =
        (*store)->Attempts(id);
    ASSERT_TRUE(attempts.ok());
    EXPECT_LE(attempts->size(), 6u);
    // Every request the receiver saw is an attempt the store counted (the
    // store may count one more: started, killed before it was sent).
    EXPECT_GE(attempts->size(), indexes.size());
    EXPECT_LE(attempts->size(), indexes.size() + 1);
    for (size_t k = 0; k < indexes.size(); ++k) {
      const Seen& s = seen[indexes[k]];
      EXPECT_EQ(s.body, seen[indexes.front()].body);
      if (k > 0) {
        EXPECT_GT(s.attempt, seen[indexes[k - 1]].attempt)
            << "attempt numbers continue across the restart, none repeated";
      }
      if (indexes[k] >= before_restart) {
        EXPECT_EQ(recorded_delivered.count(id), 0u)
            << "sent again after its 2xx was recorded";
      }
      if (s.status == 200 && k + 1 < indexes.size()) {
        // Only a 2xx whose outcome the kill lost may be followed by more.
        // (The receiver may still read a request the killed sender wrote
        // just before it died after before_restart was taken, so the
        // index is no proof of which process sent it; the store is.)
        EXPECT_EQ(recorded_delivered.count(id), 0u);
        ++lost_outcomes;
      }
    }
    const std::string state = (*store)->DeliveryState(id)->first;
    if (path == "/fail") {
      EXPECT_EQ(state, "gave_up");
      EXPECT_EQ(attempts->size(), 6u);
    } else {
      EXPECT_EQ(state, "delivered");
      EXPECT_EQ(seen[indexes.back()].status, 200);
    }
  }
  // At most the attempts in flight at the kill (4 workers) lost an outcome.
  EXPECT_LE(lost_outcomes, 4);
}

TEST_F(DurableDeliverTest, WorkerDeliversWhatBecomesDeliverableUntilSigterm) {
  Receiver receiver;
  const std::string hook = Add(receiver.url("/ok"));
  ASSERT_EQ(Run({"hooks", "pause", hook}).code, 0);
  const std::string log = dir_ + "/worker.log";
  const pid_t pid = Spawn(
      {"worker", "--state", state_, "--poll-ms", "20", "--concurrency", "1"},
      log);
  ASSERT_GT(pid, 0);
  // A producer stores two events while the hook is paused: they are held.
  {
    Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)
                    ->Enqueue({{"release", R"({"event":"release","n":1})"},
                               {"release", R"({"event":"release","n":2})"}},
                              1)
                    .ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(receiver.seen().empty()) << "nothing while the hook is paused";
  ASSERT_EQ(Run({"hooks", "resume", hook}).code, 0);
  EXPECT_TRUE(receiver.WaitFor([](const std::vector<Seen>& s) {
    return s.size() >= 2;
  })) << ReadFile(log);
  // And until the worker has recorded both (bounded).
  const auto until = std::chrono::steady_clock::now() + kMaxWait;
  while (List()[0]["deliveries"]["delivered"] != 2 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGTERM);
  EXPECT_EQ(Reap(pid), 0) << ReadFile(log);
  const std::vector<Seen> seen = receiver.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].body, R"({"event":"release","n":1})");
  EXPECT_EQ(seen[1].body, R"({"event":"release","n":2})");
  const std::string out = ReadFile(log);
  EXPECT_NE(out.find("worker: delivering from " + state_), std::string::npos)
      << out;
  EXPECT_NE(out.find(hook + "  active  delivered=2"), std::string::npos) << out;
  EXPECT_EQ(List()[0]["deliveries"]["delivered"], 2);
}

}  // namespace
}  // namespace hooksim

namespace hooksim {
namespace {

// A hook registered with a secret gets Standard Webhooks signatures on every
// attempt of a store-backed deliver (restored deliveries included): a
// receiver verifying that secret accepts them; a hook whose secret differs
// gets 401 six times and gives up.
TEST_F(DurableDeliverTest, SignedHooksAreVerifiedByTheReceiver) {
  constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  ReceiverOptions ropts{"signed", {}, nullptr};
  ropts.unix_origin = UnixTimeNow();
  Result<BehaviorSpec> spec = ParseBehavior(
      nlohmann::json::parse(std::string(R"({"status": 200, "verify_signature": ")") +
                            kSecret + "\"}"),
      "");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  MockReceiver receiver(ropts, *spec, Random(3));
  HttpReceiverServer server(receiver, HttpReceiverOptions{});
  ASSERT_TRUE(server.Start().ok());
  struct Stop {
    HttpReceiverServer& s;
    ~Stop() { s.Stop(); }
  } stop{server};
  const std::string url = server.base_url() + "/hook";

  CliResult r = Run({"hooks", "add", url, "--secret", kSecret});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string good = r.out.substr(0, r.out.size() - 1);
  r = Run({"hooks", "add", url, "--secret", "whsec_c2VjcmV0"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string wrong = r.out.substr(0, r.out.size() - 1);

  r = Run({"deliver", "--generate", "2", "--retry-schedule-ms", "5",
           "--jitter", "0", "--concurrency", "2"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;  // The wrong secret gives up.
  EXPECT_NE(r.out.find(good + "  active  delivered=2 gave_up=0"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(wrong + "  active  delivered=0 gave_up=2"),
            std::string::npos)
      << r.out;
  receiver.WithJournal([](const Journal& j) {
    EXPECT_EQ(j.signatures_checked(), 2u + 2u * 6u);
    EXPECT_EQ(j.signature_failures(), 2u * 6u);
  });
}

}  // namespace
}  // namespace hooksim

// --- The findings of issue 12, each reproduced with real processes and
// counted at the receiver ---------------------------------------------------

namespace hooksim {
namespace {

// Starts argv[0] (a path) with the rest as arguments, output to `log`.
pid_t SpawnArgv(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (const std::string& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Rows of one SQL query on the state file (each row's columns as text).
std::vector<std::vector<std::string>> Query(const std::string& path,
                                            const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 10'000);
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  }
  while (q && sqlite3_step(q) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(q); ++i) {
      const unsigned char* t = sqlite3_column_text(q, i);
      row.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return rows;
}

int64_t QueryInt(const std::string& path, const std::string& sql) {
  const auto rows = Query(path, sql);
  return rows.empty() || rows[0].empty() ? -1 : std::stoll(rows[0][0]);
}

// Waits (bounded) until the receiver has seen `n` requests.
bool WaitSeen(Receiver& receiver, size_t n) {
  return receiver.WaitFor(
      [n](const std::vector<Seen>& s) { return s.size() >= n; });
}

// Finding 1: rows claimed by a runner that was PID 1 (as in every
// container) were stranded forever. The runner here really is PID 1 of a
// new PID namespace; killed, its rows are taken over once its lease ends.
TEST_F(DurableDeliverTest, Finding1_ARunnerKilledAsPid1IsTakenOverAfterItsLease) {
  if (std::system("unshare --pid --fork --kill-child=SIGKILL true "
                  ">/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "unshare --pid is not available here (the store test "
                    "Finding1And5_ExpiredLeasesAreTakenOverWhateverThePid "
                    "covers the recorded owner)";
  }
  Receiver receiver;
  Add(receiver.url("/ok"));
  receiver.BlockAll();
  const std::string log = dir_ + "/pid1.log";
  const pid_t pid = SpawnArgv(
      {"/usr/bin/unshare", "--pid", "--fork", "--kill-child=SIGKILL",
       HOOKSIM_BINARY, "deliver", "--state", state_, "--generate", "20",
       "--concurrency", "2", "--lease-ms", "1000", "--timeout-ms", "60000"},
      log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitSeen(receiver, 2)) << ReadFile(log);
  // The rows are held by a runner whose token names pid 1.
  const auto owners = Query(state_,
                            "SELECT DISTINCT lease_owner FROM deliveries "
                            "WHERE lease_owner IS NOT NULL");
  ASSERT_EQ(owners.size(), 1u);
  EXPECT_EQ(owners[0][0].rfind("1-", 0), 0u) << owners[0][0];
  kill(pid, SIGKILL);  // unshare, and with it (--kill-child) the runner.
  Reap(pid);
  receiver.Release();
  const CliResult r = Run({"deliver", "--resume", "--lease-ms", "1000",
                           "--concurrency", "2"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(List()[0]["deliveries"]["delivered"], 20) << r.out;
  EXPECT_EQ(List()[0]["deliveries"]["pending"], 0);
  // The two attempts in flight at the kill were sent again (their outcome
  // was lost); nothing else twice.
  EXPECT_LE(receiver.seen().size(), 22u);
}

// Finding 2: every stop charged an attempt to every queued delivery. Now an
// attempt is recorded only when a connection is free for it, just before
// its first byte is written: with 2 connections held by a receiver that
// does not answer, kill -9 leaves exactly the 2 sent attempts recorded.
TEST_F(DurableDeliverTest, Finding2_AKillChargesNoAttemptToUnsentDeliveries) {
  Receiver receiver;
  Add(receiver.url("/ok"));
  receiver.BlockAll();
  const std::string log = dir_ + "/deliver.log";
  const pid_t pid =
      Spawn({"deliver", "--state", state_, "--generate", "12", "--concurrency",
             "2", "--lease-ms", "1000", "--timeout-ms", "60000"},
            log);
  ASSERT_TRUE(WaitSeen(receiver, 2)) << ReadFile(log);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(pid, SIGKILL);
  EXPECT_EQ(Reap(pid), 128 + SIGKILL);
  receiver.Release();
  EXPECT_EQ(receiver.seen().size(), 2u);
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM attempts"), 2)
      << "attempts recorded = requests the receiver got";
  EXPECT_EQ(QueryInt(state_, "SELECT SUM(attempts) FROM deliveries"), 2);
  EXPECT_EQ(QueryInt(state_,
                     "SELECT COUNT(*) FROM deliveries WHERE attempts = 0"),
            10);
  // Resumed: the 10 unsent ones go out once each, as attempt 1.
  const CliResult r = Run(
      {"deliver", "--resume", "--lease-ms", "1000", "--concurrency", "2"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  size_t first_attempts = 0;
  for (const Seen& s : receiver.seen()) first_attempts += s.attempt == 1;
  EXPECT_EQ(first_attempts, 12u) << "no delivery lost an attempt";
}

// Findings 4 and 10: SIGTERM (and SIGINT) drain: no new attempt starts, the
// attempts in flight finish and their 2xx is recorded, the rest is
// released; `deliver` prints its summary and exits 143, a worker exits 0.
// Nothing is sent twice afterwards.
TEST_F(DurableDeliverTest, Finding4And10_SigtermDrainsAndRecordsThe2xxInFlight) {
  Receiver receiver;
  const std::string hook = Add(receiver.url("/ok"));
  receiver.BlockAll();
  const std::string log = dir_ + "/deliver.log";
  pid_t pid = Spawn({"deliver", "--state", state_, "--generate", "10",
                     "--concurrency", "2", "--lease-ms", "1000",
                     "--timeout-ms", "60000"},
                    log);
  ASSERT_TRUE(WaitSeen(receiver, 2)) << ReadFile(log);
  kill(pid, SIGTERM);
  // Draining: it waits for the two attempts in flight.
  const auto until = std::chrono::steady_clock::now() + kMaxWait;
  while (ReadFile(log).find("stopping:") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  receiver.Release();
  EXPECT_EQ(Reap(pid), 143) << ReadFile(log);
  std::string out = ReadFile(log);
  EXPECT_NE(out.find("waiting for 2 attempts in flight"), std::string::npos)
      << out;
  EXPECT_NE(out.find("10 deliveries: 2 delivered, 0 gave_up, 0 held, 0 "
                     "cancelled, 8 pending"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("terminated (SIGTERM): 8 deliveries still pending"),
            std::string::npos)
      << out;
  EXPECT_EQ(receiver.seen().size(), 2u);
  EXPECT_EQ(List()[0]["deliveries"]["delivered"], 2);
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM attempts"), 2);

  // A worker, stopped the same way, exits 0 and re-sends nothing.
  const std::string wlog = dir_ + "/worker.log";
  pid = Spawn({"worker", "--state", state_, "--poll-ms", "20",
               "--concurrency", "2", "--lease-ms", "1000"},
              wlog);
  EXPECT_TRUE(receiver.WaitFor([](const std::vector<Seen>& s) {
    return s.size() >= 10;
  })) << ReadFile(wlog);
  const auto until2 = std::chrono::steady_clock::now() + kMaxWait;
  while (List()[0]["deliveries"]["delivered"] != 10 &&
         std::chrono::steady_clock::now() < until2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGTERM);
  EXPECT_EQ(Reap(pid), 0) << ReadFile(wlog);
  EXPECT_EQ(receiver.seen().size(), 10u) << "each delivery sent once";
  std::set<std::string> ids;
  for (const Seen& s : receiver.seen()) ids.insert(s.delivery);
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_NE(ReadFile(wlog).find(hook + "  active  delivered=8"),
            std::string::npos)
      << ReadFile(wlog);
}

// A second signal stops at once: attempts in flight are abandoned (they
// count as made), the rows released, exit 143.
TEST_F(DurableDeliverTest, ASecondSignalStopsAtOnce) {
  Receiver receiver;
  Add(receiver.url("/ok"));
  receiver.BlockAll();
  const std::string log = dir_ + "/worker.log";
  const pid_t pid = Spawn({"worker", "--state", state_, "--poll-ms", "20",
                           "--concurrency", "2", "--lease-ms", "1000",
                           "--timeout-ms", "60000"},
                          log);
  {
    Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Enqueue({{"release", "{\"n\":1}"},
                                   {"release", "{\"n\":2}"},
                                   {"release", "{\"n\":3}"}},
                                  1)
                    .ok());
  }
  ASSERT_TRUE(WaitSeen(receiver, 2)) << ReadFile(log);
  kill(pid, SIGTERM);
  const auto until = std::chrono::steady_clock::now() + kMaxWait;
  while (ReadFile(log).find("stopping:") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGTERM);
  EXPECT_EQ(Reap(pid), 143) << ReadFile(log);
  receiver.Release();
  EXPECT_NE(ReadFile(log).find("2 attempts in flight abandoned"),
            std::string::npos)
      << ReadFile(log);
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM attempts"), 2);
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM deliveries WHERE "
                             "lease_owner IS NOT NULL"),
            0)
      << "released";
}

// Finding 3: with a backlog, requests reached a hook after `hooks pause`
// (72) or `hooks remove` (68) had returned. The gate is checked when an
// attempt is about to be written, so after the command returns only an
// attempt already recorded as started before it may still arrive.
TEST_F(DurableDeliverTest, Finding3_NothingNewReachesAHookAfterPauseOrRemove) {
  Receiver receiver;
  receiver.SetLatency(0, 15);
  const std::string a = Add(receiver.url("/slowa"));
  const std::string b = Add(receiver.url("/slowb"));
  const std::string log = dir_ + "/deliver.log";
  const pid_t pid =
      Spawn({"deliver", "--state", state_, "--generate", "80", "--concurrency",
             "4", "--lease-ms", "1000"},
            log);
  ASSERT_TRUE(receiver.WaitFor([&](const std::vector<Seen>&) {
    return true;
  }));
  const auto wait_path = [&](const std::string& path, size_t n) {
    const auto until = std::chrono::steady_clock::now() + kMaxWait;
    while (receiver.Count(path) < n &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return receiver.Count(path) >= n;
  };
  ASSERT_TRUE(wait_path("/slowa", 10)) << ReadFile(log);
  CliResult r = Run({"hooks", "pause", a});
  const int64_t paused_at = Receiver::WallMs();
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(wait_path("/slowb", receiver.Count("/slowb") + 10))
      << ReadFile(log);
  r = Run({"hooks", "remove", b});
  const int64_t removed_at = Receiver::WallMs();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Reap(pid), 0) << ReadFile(log);
  size_t late_a = 0, late_b = 0;
  for (const Seen& s : receiver.seen()) {
    const int64_t cut = s.path == "/slowa" ? paused_at : removed_at;
    if (s.arrival_ms <= cut) continue;
    (s.path == "/slowa" ? late_a : late_b)++;
    // It arrived after the command returned: it must have been started
    // (recorded) before.
    const int64_t started = QueryInt(
        state_, "SELECT started_ms FROM attempts WHERE delivery_id = '" +
                    s.delivery + "' AND attempt = " +
                    std::to_string(s.attempt));
    EXPECT_GE(started, 0) << s.delivery << " attempt " << s.attempt;
    EXPECT_LE(started, cut) << s.path << " " << s.delivery
                            << " started after the pause/remove returned";
  }
  EXPECT_LE(late_a, 4u) << "at most the attempts being written";
  EXPECT_LE(late_b, 4u);
  const nlohmann::json hooks = List();
  EXPECT_GT(hooks[0]["deliveries"]["held"].get<int>(), 0);
  EXPECT_GT(hooks[1]["deliveries"]["cancelled"].get<int>(), 0);
}

// Finding 5: a stopped (hung) runner kept its claimed rows while another
// worker idled. A claim is a lease: SIGSTOP the holder, and another runner
// takes its rows once the lease (1 s here) ends.
TEST_F(DurableDeliverTest, Finding5_AHungRunnersRowsAreTakenOverWhenItsLeaseEnds) {
  Receiver receiver;
  Add(receiver.url("/ok"));
  receiver.BlockAll();
  {
    Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
    ASSERT_TRUE(store.ok());
    std::vector<FileEvent> events;
    for (int i = 0; i < 6; ++i) {
      events.push_back({"release", "{\"n\":" + std::to_string(i) + "}"});
    }
    ASSERT_TRUE((*store)->Enqueue(events, 1).ok());
  }
  const std::string log = dir_ + "/worker.log";
  const pid_t pid = Spawn({"worker", "--state", state_, "--poll-ms", "20",
                           "--concurrency", "1", "--lease-ms", "1000",
                           "--timeout-ms", "60000"},
                          log);
  ASSERT_TRUE(WaitSeen(receiver, 1)) << ReadFile(log);
  kill(pid, SIGSTOP);
  receiver.Release();
  const auto started = std::chrono::steady_clock::now();
  const CliResult r = Run(
      {"deliver", "--resume", "--lease-ms", "1000", "--concurrency", "2"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_GE(std::chrono::steady_clock::now() - started,
            std::chrono::milliseconds(500))
      << "it waited for the lease to end";
  EXPECT_NE(r.out.find("another runner holds"), std::string::npos) << r.out;
  EXPECT_EQ(List()[0]["deliveries"]["delivered"], 6);
  const size_t sent = receiver.seen().size();
  EXPECT_EQ(sent, 7u) << "the stopped runner's attempt in flight, resent";
  // Woken, the old holder sends nothing more: its rows are gone.
  kill(pid, SIGCONT);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGTERM);
  EXPECT_EQ(Reap(pid), 0) << ReadFile(log);
  EXPECT_EQ(receiver.seen().size(), sent) << ReadFile(log);
}

// Finding 6: a write lock held longer than the busy timeout ended running
// workers and deliver with exit 1. Runners now wait for it (with backoff)
// as long as it is held.
TEST_F(DurableDeliverTest, Finding6_ALongWriteLockDoesNotStopRunners) {
  Receiver receiver;
  Add(receiver.url("/ok"));
  const std::string wlog = dir_ + "/worker.log";
  const pid_t worker = Spawn({"worker", "--state", state_, "--poll-ms", "20",
                              "--concurrency", "2", "--lease-ms", "1000"},
                             wlog);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(state_.c_str(), &other), SQLITE_OK);
  sqlite3_busy_timeout(other, 10'000);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  const std::string dlog = dir_ + "/deliver.log";
  const pid_t deliver =
      Spawn({"deliver", "--state", state_, "--generate", "5", "--lease-ms",
             "1000", "--concurrency", "2"},
            dlog);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  int status = 0;
  EXPECT_EQ(waitpid(worker, &status, WNOHANG), 0) << "the worker waits";
  EXPECT_EQ(waitpid(deliver, &status, WNOHANG), 0) << "deliver waits";
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(other);
  EXPECT_EQ(Reap(deliver), 0) << ReadFile(dlog);
  kill(worker, SIGTERM);
  EXPECT_EQ(Reap(worker), 0) << ReadFile(wlog);
  EXPECT_EQ(List()[0]["deliveries"]["delivered"], 5);
  EXPECT_EQ(receiver.seen().size(), 5u);
}

// Finding 7 end to end: a body corrupted in the file is not sent; its
// delivery ends failed with the reason, the others go out.
TEST_F(DurableDeliverTest, Finding7_ACorruptedStoredBodyIsNeverSent) {
  Receiver receiver;
  const std::string hook = Add(receiver.url("/ok"));
  ASSERT_EQ(Run({"hooks", "pause", hook}).code, 0);
  const std::string events = dir_ + "/events.jsonl";
  std::ofstream(events) << R"({"event":"release","data":{"n":1}})"
                        << "\n"
                        << R"({"event":"release","data":{"s":"MARKER-42"}})"
                        << "\n";
  CliResult r = Run({"deliver", "--event-file", events, "--concurrency", "2"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;  // Held: nothing sent yet.
  {
    std::fstream f(state_, std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), {});
    const size_t at = bytes.find("MARKER-42");
    ASSERT_NE(at, std::string::npos) << "checkpointed into the file";
    f.seekp(static_cast<std::streamoff>(at));
    f.put('m');
  }
  ASSERT_EQ(Run({"hooks", "resume", hook}).code, 0);
  r = Run({"deliver", "--resume", "--concurrency", "2"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("stored body does not match its checksum: not sent"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("delivered=1 gave_up=0 held=0 cancelled=0 pending=0 "
                       "failed=1"),
            std::string::npos)
      << r.out;
  ASSERT_EQ(receiver.seen().size(), 1u);
  EXPECT_EQ(receiver.seen()[0].body, R"({"event":"release","data":{"n":1}})");
  EXPECT_EQ(List()[0]["deliveries"]["failed"], 1);
}

// Finding 8: signatures were made when an attempt was queued, so a backlog
// longer than the receiver's tolerance got 401 "stale". Now
// webhook-timestamp is the second the attempt is written: with one
// connection and a 300 ms receiver, 12 deliveries take ~3.6 s, and every
// request's timestamp is within a second of its arrival.
TEST_F(DurableDeliverTest, Finding8_SignaturesAreMadeWhenTheAttemptIsWritten) {
  Receiver receiver;
  receiver.SetLatency(0, 300);
  CliResult r = Run({"hooks", "add", receiver.url("/slowa"), "--secret",
                     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"deliver", "--generate", "12", "--concurrency", "1"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  const std::vector<Seen> seen = receiver.seen();
  ASSERT_EQ(seen.size(), 12u);
  EXPECT_GE(seen.back().arrival_ms - seen.front().arrival_ms, 3000)
      << "a backlog of more than 3 s";
  for (const Seen& s : seen) {
    ASSERT_FALSE(s.timestamp_header.empty());
    const int64_t signed_ms = std::stoll(s.timestamp_header) * 1000;
    EXPECT_GE(s.arrival_ms, signed_ms);
    EXPECT_LT(s.arrival_ms - signed_ms, 1500)
        << "signed when written, not when queued";
  }
}

// Finding 9: a worker's memory grew with every delivery it had seen while
// any stayed open. A runner now keeps only the deliveries due soon, at most
// 32 per connection (at least 256): here 1,500 deliveries pass through a
// runner that never holds more than 256.
TEST_F(DurableDeliverTest, Finding9_ARunnerKeepsOnlyWhatItsOpenDeliveriesNeed) {
  Receiver receiver;
  Add(receiver.url("/ok"));
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
  ASSERT_TRUE(store.ok());
  std::vector<FileEvent> events;
  for (int i = 0; i < 1500; ++i) {
    events.push_back({"release", "{\"n\":" + std::to_string(i) + "}"});
  }
  ASSERT_TRUE((*store)->Enqueue(events, 1).ok());
  DurableRunOptions options;
  options.concurrency = 2;
  options.handle_signals = false;
  std::ostringstream out;
  const DurableRunSummary summary =
      RunDurableDeliveries(**store, options, out);
  EXPECT_TRUE(summary.error.ok()) << summary.error.ToString();
  int64_t delivered = 0;
  for (const auto& [hook, c] : summary.by_hook) delivered += c.delivered;
  EXPECT_EQ(delivered, 1500);
  EXPECT_GT(summary.peak_open, 0u);
  EXPECT_LE(summary.peak_open, 256u);
}

// The seeded crash test: real runners (`deliver`, `deliver --resume`,
// `worker`) against hooks that answer 200, 503-503-200 and always 503, each
// stopped after a seeded time by kill -9, SIGTERM or SIGINT, then resumed;
// one hook is paused in the middle. Every request is counted at the
// receiver and compared with the store:
// - no delivery gets more than 6 requests;
// - none gives up with fewer than 6 requests unless an attempt of it lost
//   its outcome in a crash (recorded started, never ended);
// - no request after the recorded 2xx (the attempt the store counts as
//   delivered is the last one the receiver saw);
// - every request the receiver saw is an attempt the store recorded;
// - nothing reached the paused hook that was not started before the pause
//   returned; at the end nothing is pending.
// The seed is printed; HOOKSIM_CRASH_SEED reruns one.
TEST_F(DurableDeliverTest, SeededCrashAndResumeCountedAtTheReceiver) {
  uint64_t seed = 12;
  if (const char* env = std::getenv("HOOKSIM_CRASH_SEED")) {
    seed = std::strtoull(env, nullptr, 10);
  }
  SCOPED_TRACE("crash test seed " + std::to_string(seed) +
               " (HOOKSIM_CRASH_SEED reruns it)");
  Random rng(seed);
  Receiver receiver;
  receiver.SetLatency(8, 0);
  const std::string ok = Add(receiver.url("/ok"));
  const std::string flaky = Add(receiver.url("/flaky"));
  const std::string fail = Add(receiver.url("/fail"));
  const std::string paused = Add(receiver.url("/ok2"));
  const std::vector<std::string> common = {
      "--state", state_, "--retry-schedule-ms", "30,60", "--jitter", "0.2",
      "--timeout-ms", "5000", "--concurrency", "4", "--lease-ms", "1000"};
  // The events are stored first (a runner killed before its import
  // committed would leave nothing to count).
  {
    Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
    ASSERT_TRUE(store.ok());
    ReleaseEventGenerator generator(ReleaseEventOptions{},
                                    Random(seed).Fork("events"));
    std::vector<FileEvent> events;
    for (int i = 0; i < 60; ++i) {
      events.push_back({"release", generator.Next().body});
    }
    ASSERT_TRUE((*store)->Enqueue(events, WallNowMs()).ok());
  }
  int64_t paused_at = 0;
  std::string rounds;
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::string> args;
    if (rng.Bernoulli(0.5)) {
      args = {"worker", "--poll-ms", "20"};
    } else {
      args = {"deliver", "--resume"};
    }
    args.insert(args.end(), common.begin(), common.end());
    const std::string log = dir_ + "/round" + std::to_string(round) + ".log";
    const pid_t pid = Spawn(args, log);
    ASSERT_GT(pid, 0);
    const int64_t run_ms = rng.UniformInt(30, 700);
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms / 2));
    if (round == 0) {
      // While the first runner still has most of the work.
      ASSERT_EQ(Run({"hooks", "pause", paused}).code, 0);
      paused_at = Receiver::WallMs();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms - run_ms / 2));
    const int64_t pick = rng.UniformInt(0, 9);
    const int sig = pick < 6 ? SIGKILL : pick < 8 ? SIGTERM : SIGINT;
    kill(pid, sig);
    const int code = Reap(pid);
    rounds += "round " + std::to_string(round) + ": " + args[0] +
              (args[1] == "--resume" ? " --resume" : "") + " for " +
              std::to_string(run_ms) + " ms, signal " + std::to_string(sig) +
              " -> exit " + std::to_string(code) + "\n";
    // A runner that ended on its own (nothing left) exits 0 or 1.
    EXPECT_TRUE(code == 0 || code == 1 || code == 128 + sig)
        << rounds << ReadFile(log);
  }
  SCOPED_TRACE(rounds);
  const CliResult last =
      Run({"deliver", "--resume", "--retry-schedule-ms", "30,60",
           "--timeout-ms", "5000", "--concurrency", "4", "--lease-ms", "1000"});
  // 1 when deliveries of the failing hook gave up in this last run; 0 when
  // they had all given up before it.
  EXPECT_TRUE(last.code == 0 || last.code == 1) << last.out << last.err;
  EXPECT_NE(last.out.find(" 0 pending"), std::string::npos) << last.out;

  std::map<std::string, std::vector<Seen>> by_delivery;
  for (const Seen& s : receiver.seen()) by_delivery[s.delivery].push_back(s);
  const auto rows = Query(
      state_,
      "SELECT d.id, d.state, d.hook_id, d.attempts, "
      "(SELECT COUNT(*) FROM attempts a WHERE a.delivery_id = d.id AND "
      "a.ended_ms IS NULL), "
      "COALESCE((SELECT MAX(attempt) FROM attempts a WHERE a.delivery_id = "
      "d.id AND a.result LIKE '2%'), 0) FROM deliveries d");
  ASSERT_EQ(rows.size(), 240u) << "60 events x 4 hooks";
  int delivered = 0, gave_up = 0, held = 0, lost = 0;
  for (const auto& row : rows) {
    const std::string& id = row[0];
    const std::string& state = row[1];
    const std::string& hook = row[2];
    const int recorded = std::stoi(row[3]);
    const int unfinished = std::stoi(row[4]);
    const int recorded_2xx = std::stoi(row[5]);
    lost += unfinished;
    const std::vector<Seen>& got = by_delivery[id];
    SCOPED_TRACE(id + " hook " + hook + " " + state + ": " +
                 std::to_string(got.size()) + " requests, " +
                 std::to_string(recorded) + " attempts recorded, " +
                 std::to_string(unfinished) + " without outcome");
    EXPECT_LE(got.size(), 6u) << "never more than six requests";
    EXPECT_LE(got.size(), static_cast<size_t>(recorded))
        << "every request is a recorded attempt";
    for (const Seen& s : got) {
      EXPECT_GE(QueryInt(state_, "SELECT COUNT(*) FROM attempts WHERE "
                                 "delivery_id = '" + id + "' AND attempt = " +
                                     std::to_string(s.attempt)),
                1);
      if (recorded_2xx > 0) {
        EXPECT_LE(s.attempt, recorded_2xx) << "a request after the recorded 2xx";
      }
      if (hook == paused && paused_at > 0 && s.arrival_ms > paused_at) {
        EXPECT_LE(QueryInt(state_,
                           "SELECT started_ms FROM attempts WHERE "
                           "delivery_id = '" + id + "' AND attempt = " +
                               std::to_string(s.attempt)),
                  paused_at)
            << "started after the pause had returned";
      }
    }
    if (hook == paused) {
      EXPECT_TRUE(state == "held" || state == "delivered") << state;
      held += state == "held";
      delivered += state == "delivered";
      continue;
    }
    EXPECT_TRUE(state == "delivered" || state == "gave_up") << state;
    if (state == "delivered") {
      ++delivered;
      EXPECT_GT(recorded_2xx, 0);
      EXPECT_EQ(hook == fail, false);
    } else {
      ++gave_up;
      EXPECT_EQ(hook, fail);
      EXPECT_EQ(recorded, 6);
      EXPECT_GE(got.size() + static_cast<size_t>(unfinished), 6u)
          << "gave up with fewer than six requests received, and no "
             "outcome lost";
    }
  }
  EXPECT_EQ(gave_up, 60);
  EXPECT_EQ(delivered + held, 180);
  EXPECT_GT(held, 0) << "the pause came while its hook had work left";
  std::cout << "crash test seed " << seed << ": " << receiver.seen().size()
            << " requests at the receiver; " << delivered << " delivered, "
            << gave_up << " gave up, " << held << " held; " << lost
            << " attempts lost their outcome to a stop\n"
            << rounds;
}

// A store that fails every BeginAttempt from the n-th on ("disk full"), and
// otherwise passes through to a StateStore.
class FailingStore : public DeliveryStore {
 public:
  FailingStore(StateStore& store, int fail_from)
      : store_(store), fail_from_(fail_from) {}
  Result<ClaimResult> Claim(const std::string& owner, const ClaimOptions& o,
                            int64_t now_ms) override {
    return store_.Claim(owner, o, now_ms);
  }
  Result<int64_t> RenewLeases(const std::string& owner, int64_t now_ms,
                              int64_t lease_ms) override {
    return store_.RenewLeases(owner, now_ms, lease_ms);
  }
  Result<AttemptGate> BeginAttempt(const std::string& owner,
                                   const std::string& id, int attempt,
                                   int64_t now_ms, int64_t lease_ms) override {
    if (++begins_ >= fail_from_)
      return Status::IoError("disk full (simulated)");
    return store_.BeginAttempt(owner, id, attempt, now_ms, lease_ms);
  }
  Result<bool> EndAttempt(const std::string& owner,
                          const AttemptEnd& end) override {
    return store_.EndAttempt(owner, end);
  }
  Status Release(const std::string& owner) override {
    return store_.Release(owner);
  }
  Status DisableHook(const std::string& hook_id, int64_t now_ms) override {
    return store_.DisableHook(hook_id, now_ms);
  }
  Result<PendingInfo> Pending(const std::string& owner,
                              const DeliveryScope& scope,
                              int64_t now_ms) override {
    return store_.Pending(owner, scope, now_ms);
  }
  Result<int64_t> MaxSeq() override { return store_.MaxSeq(); }
  Result<QueueDepth> Depth(int64_t now_ms) override {
    return store_.Depth(now_ms);
  }

 private:
  StateStore& store_;
  int fail_from_;
  int begins_ = 0;
};

// A storage error drains like a stop: no new attempt, the attempts in
// flight end and their outcomes are recorded, every row is released, and
// the run returns the error.
TEST_F(DurableDeliverTest, AStorageErrorDrainsAndRecordsTheAttemptsInFlight) {
  Receiver receiver;
  receiver.SetLatency(0, 100);
  Add(receiver.url("/slowa"));
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
  ASSERT_TRUE(store.ok());
  std::vector<FileEvent> events;
  for (int i = 0; i < 20; ++i) {
    events.push_back({"release", "{\"n\":" + std::to_string(i) + "}"});
  }
  ASSERT_TRUE((*store)->Enqueue(events, 1).ok());
  FailingStore failing(**store, 5);  // Attempts 1-4 start, then errors.
  DurableRunOptions options;
  options.concurrency = 2;
  options.handle_signals = false;
  std::ostringstream out;
  const DurableRunSummary summary = RunDurableDeliveries(failing, options, out);
  ASSERT_FALSE(summary.error.ok());
  EXPECT_NE(summary.error.message().find("disk full"), std::string::npos);
  EXPECT_EQ(summary.abandoned, 0u) << "in-flight attempts were awaited";
  EXPECT_EQ(receiver.seen().size(), 4u);
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM attempts"), 4);
  EXPECT_EQ(QueryInt(state_,
                     "SELECT COUNT(*) FROM attempts WHERE ended_ms IS NULL"),
            0)
      << "every outcome recorded";
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM deliveries WHERE "
                             "state = 'delivered'"),
            4);
  EXPECT_EQ(QueryInt(state_, "SELECT COUNT(*) FROM deliveries WHERE "
                             "lease_owner IS NOT NULL"),
            0)
      << "released for the next runner";
}

}  // namespace
}  // namespace hooksim
