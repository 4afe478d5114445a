// `hooksim deliver` to registered hooks, --resume, the worker, and a crash
// test that kills a real `hooksim deliver` process mid-schedule. Loopback
// only; every wait is bounded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
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
#include "sim/durable/state_store.h"
#include "tests/loopback_servers.h"
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
};

// A receiver on loopback answering per path (cpp-httplib's server serves
// 8 connections at once, and idle keep-alive connections hold their
// thread: so the senders here use few connections, --concurrency <= 4): /ok
// 200; /fail 503 always; /flaky 503, 503, then 200 (counted per delivery id).
class Receiver {
 public:
  Receiver() {
    server_.server().Post(
        R"(/(ok|fail|flaky))", [this](const auto& req, auto& res) {
          std::unique_lock<std::mutex> lock(mu_);
          Seen s{req.path, req.get_header_value("X-Hooksim-Delivery"),
                 std::atoi(req.get_header_value("X-Hooksim-Attempt").c_str()),
                 req.body, 200};
          const int n = ++per_delivery_[s.delivery];
          if (s.path == "/fail") s.status = 503;
          if (s.path == "/flaky") s.status = n < 3 ? 503 : 200;
          seen_.push_back(s);
          cv_.notify_all();
          if (block_ && block_(s)) {
            block_ = nullptr;  // Once.
            blocked_ = true;
            cv_.notify_all();
            cv_.wait_for(lock, kMaxWait, [this] { return released_; });
          }
          res.status = s.status;
          res.set_content("{}", "application/json");
        });
    server_.Start();
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
  // No state at all: said so, and none is created (issue 13 item 7).
  CliResult r = Run({"deliver", "--generate", "1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no state database at"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(state_));
  // A state with no hooks.
  ASSERT_EQ(Run({"hooks", "add", "http://127.0.0.1:9/x"}).code, 0);
  const std::string id = Run({"hooks", "list", "--json"}).out;
  r = Run({"hooks", "remove",
           nlohmann::json::parse(id).at(0).at("id").get<std::string>()});
  ASSERT_EQ(r.code, 0) << r.err;
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

TEST_F(DurableDeliverTest, KilledMidScheduleAndResumedLosesAndRepeatsNothing) {
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
             "60000", "--concurrency", "4"},
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
    Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
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
           "--timeout-ms", "60000", "--concurrency", "4"});
  EXPECT_EQ(r.code, 1) << "the failing hook's deliveries gave up\n"
                       << r.out << r.err;
  const std::vector<Seen> seen = receiver.seen();
  EXPECT_GT(seen.size(), before_restart);

  std::map<std::string, std::vector<size_t>> by_delivery;  // Indexes.
  for (size_t i = 0; i < seen.size(); ++i) {
    by_delivery[seen[i].delivery].push_back(i);
  }
  ASSERT_EQ(by_delivery.size(), 12u) << "4 events x 3 hooks, none lost";
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(state_);
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
  ASSERT_FALSE(server.Start().has_value());
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
