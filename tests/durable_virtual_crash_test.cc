// The durable sender crashed and restarted in virtual time.
//
// Each seed stores 30 events for three hooks (90 deliveries) whose mock
// receivers answer a seeded mix of 2xx, 503 and hangs (timeouts), then runs
// the durable sender in the virtual world (SenderWorld: virtual clock,
// virtual network, the receivers) and kills it at seeded engine steps: the
// runner, its engine, the loop and the network are destroyed without
// releasing anything (as kill -9 would); the store file and the receivers
// (the outside world) stay. A new runner is built on a new virtual world
// whose wall time starts where the crashed one stopped plus a seeded pause
// (sometimes before the dead runner's leases end, so the new runner waits
// for them in virtual time), restores from the store, and goes on, until
// one life finishes. Then, counted at the receivers and in the store:
// - every delivery ended delivered or gave_up, nothing is pending;
// - no delivery got more requests than the contract's six;
// - nothing reached a receiver after the 2xx the store recorded (the
//   delivered attempt is the last one the store and the receiver have);
// - the store's attempts equal the requests seen plus at most the attempts
//   in flight at the crashes (an attempt recorded as started whose outcome
//   was lost is the documented at-least-once window); a receiver saw a
//   request after one it answered 2xx only for a delivery with such a lost
//   outcome;
// - a delivery gave up with fewer than six requests only if an outcome was
//   lost; every request carried the attempt number the receiver counted.
// The seeds are printed; HOOKSIM_CRASH_SEED=N reruns one (it also picks
// the real-process crash test's seed).
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mock-receivers/behavior.h"
#include "mock-receivers/receiver.h"
#include "sim/base/random.h"
#include "sim/durable/durable_delivery.h"
#include "sim/durable/state_store.h"
#include "sim/os/temp_dir.h"
#include "sim/world/sender_world.h"

namespace hooksim {
namespace {

constexpr int kEvents = 30;
constexpr int64_t kLeaseMs = 3000;
constexpr int kFirstSeed = 1;
constexpr int kSeeds = 20;

BehaviorSpec Mix(double ok, double unavailable, double hang) {
  BehaviorSpec spec;
  spec.answers = WeightedAnswer{{{Answer{200, Fault::kNone}, ok},
                                 {Answer{503, Fault::kNone}, unavailable},
                                 {Answer{200, Fault::kHang}, hang}}};
  spec.latency = LatencyUniform{Millis(5), Millis(80)};
  return spec;
}

struct StoredAttempts {
  std::string state;
  // attempt number -> result ("" when its outcome was never recorded).
  std::map<int, std::string> attempts;
};

// Reads every delivery and its attempts straight from the file.
std::map<std::string, StoredAttempts> ReadStore(const std::string& path) {
  std::map<std::string, StoredAttempts> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT id, state FROM deliveries", -1,
                               &q, nullptr),
            SQLITE_OK);
  while (sqlite3_step(q) == SQLITE_ROW) {
    out[reinterpret_cast<const char*>(sqlite3_column_text(q, 0))].state =
        reinterpret_cast<const char*>(sqlite3_column_text(q, 1));
  }
  sqlite3_finalize(q);
  EXPECT_EQ(sqlite3_prepare_v2(
                db, "SELECT delivery_id, attempt, result FROM attempts", -1,
                &q, nullptr),
            SQLITE_OK);
  while (sqlite3_step(q) == SQLITE_ROW) {
    const unsigned char* result = sqlite3_column_text(q, 2);
    out[reinterpret_cast<const char*>(sqlite3_column_text(q, 0))]
        .attempts[sqlite3_column_int(q, 1)] =
        result ? reinterpret_cast<const char*>(result) : "";
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

bool Is2xx(const std::string& result) {
  return result.size() == 3 && result[0] == '2';
}

struct SeedFigures {
  int crashes = 0;        // Lives that ended in a crash.
  uint64_t lost = 0;      // Attempts in flight at those crashes.
  size_t deliveries = 0;
  uint64_t requests = 0;  // At the receivers.
  int waited = 0;  // Lives that waited for a dead runner's lease to end.
};

// One seed: store, crash, restart, finish; then every check above.
SeedFigures RunSeed(uint64_t seed) {
  SCOPED_TRACE("virtual crash test seed " + std::to_string(seed) +
               " (HOOKSIM_CRASH_SEED=" + std::to_string(seed) +
               " reruns it)");
  SeedFigures figures;
  TempDir dir("hooksim-vcrash");
  EXPECT_TRUE(dir.ok());
  const std::string path = dir.File("state.db");
  Random rng(seed);

  // The outside world: three receivers, kept across crashes.
  const std::vector<std::pair<std::string, BehaviorSpec>> specs = {
      {"mostly-ok", Mix(0.75, 0.15, 0.10)},
      {"flaky", Mix(0.30, 0.45, 0.25)},
      {"down", Mix(0.0, 0.8, 0.2)}};
  std::vector<std::unique_ptr<MockReceiver>> receivers;
  SenderWorldOptions world_options;
  world_options.world = World::kVirtual;
  int64_t wall_ms = 1'700'000'000'000;  // Unix ms when the first life starts.
  // The operator's connection: makes the hooks and events (ids seeded, so
  // the seed decides every answer), and stays open meanwhile, as a
  // `hooks list` might (it also spares a WAL checkpoint per crash).
  Result<std::unique_ptr<StateStore>> setup =
      StateStore::Open(path, StoreOptions{.create = true, .id_seed = seed});
  EXPECT_TRUE(setup.ok());
  if (!setup.ok()) return figures;
  {
    StateStore* store = setup->get();
    for (const auto& [name, spec] : specs) {
      ReceiverOptions ropts;
      ropts.name = name;
      receivers.push_back(std::make_unique<MockReceiver>(
          ropts, spec, rng.Fork("receiver:" + name)));
      const std::string url = "sim://" + name + "/hook";
      world_options.receivers.emplace_back(url, receivers.back().get());
      EXPECT_TRUE(store->AddHook(url, "", wall_ms).ok());
    }
    std::vector<FileEvent> events;
    for (int i = 0; i < kEvents; ++i) {
      events.push_back(
          {"release", "{\"event\":\"release\",\"n\":" + std::to_string(i) +
                          "}"});
    }
    EXPECT_TRUE(store->Enqueue(events, wall_ms).ok());
  }

  DurableRunOptions options;
  options.schedule = {Millis(100), Millis(300), Millis(900), Millis(2700),
                      Millis(8100)};
  options.timeout = std::chrono::seconds(1);
  options.jitter = 0.2;
  options.concurrency = 4;
  options.lease = Millis(kLeaseMs);
  options.handle_signals = false;
  // Crash points: a seeded number of lives, each killed after a seeded
  // number of loop steps; the last life runs to the end.
  const int crashes = static_cast<int>(rng.UniformInt(6, 14));
  bool finished = false;
  // A full run takes about a thousand steps: the last life gets far more,
  // and at most two more lives if it still does not end (then it fails).
  for (int life = 0; life <= crashes + 2 && !finished; ++life) {
    const bool crash = life < crashes;
    const uint64_t steps =
        crash ? static_cast<uint64_t>(rng.UniformInt(1, 120)) : 50'000;
    Result<std::unique_ptr<StateStore>> store = StateStore::Open(path);
    EXPECT_TRUE(store.ok());
    if (!store.ok()) return figures;
    world_options.start_unix_ms = wall_ms;
    Result<std::unique_ptr<SenderWorld>> world =
        SenderWorld::Make(world_options);
    EXPECT_TRUE(world.ok());
    if (!world.ok()) return figures;
    options.seed = rng.Next();
    std::ostringstream out;
    auto runner = std::make_unique<DurableRunner>(**store, (*world)->Durable(),
                                                  options, out);
    EXPECT_TRUE(runner->Start().ok());
    const Status run = (*world)->loop().Run(LoopLimits{steps});
    wall_ms = (*world)->WallNowMs();
    if (out.str().find("another runner holds") != std::string::npos) {
      ++figures.waited;
    }
    if (run.ok()) {  // The runner found nothing left and stopped.
      const DurableRunSummary summary = runner->Finish(Status::Ok());
      EXPECT_TRUE(summary.error.ok())
          << summary.error.ToString() << "\n" << out.str();
      EXPECT_EQ(summary.abandoned, 0u);
      finished = true;
      continue;
    }
    // kill -9: nothing is released or recorded from here on.
    ++figures.crashes;
    figures.lost += runner->in_flight();
    runner.reset();
    world->reset();
    store->reset();
    // The next process starts a little later: sometimes while the dead
    // runner's leases still hold (the new one waits them out).
    wall_ms += rng.UniformInt(0, kLeaseMs + 2000);
  }
  EXPECT_TRUE(finished) << "the last life did not finish";

  // The checks, per delivery.
  setup->reset();
  const std::map<std::string, StoredAttempts> stored = ReadStore(path);
  figures.deliveries = stored.size();
  EXPECT_EQ(stored.size(), static_cast<size_t>(kEvents) * specs.size());
  uint64_t store_attempts = 0;
  uint64_t seen_total = 0;
  for (const auto& [id, d] : stored) {
    SCOPED_TRACE("delivery " + id + " (" + d.state + ")");
    int seen = 0;
    int after_success = 0;
    int header_mismatches = 0;
    for (const auto& receiver : receivers) {
      receiver->WithJournal([&](const Journal& journal) {
        const DeliveryLookup look = journal.Look(id);
        if (!look.index) return;
        const DeliveryCounters& c = journal.deliveries().value(*look.index);
        seen += c.attempts;
        after_success += c.attempts_after_success();
        header_mismatches += c.attempt_header_mismatches;
      });
    }
    int lost = 0;
    int last = 0;
    int first_2xx = 0;
    for (const auto& [n, result] : d.attempts) {
      lost += result.empty() ? 1 : 0;
      last = n;
      if (first_2xx == 0 && Is2xx(result)) first_2xx = n;
    }
    const int recorded = static_cast<int>(d.attempts.size());
    store_attempts += static_cast<uint64_t>(recorded);
    seen_total += static_cast<uint64_t>(seen);
    EXPECT_TRUE(d.state == "delivered" || d.state == "gave_up");
    EXPECT_LE(seen, kStoreMaxAttempts);
    EXPECT_LE(recorded, kStoreMaxAttempts);
    EXPECT_EQ(last, recorded) << "attempt numbers have a gap";
    EXPECT_GE(recorded, seen) << "a request the store never recorded";
    EXPECT_EQ(header_mismatches, 0);
    if (d.state == "delivered") {
      // Nothing after the recorded 2xx, in the store or at the receiver.
      EXPECT_EQ(first_2xx, last);
      EXPECT_LE(seen, first_2xx);
    } else {
      EXPECT_EQ(first_2xx, 0) << "gave up after a recorded 2xx";
      EXPECT_EQ(recorded, kStoreMaxAttempts);
      if (seen < kStoreMaxAttempts) EXPECT_GT(lost, 0);
    }
    // A request after a 2xx the receiver gave: only when that 2xx's
    // outcome was lost in a crash.
    if (after_success > 0) EXPECT_GT(lost, 0);
  }
  EXPECT_GE(store_attempts, seen_total);
  EXPECT_LE(store_attempts - seen_total, figures.lost);
  figures.requests = seen_total;
  return figures;
}

TEST(DurableVirtualCrashTest, SeededCrashPointsKeepTheAttemptContract) {
  std::vector<uint64_t> seeds;
  if (const char* env = std::getenv("HOOKSIM_CRASH_SEED")) {
    seeds.push_back(std::strtoull(env, nullptr, 10));
  } else {
    for (int s = kFirstSeed; s < kFirstSeed + kSeeds; ++s) seeds.push_back(s);
  }
  const auto start = std::chrono::steady_clock::now();
  SeedFigures total;
  for (uint64_t seed : seeds) {
    const SeedFigures f = RunSeed(seed);
    total.crashes += f.crashes;
    total.lost += f.lost;
    total.deliveries += f.deliveries;
    total.requests += f.requests;
    total.waited += f.waited;
    if (::testing::Test::HasFailure()) break;  // Its seed is in the trace.
  }
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  std::printf(
      "virtual crash test: seeds %llu..%llu, %d crash points, %llu attempts "
      "in flight at crashes, %d restarts waited for a dead lease, %zu "
      "deliveries, %llu requests, %.2f s\n",
      static_cast<unsigned long long>(seeds.front()),
      static_cast<unsigned long long>(seeds.back()), total.crashes,
      static_cast<unsigned long long>(total.lost), total.waited,
      total.deliveries,
      static_cast<unsigned long long>(total.requests), seconds);
  // Enough crashes to mean something (each seed plans 6..14).
  EXPECT_GE(total.crashes, static_cast<int>(seeds.size()) * 2);
  if (seeds.size() > 1) EXPECT_GT(total.waited, 0);  // Leases did expire.
}

}  // namespace
}  // namespace hooksim
