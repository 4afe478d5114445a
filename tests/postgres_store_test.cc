// The PostgreSQL state (issue 19): its errors (unreachable server, unknown
// role, newer schema, foreign tables), the commands on it, and many workers
// on one queue over a flaky loopback receiver. Each test starts a
// throwaway cluster (tests/pg_cluster.h) and is skipped only when the
// PostgreSQL binaries are not installed (scripts/setup.sh installs them).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "sim/durable/durable_delivery.h"
#include "sim/durable/open_state.h"
#include "sim/durable/postgres_store.h"
#include "sim/durable/worker_metrics.h"
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

// Starts the cluster, or skips (binaries absent) / fails (anything else).
#define START_PG(pg)                                           \
  PgCluster pg;                                                \
  if (!pg.Available()) GTEST_SKIP() << pg.skip_reason();       \
  ASSERT_TRUE(pg.up()) << pg.error()

std::vector<FileEvent> Events(int n) {
  std::vector<FileEvent> events;
  for (int i = 0; i < n; ++i) {
    events.push_back({"release", R"({"event":"release","data":{"n":)" +
                                     std::to_string(i) + "}}"});
  }
  return events;
}

TEST(PostgresStoreTest, AnUnreachableServerIsNamedWithItsCause) {
  testing::RefusedPort refused;
  const std::string url =
      "postgres://hooksim@127.0.0.1:" + std::to_string(refused.port()) + "/x";
  Result<std::unique_ptr<StateBackend>> s = OpenState(url);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kUnavailable);
  const std::string m = s.error().message();
  EXPECT_NE(m.find("127.0.0.1:" + std::to_string(refused.port())),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("refused"), std::string::npos) << m;
  // The command says the same, with the usage exit code.
  const CliResult r = Cli({"hooks", "list", "--state", url});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot connect to PostgreSQL at 127.0.0.1:"),
            std::string::npos)
      << r.err;
}

TEST(PostgresStoreTest, APasswordIsNeverPrinted) {
  testing::RefusedPort refused;
  const std::string url = "postgres://hooksim:s3cret@127.0.0.1:" +
                          std::to_string(refused.port()) + "/x";
  const CliResult r = Cli({"hooks", "list", "--state", url});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("postgres://hooksim@127.0.0.1:"), std::string::npos)
      << r.err;
}

TEST(PostgresStoreTest, UnknownRoleMissingStateNewerSchemaAndForeignTables) {
  START_PG(pg);
  const std::string host = "127.0.0.1:" + std::to_string(pg.port());
  // Credentials the server refuses: named with the host and the cause.
  Result<std::unique_ptr<StateBackend>> s = OpenState(
      "postgres://nobody_here@" + host + "/hooksim", {.create = true});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(s.error().message().find(host), std::string::npos)
      << s.error().message();
  EXPECT_NE(s.error().message().find("nobody_here"), std::string::npos)
      << s.error().message();
  // No hooksim tables yet: only `create` makes them.
  s = OpenState(pg.Url());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kNotFound) << s.error().message();
  s = OpenState(pg.Url(), {.create = true});
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  s->reset();
  // Opening again (and twice at once) keeps the schema as it is.
  s = OpenState(pg.Url(), {.create = true});
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_TRUE((*s)->AddHook("http://127.0.0.1:1/a", "", 1).ok());
  s->reset();
  // A newer hooksim's schema is refused.
  ASSERT_TRUE(pg.Psql("UPDATE hooksim_schema SET version = 99"));
  s = OpenState(pg.Url(), {.create = true});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.error().message().find("version 99"), std::string::npos)
      << s.error().message();
  const CliResult r = Cli({"hooks", "list", "--state", pg.Url()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("version 99"), std::string::npos) << r.err;
  // A database with tables named as hooksim's but not hooksim's.
  ASSERT_TRUE(pg.Psql("CREATE DATABASE other", "postgres"));
  ASSERT_TRUE(pg.Psql("CREATE TABLE hooks (x INTEGER)", "other"));
  s = OpenState(pg.Url("other"), {.create = true});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.error().message().find("not a hooksim state"), std::string::npos)
      << s.error().message();
}

TEST(PostgresStoreTest, TheHooksCommandsWorkOnPostgresAsOnSqlite) {
  START_PG(pg);
  setenv("HOOKSIM_STATE", pg.Url().c_str(), 1);
  CliResult r = Cli({"hooks", "list"});
  unsetenv("HOOKSIM_STATE");
  EXPECT_EQ(r.code, 2) << "no state yet: " << r.err;
  EXPECT_NE(r.err.find("no hooksim state in"), std::string::npos) << r.err;
  r = Cli({"hooks", "add", "http://127.0.0.1:9/a", "--state", pg.Url()});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string id = r.out.substr(0, r.out.size() - 1);
  EXPECT_EQ(id.rfind("hk_", 0), 0u);
  setenv("HOOKSIM_STATE", pg.Url().c_str(), 1);
  r = Cli({"hooks", "pause", id});
  EXPECT_EQ(r.code, 0) << r.err;
  r = Cli({"hooks", "pause", id});
  EXPECT_EQ(r.code, 1) << "already paused";
  r = Cli({"hooks", "list", "--json"});
  unsetenv("HOOKSIM_STATE");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(list[0]["state"], "paused");
  r = Cli({"hooks", "remove", "hk_000000000000", "--state", pg.Url()});
  EXPECT_EQ(r.code, 2) << "unknown id: " << r.err;
}

// A connection lost as BeginAttempt commits: its caller cannot tell whether
// the attempt began, and the store asks again. Run again as it was, the
// call would find the attempt begun and answer kNotOurs; the runner would
// drop a delivery still leased to it and renew that lease for good (a
// worker waiting forever, seen once in ~20 runs of the restart test
// below). Here the first call commits and the store's backend is then
// killed, so the repeated call meets a lost connection as the store's own
// retry would.
TEST(PostgresStoreTest, AnAttemptBegunBeforeALostConnectionIsStillOurs) {
  START_PG(pg);
  Result<std::unique_ptr<StateBackend>> s =
      OpenState(pg.Url(), {.create = true});
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  StateBackend& store = **s;
  ASSERT_TRUE(store.AddHook("http://127.0.0.1:9/a", "", WallNowMs()).ok());
  ASSERT_TRUE(store.Enqueue(Events(1), WallNowMs()).ok());
  Result<ClaimResult> claimed = store.Claim("w1", {}, WallNowMs());
  ASSERT_TRUE(claimed.ok()) << claimed.error().ToString();
  ASSERT_EQ(claimed->deliveries.size(), 1u);
  const std::string id = claimed->deliveries[0].id;
  Result<AttemptGate> gate = store.BeginAttempt("w1", id, 1, WallNowMs());
  ASSERT_TRUE(gate.ok()) << gate.error().ToString();
  ASSERT_EQ(*gate, AttemptGate::kStart);

  ASSERT_TRUE(pg.Psql("SELECT pg_terminate_backend(pid) FROM "
                      "pg_stat_activity WHERE application_name = 'hooksim'"));
  gate = store.BeginAttempt("w1", id, 1, WallNowMs());
  ASSERT_TRUE(gate.ok()) << gate.error().ToString();
  EXPECT_EQ(*gate, AttemptGate::kStart) << "begun, for this owner";
  // Not for another owner, nor for an attempt not begun.
  ASSERT_TRUE(pg.Psql("SELECT pg_terminate_backend(pid) FROM "
                      "pg_stat_activity WHERE application_name = 'hooksim'"));
  gate = store.BeginAttempt("w2", id, 1, WallNowMs());
  ASSERT_TRUE(gate.ok()) << gate.error().ToString();
  EXPECT_EQ(*gate, AttemptGate::kNotOurs);
  gate = store.BeginAttempt("w1", id, 3, WallNowMs());
  ASSERT_TRUE(gate.ok()) << gate.error().ToString();
  EXPECT_EQ(*gate, AttemptGate::kNotOurs);
  // The next attempt begins as usual.
  gate = store.BeginAttempt("w1", id, 2, WallNowMs());
  ASSERT_TRUE(gate.ok()) << gate.error().ToString();
  EXPECT_EQ(*gate, AttemptGate::kStart);
}

// A receiver that answers 503 or 200 by a rule of (delivery id, attempt)
// (so whichever worker sends an attempt, the answer is the same), and
// journals every request.
class FlakyReceiver {
 public:
  struct Request {
    int attempt = 0;
    int status = 0;
  };
  FlakyReceiver() {
    // Four workers' connections at once, kept alive.
    server_.server().new_task_queue = [] {
      return new httplib::ThreadPool(24);
    };
    server_.server().Post("/hook", [this](const auto& req, auto& res) {
      const std::string id = req.get_header_value("X-Hooksim-Delivery");
      const int attempt =
          std::atoi(req.get_header_value("X-Hooksim-Attempt").c_str());
      const int status = Fails(id, attempt) ? 503 : 200;
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_[id].push_back({attempt, status});
      }
      res.status = status;
      res.set_content("{}", "application/json");
    });
    server_.Start();
  }
  // About 55% of attempts fail; some deliveries fail all six.
  static bool Fails(const std::string& id, int attempt) {
    uint64_t h = 1469598103934665603ull;
    for (char c : id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    // SplitMix64's finalizer of (id hash, attempt): independent per attempt.
    uint64_t x = h + static_cast<uint64_t>(attempt) * 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x % 100 < 55;
  }
  std::string url() const { return server_.url("/hook"); }
  std::map<std::string, std::vector<Request>> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<Request>> seen_;
  HttplibServer server_;  // Last: stopped first.
};

double Takeovers(const WorkerMetrics& m) {
  for (const auto& family : m.registry()->Collect()) {
    if (family.name == "hooksim_worker_lease_takeovers_total" &&
        !family.metric.empty()) {
      return family.metric[0].counter.value;
    }
  }
  return -1;
}

// `workers` runners (threads, each with its own connection) deliver
// `deliveries` deliveries (2 hooks) from one PostgreSQL queue over a flaky
// receiver, while `meanwhile` runs on this thread; then each delivery's
// attempts, counted at the receiver and in the database: at most the
// contract's six, the same at both, numbered 1..n with none repeated,
// none after a 2xx, none lost, and no lease taken from a live worker.
void ShareOneQueue(PgCluster& pg, int deliveries, int workers,
                   const std::function<void(FlakyReceiver&)>& meanwhile) {
  FlakyReceiver receiver;
  std::string batch;
  {
    Result<std::unique_ptr<StateBackend>> s =
        OpenState(pg.Url(), {.create = true});
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    ASSERT_TRUE((*s)->AddHook(receiver.url(), "", WallNowMs()).ok());
    ASSERT_TRUE((*s)->AddHook(receiver.url(), "", WallNowMs()).ok());
    Result<EnqueueResult> e =
        (*s)->Enqueue(Events(deliveries / 2), WallNowMs());
    ASSERT_TRUE(e.ok()) << e.error().ToString();
    ASSERT_EQ(e->deliveries, deliveries / 2 * 2);
    batch = e->batch;
  }
  std::vector<std::unique_ptr<WorkerMetrics>> metrics;
  std::vector<DurableRunSummary> summaries(static_cast<size_t>(workers));
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    metrics.push_back(std::make_unique<WorkerMetrics>());
  }
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      Result<std::unique_ptr<StateBackend>> s = OpenState(pg.Url());
      if (!s.ok()) {
        summaries[w].error = s.error();
        return;
      }
      DurableRunOptions o;
      o.schedule = {Millis(5), Millis(5), Millis(5), Millis(5), Millis(5)};
      o.jitter = 0;
      o.jitter_given = o.schedule_given = true;
      o.timeout = std::chrono::seconds(10);
      o.concurrency = 4;
      o.seed = static_cast<uint64_t>(w + 1);
      o.handle_signals = false;
      o.lease = std::chrono::seconds(20);
      o.metrics = metrics[w].get();
      std::ostringstream out;
      summaries[w] = RunDurableDeliveries(**s, o, out);
    });
  }
  meanwhile(receiver);
  for (std::thread& t : threads) t.join();
  uint64_t attempts_sent = 0;
  for (int w = 0; w < workers; ++w) {
    EXPECT_TRUE(summaries[w].error.ok()) << summaries[w].error.ToString();
    EXPECT_EQ(Takeovers(*metrics[w]), 0) << "no lease taken from a live worker";
    attempts_sent += summaries[w].attempts;
  }

  Result<std::unique_ptr<StateBackend>> s = OpenState(pg.Url());
  ASSERT_TRUE(s.ok());
  const std::map<std::string, DeliveryCounts> counts =
      *(*s)->CountBatch(batch);
  int64_t delivered = 0, gave_up = 0, other = 0;
  for (const auto& [hook, c] : counts) {
    delivered += c.delivered;
    gave_up += c.gave_up;
    other += c.pending + c.held + c.cancelled + c.failed;
  }
  EXPECT_EQ(delivered + gave_up, deliveries) << "every delivery ended";
  EXPECT_EQ(other, 0);
  const auto seen = receiver.seen();
  EXPECT_EQ(seen.size(), static_cast<size_t>(deliveries)) << "none lost";
  uint64_t requests = 0;
  int checked = 0;
  for (const auto& [id, reqs] : seen) {
    SCOPED_TRACE(id);
    requests += reqs.size();
    ASSERT_LE(reqs.size(), 6u) << "at most the contract's six attempts";
    for (size_t k = 0; k < reqs.size(); ++k) {
      ASSERT_EQ(reqs[k].attempt, static_cast<int>(k) + 1)
          << "attempts numbered 1..n, in order, none repeated";
      if (reqs[k].status == 200) {
        ASSERT_EQ(k + 1, reqs.size()) << "nothing sent after a 2xx";
      }
    }
    Result<std::vector<std::pair<int, std::string>>> stored =
        (*s)->Attempts(id);
    ASSERT_TRUE(stored.ok());
    ASSERT_EQ(stored->size(), reqs.size()) << "the database counts the same";
    for (size_t k = 0; k < reqs.size(); ++k) {
      ASSERT_EQ((*stored)[k].second, std::to_string(reqs[k].status));
    }
    const std::string state = (*s)->DeliveryState(id)->first;
    ASSERT_EQ(state, reqs.back().status == 200 ? "delivered" : "gave_up");
    if (state == "gave_up") {
      ASSERT_EQ(reqs.size(), 6u);
    }
    ++checked;
  }
  EXPECT_EQ(checked, deliveries);
  EXPECT_EQ(requests, attempts_sent);
  EXPECT_GT(gave_up, 0) << "the rule makes some fail six times";
}

// Issue 19 point 2: 4 workers share one queue (see ShareOneQueue).
// HOOKSIM_PG_DELIVERIES sets how many deliveries (default 2000 here, to
// keep CTest short on a shared 2-core CI machine; the issue's 10,000 pass
// the same checks).
TEST(PostgresStoreTest, FourWorkersShareOneQueueWithinTheAttemptLimit) {
  START_PG(pg);
  int deliveries = 2000;
  if (const char* n = std::getenv("HOOKSIM_PG_DELIVERIES")) {
    deliveries = std::max(2, std::atoi(n));
  }
  ShareOneQueue(pg, deliveries, 4, [](FlakyReceiver&) {});
}

// A PostgreSQL restart mid-run (immediate stop: as a crash of the server)
// is survived: the workers reconnect with backoff and finish, and the
// same checks hold.
TEST(PostgresStoreTest, WorkersSurviveAPostgresRestart) {
  START_PG(pg);
  ShareOneQueue(pg, 400, 2, [&](FlakyReceiver& receiver) {
    const auto until = std::chrono::steady_clock::now() + kMaxWait;
    while (receiver.seen().size() < 100 &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(pg.Stop());
    const size_t at_stop = receiver.seen().size();
    EXPECT_GE(at_stop, 100u);
    EXPECT_LT(at_stop, 400u) << "stopped mid-run, with deliveries left";
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_TRUE(pg.Start()) << "the same port again";
  });
}

}  // namespace
}  // namespace hooksim
