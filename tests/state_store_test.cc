#include "sim/os/temp_dir.h"
#include "sim/durable/state_store.h"
#include "sim/durable/open_state.h"
#include "tests/pg_cluster.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace hooksim {
namespace {

std::unique_ptr<StateStore> MustOpen(const std::string& path) {
  Result<std::unique_ptr<StateStore>> s =
      StateStore::Open(path, StoreOptions{.create = true});
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

std::vector<FileEvent> Events(int n) {
  std::vector<FileEvent> events;
  for (int i = 0; i < n; ++i) {
    events.push_back({"release", R"({"event":"release","data":{"n":)" +
                                     std::to_string(i) + "}}"});
  }
  return events;
}

// The store's lease protocol, against each backend: SQLite (a file, always)
// and PostgreSQL (a throwaway cluster; skipped only when the PostgreSQL
// binaries are not installed).
enum class Backend { kSqlite, kPostgres };

class StoreBackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      pg_ = std::make_unique<PgCluster>();
      if (!pg_->Available()) GTEST_SKIP() << pg_->skip_reason();
      ASSERT_TRUE(pg_->up()) << pg_->error();
    }
  }
  // The state every Open() of this test opens.
  std::string Location() const {
    return GetParam() == Backend::kPostgres ? pg_->Url() : dir_.File("s.db");
  }
  std::unique_ptr<StateBackend> Open() {
    Result<std::unique_ptr<StateBackend>> s =
        OpenState(Location(), StoreOptions{.create = true});
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  TempDir dir_{"hooksim_store"};
  std::unique_ptr<PgCluster> pg_;
};

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreBackendTest,
    ::testing::Values(Backend::kSqlite, Backend::kPostgres),
    [](const ::testing::TestParamInfo<Backend>& info) {
      return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
    });

TEST(StateStoreTest, CreatesTheDirectoryAndKeepsHooksAcrossReopening) {
  TempDir dir("hooksim_store");
  const std::string path = dir.File("nested/deeper/state.db");
  std::string id;
  {
    std::unique_ptr<StateStore> store = MustOpen(path);
    ASSERT_TRUE(store);
    Result<StoredHook> a = store->AddHook("http://127.0.0.1:1/a", "", 1000);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->id.rfind("hk_", 0), 0u);
    EXPECT_EQ(a->id.size(), 15u);
    id = a->id;
    Result<StoredHook> b =
        store->AddHook("http://127.0.0.1:1/b", "whsec_AAAA", 2000);
    ASSERT_TRUE(b.ok());
    EXPECT_NE(a->id, b->id);
    ASSERT_TRUE(store->PauseHook(b->id, 0).ok());
  }
  std::unique_ptr<StateStore> again = MustOpen(path);
  ASSERT_TRUE(again);
  Result<std::vector<StoredHook>> hooks = again->ListHooks(false);
  ASSERT_TRUE(hooks.ok());
  ASSERT_EQ(hooks->size(), 2u);
  EXPECT_EQ((*hooks)[0].id, id);
  EXPECT_EQ((*hooks)[0].url, "http://127.0.0.1:1/a");
  EXPECT_EQ((*hooks)[0].state, HookState::kActive);
  EXPECT_EQ((*hooks)[0].created_ms, 1000);
  EXPECT_EQ((*hooks)[1].secret, "whsec_AAAA");
  EXPECT_EQ((*hooks)[1].state, HookState::kPaused);
}

TEST(StateStoreTest, RefusesFilesThatAreNotItsDatabase) {
  TempDir dir("hooksim_store");
  const std::string junk = dir.File("junk.db");
  std::ofstream(junk) << "this is not an SQLite database, just some text that "
                         "is long enough to fill a header page............";
  Result<std::unique_ptr<StateStore>> s = StateStore::Open(junk);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find(junk), std::string::npos)
      << s.error().message();

  const std::string newer = dir.File("newer.db");
  ASSERT_TRUE(MustOpen(newer));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(newer.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  s = StateStore::Open(newer);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("schema version 99"), std::string::npos)
      << s.error().message();

  std::ofstream(dir.File("a-file")) << "x";
  s = StateStore::Open(dir.File("a-file/state.db"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("cannot create the directory"),
            std::string::npos)
      << s.error().message();
}

TEST_P(StoreBackendTest, PauseResumeRemoveReportUnknownIdsAndNoOps) {
  std::unique_ptr<StateBackend> store = Open();
  ASSERT_TRUE(store);
  const std::string id = store->AddHook("http://127.0.0.1:1/a", "", 1)->id;
  EXPECT_EQ(store->PauseHook("hk_nope", 0)->change, HookChange::kNotFound);
  EXPECT_EQ(store->ResumeHook(id, 5)->change, HookChange::kAlreadyInState);
  EXPECT_EQ(store->PauseHook(id, 0)->change, HookChange::kChanged);
  EXPECT_EQ(store->PauseHook(id, 0)->change, HookChange::kAlreadyInState);
  EXPECT_EQ(store->ResumeHook(id, 5)->change, HookChange::kChanged);
  EXPECT_EQ(store->RemoveHook(id, 6)->change, HookChange::kChanged);
  EXPECT_EQ(store->RemoveHook(id, 7)->change, HookChange::kNotFound);
  EXPECT_EQ(store->PauseHook(id, 0)->change, HookChange::kNotFound);
  EXPECT_TRUE(store->ListHooks(false)->empty());
  ASSERT_EQ(store->ListHooks(true)->size(), 1u);
  EXPECT_EQ((*store->ListHooks(true))[0].state, HookState::kRemoved);
}

TEST_P(StoreBackendTest, EnqueueHoldsForPausedHooksAndResumeReleasesInOrder) {
  std::unique_ptr<StateBackend> store = Open();
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->Enqueue(Events(1), 1).ok()) << "no hooks";
  const std::string a = store->AddHook("http://127.0.0.1:1/a", "", 1)->id;
  const std::string b = store->AddHook("http://127.0.0.1:1/b", "", 1)->id;
  ASSERT_EQ(store->PauseHook(b, 0)->change, HookChange::kChanged);
  Result<EnqueueResult> e = store->Enqueue(Events(3), 100);
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  EXPECT_EQ(e->deliveries, 6);
  EXPECT_EQ(e->last_event - e->first_event, 2);
  EXPECT_EQ(e->held_by_hook[b], 3);

  // Only the active hook's deliveries are claimable.
  Result<ClaimResult> c = store->Claim("me", {}, 100);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->deliveries.size(), 3u);
  for (const ClaimedDelivery& d : c->deliveries) EXPECT_EQ(d.hook_id, a);
  EXPECT_TRUE(store->Claim("other", {}, 100)->deliveries.empty())
      << "rows owned by a live runner are not claimed twice";

  Result<HookChangeResult> r = store->ResumeHook(b, 200);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deliveries, 3);
  c = store->Claim("other", {}, 200);
  ASSERT_EQ(c->deliveries.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c->deliveries[i].hook_id, b);
    EXPECT_EQ(c->deliveries[i].event_id, e->first_event + int64_t(i))
        << "held deliveries come back in order";
    EXPECT_EQ(c->deliveries[i].body,
              R"({"event":"release","data":{"n":)" + std::to_string(i) + "}}");
  }
  std::map<std::string, DeliveryCounts> counts =
      *store->CountByHook(e->first_event, e->last_event);
  EXPECT_EQ(counts[a].pending, 3);
  EXPECT_EQ(counts[b].pending, 3);
}

TEST_P(StoreBackendTest, AttemptsAreRecordedBeforeAndAfterAndSurviveReopening) {
  const std::string path = Location();
  std::string delivery;
  {
    std::unique_ptr<StateBackend> store = Open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->AddHook("http://127.0.0.1:1/a", "", 1).ok());
    ASSERT_TRUE(store->Enqueue(Events(1), 10).ok());
    Result<ClaimResult> c = store->Claim("me", {}, 10);
    ASSERT_EQ(c->deliveries.size(), 1u);
    delivery = c->deliveries[0].id;
    EXPECT_EQ(delivery.rfind("dlv_", 0), 0u);
    EXPECT_EQ(delivery.size(), 20u);
    EXPECT_EQ(*store->BeginAttempt("me", delivery, 1, 11), AttemptGate::kStart);
    EXPECT_EQ(*store->BeginAttempt("intruder", delivery, 2, 11),
              AttemptGate::kNotOurs)
        << "only the owner records attempts";
    ASSERT_TRUE(*store->EndAttempt(
        "me", AttemptEnd{delivery, 1, 12, "503", "pending", 5000}));
    EXPECT_EQ(*store->BeginAttempt("me", delivery, 2, 5000),
              AttemptGate::kStart);
    // The process dies here: attempt 2 started, never ended.
  }
  std::unique_ptr<StateBackend> store = Open();
  ASSERT_TRUE(store);
  Result<std::vector<std::pair<int, std::string>>> attempts =
      store->Attempts(delivery);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0], std::make_pair(1, std::string("503")));
  EXPECT_EQ((*attempts)[1], std::make_pair(2, std::string()));
  // "me" is still this (live) process's token: release as a stopped runner
  // would be, then claim: two attempts count, the next is due now.
  ASSERT_TRUE(store->Release("me").ok());
  Result<ClaimResult> c = store->Claim("next", {}, 6000);
  ASSERT_EQ(c->deliveries.size(), 1u);
  EXPECT_EQ(c->deliveries[0].attempts_started, 2);
  EXPECT_EQ(c->deliveries[0].id, delivery);
  EXPECT_EQ(*store->BeginAttempt("next", delivery, 3, 6001),
            AttemptGate::kStart);
  ASSERT_TRUE(*store->EndAttempt(
      "next", AttemptEnd{delivery, 3, 6002, "200", "delivered", 6002}));
  EXPECT_EQ(store->DeliveryState(delivery)->first, "delivered");
  EXPECT_TRUE(store->Claim("later", {}, 7000)->deliveries.empty())
      << "a delivered delivery is never claimed again";
  EXPECT_EQ(*store->BeginAttempt("next", delivery, 4, 7000),
            AttemptGate::kNotOurs);
}

TEST_P(StoreBackendTest, SixStartedAttemptsEndGaveUpOnClaim) {
  std::unique_ptr<StateBackend> store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->AddHook("http://127.0.0.1:1/a", "", 1).ok());
  ASSERT_TRUE(store->Enqueue(Events(1), 10).ok());
  const std::string id = store->Claim("me", {}, 10)->deliveries.at(0).id;
  for (int attempt = 1; attempt <= 6; ++attempt) {
    ASSERT_EQ(*store->BeginAttempt("me", id, attempt, 10 + attempt),
              AttemptGate::kStart);
    if (attempt < 6) {
      ASSERT_TRUE(*store->EndAttempt(
          "me", AttemptEnd{id, attempt, 20, "timeout", "pending", 20}));
    }
  }
  ASSERT_TRUE(store->Release("me").ok());
  Result<ClaimResult> c = store->Claim("next", {}, 100);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->deliveries.empty());
  ASSERT_EQ(c->gave_up.size(), 1u);
  EXPECT_EQ(c->gave_up[0].id, id);
  EXPECT_EQ(store->DeliveryState(id)->first, "gave_up");
  EXPECT_NE(store->DeliveryState(id)->second.find("lost"), std::string::npos);
}

// Finding 1 (stranded forever when the runner was PID 1) and 5 (a claim
// had no expiry): a claim is a lease; once it has ended, any runner takes
// the rows over, whatever process held them (here "1-...", as a runner
// that was PID 1 in a container names itself), and a live runner keeps
// them by renewing.
TEST_P(StoreBackendTest, Finding1And5_ExpiredLeasesAreTakenOverWhateverThePid) {
  const std::string path = Location();
  std::unique_ptr<StateBackend> store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->AddHook("http://127.0.0.1:1/a", "", 1).ok());
  ASSERT_TRUE(store->Enqueue(Events(3), 10).ok());
  ClaimOptions lease;
  lease.lease_ms = 1000;
  const std::string pid1 = "1-00000000deadbeef";
  ASSERT_EQ(store->Claim(pid1, lease, 10)->deliveries.size(), 3u);
  EXPECT_TRUE(store->Claim("other", lease, 500)->deliveries.empty())
      << "a live lease is respected";
  // The holder renews at 900: its lease now runs to 1900.
  EXPECT_EQ(*store->RenewLeases(pid1, 900, 1000), 3);
  EXPECT_TRUE(store->Claim("other", lease, 1500)->deliveries.empty());
  // It stops renewing (killed as PID 1 of a container): at 1900 the rows
  // are anyone's.
  Result<ClaimResult> taken = store->Claim("other", lease, 1900);
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->deliveries.size(), 3u);
  // The old holder cannot start an attempt on a row it lost.
  EXPECT_EQ(*store->BeginAttempt(pid1, taken->deliveries[0].id, 1, 1901),
            AttemptGate::kNotOurs);
  EXPECT_EQ(*store->BeginAttempt("other", taken->deliveries[0].id, 1, 1901),
            AttemptGate::kStart);
  // Pending() sees the new holder's live leases.
  PendingInfo p = *store->Pending("third", {}, 1902);
  EXPECT_EQ(p.pending, 3);
  EXPECT_EQ(p.leased_by_others, 3);
  EXPECT_EQ(p.next_lease_end_ms, 2900);
}

TEST_P(StoreBackendTest, RowsAnExpiredLeaseLeftForAPausedHookBecomeHeld) {
  const std::string path = Location();
  std::unique_ptr<StateBackend> store = Open();
  ASSERT_TRUE(store);
  const std::string id = store->AddHook("http://127.0.0.1:1/a", "", 1)->id;
  Result<EnqueueResult> e = store->Enqueue(Events(2), 10);
  ClaimOptions lease;
  lease.lease_ms = 1000;
  ASSERT_EQ(store->Claim("me", lease, 10)->deliveries.size(), 2u);
  // Paused while a live runner holds the rows: they stay pending for it
  // (it holds them at its next BeginAttempt).
  ASSERT_EQ(store->PauseHook(id, 20)->deliveries, 0);
  // The runner died: once its lease ends, the next claim holds them
  // rather than leaving them pending for a paused hook.
  EXPECT_TRUE(store->Claim("other", lease, 2000)->deliveries.empty());
  DeliveryCounts c = store->CountBatch(e->batch)->at(id);
  EXPECT_EQ(c.held, 2);
  EXPECT_EQ(c.pending, 0);
  ASSERT_EQ(store->ResumeHook(id, 3000)->deliveries, 2);
  EXPECT_EQ(store->Claim("other", lease, 3000)->deliveries.size(), 2u);
}

TEST_P(StoreBackendTest, PauseAndRemoveReachRowsARunnerHolds) {
  std::unique_ptr<StateBackend> store = Open();
  ASSERT_TRUE(store);
  const std::string a = store->AddHook("http://127.0.0.1:1/a", "", 1)->id;
  const std::string b = store->AddHook("http://127.0.0.1:1/b", "", 1)->id;
  Result<EnqueueResult> e = store->Enqueue(Events(1), 10);
  Result<ClaimResult> c = store->Claim("me", {}, 10);
  ASSERT_EQ(c->deliveries.size(), 2u);
  const std::string da = c->deliveries[0].id;
  const std::string db = c->deliveries[1].id;
  ASSERT_EQ(store->PauseHook(a, 0)->change, HookChange::kChanged);
  EXPECT_EQ(*store->BeginAttempt("me", da, 1, 11), AttemptGate::kHeld);
  EXPECT_EQ(store->DeliveryState(da)->first, "held");
  ASSERT_EQ(store->RemoveHook(b, 12)->deliveries, 1);
  EXPECT_EQ(*store->BeginAttempt("me", db, 1, 13), AttemptGate::kCancelled);
  EXPECT_EQ(store->DeliveryState(db)->first, "cancelled");
  EXPECT_EQ(store->DeliveryState(db)->second, "hook removed");
  EXPECT_TRUE(store->Attempts(da)->empty()) << "nothing sent while paused";
  EXPECT_TRUE(store->Attempts(db)->empty());
  // A removed hook's held deliveries are cancelled too.
  ASSERT_EQ(store->RemoveHook(a, 14)->deliveries, 1);
  EXPECT_EQ(store->DeliveryState(da)->first, "cancelled");
  Result<std::vector<StoredHook>> all = store->ListHooks(true);
  EXPECT_EQ((*all)[0].counts.cancelled, 1);
  EXPECT_EQ((*all)[1].counts.cancelled, 1);
}

TEST(StateStoreTest, ASecondConnectionWaitsForTheWriteLockInsteadOfFailing) {
  TempDir dir("hooksim_store");
  const std::string path = dir.File("s.db");
  std::unique_ptr<StateStore> store = MustOpen(path);
  ASSERT_TRUE(store);
  const std::string id = store->AddHook("http://127.0.0.1:1/a", "", 1)->id;
  // Another connection holds the write lock for a while (as a worker's
  // transaction would), then lets go.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::thread releaser([other] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  });
  Result<HookChangeResult> paused = store->PauseHook(id, 0);
  releaser.join();
  sqlite3_close(other);
  ASSERT_TRUE(paused.ok()) << paused.error().ToString();
  EXPECT_EQ(paused->change, HookChange::kChanged);
  // And a second StateStore on the same file sees the change.
  std::unique_ptr<StateStore> second = MustOpen(path);
  ASSERT_TRUE(second);
  EXPECT_EQ((*second->FindHook(id))->state, HookState::kPaused);
}

TEST(StateStoreTest, ResolveStatePathPrefersFlagThenEnvironment) {
  const char* saved = std::getenv(kStateEnvVar);
  const std::string saved_value = saved ? saved : "";
  unsetenv(kStateEnvVar);
  EXPECT_EQ(ResolveStatePath(std::nullopt), kDefaultStatePath);
  setenv(kStateEnvVar, "/tmp/from-env.db", 1);
  EXPECT_EQ(ResolveStatePath(std::nullopt), "/tmp/from-env.db");
  EXPECT_EQ(ResolveStatePath(std::string("/tmp/flag.db")), "/tmp/flag.db");
  setenv(kStateEnvVar, "", 1);
  EXPECT_EQ(ResolveStatePath(std::nullopt), kDefaultStatePath);
  if (saved) {
    setenv(kStateEnvVar, saved_value.c_str(), 1);
  } else {
    unsetenv(kStateEnvVar);
  }
}

// Finding 7: a zero-length state file was silently re-created empty (its
// 4,000 pending deliveries gone). It is refused now, and left as it is; a
// missing file is created only when asked (`hooks add`).
TEST(StateStoreTest, Finding7_AZeroLengthStateFileIsRefusedNotRecreated) {
  TempDir dir;
  const std::string zero = dir.File("zero.db");
  std::ofstream(zero).flush();
  for (bool create : {false, true}) {
    Result<std::unique_ptr<StateStore>> s =
        StateStore::Open(zero, StoreOptions{.create = create});
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message().find(zero + ": an empty file (0 bytes)"),
              std::string::npos)
        << s.error().message();
  }
  EXPECT_EQ(std::filesystem::file_size(zero), 0u) << "left as it was";
  EXPECT_FALSE(std::filesystem::exists(zero + "-wal"));

  const std::string missing = dir.File("sub/missing.db");
  Result<std::unique_ptr<StateStore>> s = StateStore::Open(missing);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "no state database at " + missing +
                                     " (hooksim hooks add URL creates one)");
  EXPECT_FALSE(std::filesystem::exists(dir.File("sub"))) << "nothing created";
  ASSERT_TRUE(MustOpen(missing));
  EXPECT_TRUE(StateStore::Open(missing).ok()) << "exists now";
}

TEST(StateStoreTest, AnSqliteDatabaseThatIsNotHooksimsIsRefused) {
  TempDir dir;
  const std::string foreign = dir.File("foreign.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE photos (id INTEGER)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  for (bool create : {false, true}) {
    Result<std::unique_ptr<StateStore>> s =
        StateStore::Open(foreign, StoreOptions{.create = create});
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message().find("not a hooksim state database"),
              std::string::npos)
        << s.error().message();
  }
  // Nothing was added to it.
  ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master", -1, &q,
                     nullptr);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 1);
  sqlite3_finalize(q);
  sqlite3_close(db);
}

// Finding 7, second half: a stored body corrupted on disk was sent as it
// was. Each body carries a SHA-256; a mismatch fails the delivery with the
// reason, and it is never handed out to be sent.
TEST(StateStoreTest, Finding7_ABodyCorruptedOnDiskFailsItsDeliveryUnsent) {
  TempDir dir;
  const std::string path = dir.File("s.db");
  const std::string marker = "UNIQUE-MARKER-0123456789";
  {
    std::unique_ptr<StateStore> store = MustOpen(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->AddHook("http://127.0.0.1:1/a", "", 1).ok());
    ASSERT_TRUE(store
                    ->Enqueue({{"release", R"({"event":"release","n":1})"},
                               {"release", R"({"event":"release","m":")" +
                                               marker + R"("})"}},
                              10)
                    .ok());
  }  // The last connection's close checkpoints the WAL into the file.
  // Flip one byte of the body in the database file, as a bad disk would.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), {});
    const size_t at = bytes.find(marker);
    ASSERT_NE(at, std::string::npos);
    f.seekp(static_cast<std::streamoff>(at));
    f.put('X');
  }
  std::unique_ptr<StateStore> store = MustOpen(path);
  ASSERT_TRUE(store);
  Result<ClaimResult> c = store->Claim("me", {}, 20);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  ASSERT_EQ(c->deliveries.size(), 1u);
  EXPECT_EQ(c->deliveries[0].body, R"({"event":"release","n":1})");
  ASSERT_EQ(c->failed.size(), 1u);
  const auto [state, reason] = *store->DeliveryState(c->failed[0].id);
  EXPECT_EQ(state, "failed");
  EXPECT_NE(reason.find("does not match its checksum"), std::string::npos)
      << reason;
  EXPECT_TRUE(store->Attempts(c->failed[0].id)->empty()) << "never sent";
  EXPECT_TRUE(store->Claim("other", {}, 40000)->failed.empty()) << "once";
  EXPECT_EQ((*store->ListHooks(false))[0].counts.failed, 1);
}

// A state file of schema version 1 (owner pids) is migrated on open: rows a
// v1 runner held (here by pid 1, which always looks alive) are released,
// body checksums are computed, and everything else is kept.
TEST(StateStoreTest, ASchemaVersionOneFileIsMigratedAndItsClaimsReleased) {
  TempDir dir;
  const std::string path = dir.File("v1.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* v1 = R"sql(
PRAGMA journal_mode=WAL;
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE hooks (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL
  UNIQUE, url TEXT NOT NULL, secret TEXT NOT NULL DEFAULT '', state TEXT NOT
  NULL CHECK (state IN ('active', 'paused', 'removed')), created_ms INTEGER
  NOT NULL, removed_ms INTEGER);
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT
  NULL, body TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT
  NULL UNIQUE, hook_id TEXT NOT NULL REFERENCES hooks(id), event_id INTEGER
  NOT NULL REFERENCES events(id), state TEXT NOT NULL CHECK (state IN
  ('pending', 'held', 'delivered', 'gave_up', 'cancelled')), attempts INTEGER
  NOT NULL DEFAULT 0, next_at_ms INTEGER NOT NULL, last_result TEXT NOT NULL
  DEFAULT '', reason TEXT NOT NULL DEFAULT '', owner TEXT, owner_pid INTEGER,
  created_ms INTEGER NOT NULL, ended_ms INTEGER);
CREATE INDEX deliveries_by_state ON deliveries (state, seq);
CREATE INDEX deliveries_by_hook ON deliveries (hook_id, state);
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE TABLE attempts (delivery_id TEXT NOT NULL REFERENCES deliveries(id),
  attempt INTEGER NOT NULL, started_ms INTEGER NOT NULL, ended_ms INTEGER,
  result TEXT, PRIMARY KEY (delivery_id, attempt));
INSERT INTO hooks (id, url, state, created_ms)
  VALUES ('hk_000000000001', 'http://127.0.0.1:1/a', 'active', 1);
INSERT INTO events (type, body, created_ms)
  VALUES ('release', '{"event":"release","n":1}', 2),
         ('release', '{"event":"release","n":2}', 2);
INSERT INTO deliveries (id, hook_id, event_id, state, attempts, next_at_ms,
  owner, owner_pid, created_ms) VALUES
  ('dlv_0000000000000001', 'hk_000000000001', 1, 'pending', 2, 5, '1-ab', 1, 2),
  ('dlv_0000000000000002', 'hk_000000000001', 2, 'delivered', 1, 5, NULL, NULL, 2);
INSERT INTO attempts VALUES ('dlv_0000000000000001', 1, 3, 4, '503'),
  ('dlv_0000000000000001', 2, 5, NULL, NULL),
  ('dlv_0000000000000002', 1, 3, 4, '200');
)sql";
  ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);

  std::unique_ptr<StateStore> store = MustOpen(path);
  ASSERT_TRUE(store);
  Result<ClaimResult> c = store->Claim("new", {}, 100);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  ASSERT_EQ(c->deliveries.size(), 1u) << "pid 1's claim is gone";
  EXPECT_EQ(c->deliveries[0].id, "dlv_0000000000000001");
  EXPECT_EQ(c->deliveries[0].attempts_started, 2);
  EXPECT_TRUE(c->failed.empty()) << "checksums computed by the migration";
  EXPECT_EQ(*store->BeginAttempt("new", "dlv_0000000000000001", 3, 101),
            AttemptGate::kStart);
  EXPECT_EQ(store->DeliveryState("dlv_0000000000000002")->first, "delivered");
  EXPECT_EQ(store->Attempts("dlv_0000000000000001")->size(), 3u);
  EXPECT_EQ((*store->ListHooks(false))[0].counts.delivered, 1);
  store.reset();
  // Reopened: version 2 now, nothing to migrate.
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &q,
                     nullptr);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), kStateSchemaVersion);
  sqlite3_finalize(q);
  sqlite3_close(db);
  EXPECT_TRUE(MustOpen(path));
}

// A state file of schema version 2 (no contracts) gains the hooks'
// contract columns on open; its hooks keep the runner's contract.
TEST(StateStoreTest, ASchemaVersionTwoFileIsMigratedToThree) {
  TempDir dir;
  const std::string path = dir.File("v2.db");
  {
    std::unique_ptr<StateStore> store = MustOpen(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->AddHook("http://127.0.0.1:1/a", "", 1).ok());
    ASSERT_TRUE(store->Enqueue(Events(1), 10).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "ALTER TABLE hooks DROP COLUMN contract; "
                         "ALTER TABLE hooks DROP COLUMN contract_attempts; "
                         "ALTER TABLE hooks DROP COLUMN gone_ms; "
                         "UPDATE schema_version SET version = 2;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  std::unique_ptr<StateStore> store = MustOpen(path);
  ASSERT_TRUE(store);
  const std::vector<StoredHook> hooks = *store->ListHooks(false);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].contract, "");
  EXPECT_FALSE(hooks[0].gone_ms);
  Result<ClaimResult> c = store->Claim("me", {}, 100);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  ASSERT_EQ(c->deliveries.size(), 1u);
  EXPECT_EQ(c->deliveries[0].contract, "");
  store.reset();
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &q,
                     nullptr);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 3);
  sqlite3_finalize(q);
  sqlite3_close(db);
}

// A hook's stored contract sets its attempt cap; others take the claim's.
TEST_P(StoreBackendTest, TheHooksContractAttemptsCapItsDeliveries) {
  std::unique_ptr<StateBackend> store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(
      store->AddHook("http://127.0.0.1:1/a", "", 1, R"({"name":"x"})", 2)
          .ok());
  ASSERT_TRUE(store->AddHook("http://127.0.0.1:1/b", "", 1).ok());
  ASSERT_TRUE(store->Enqueue(Events(1), 10).ok());
  Result<ClaimResult> c = store->Claim("me", {}, 10);
  ASSERT_EQ(c->deliveries.size(), 2u);
  for (const ClaimedDelivery& d : c->deliveries) {
    for (int attempt = 1; attempt <= 3; ++attempt) {
      const bool own = !d.contract.empty();
      const AttemptGate gate =
          *store->BeginAttempt("me", d.id, attempt, 10 + attempt);
      if (own && attempt == 3) {
        EXPECT_EQ(gate, AttemptGate::kNotOurs) << "2 attempts at most";
        break;
      }
      ASSERT_EQ(gate, AttemptGate::kStart) << d.hook_id << " " << attempt;
    }
  }
  ASSERT_TRUE(store->Release("me").ok());
  // Lost outcomes: the hook with 2 attempts has started both (gave_up);
  // the other has started 3 of the claim's 4 (claimed again).
  ClaimOptions o;
  o.max_attempts = 4;
  c = store->Claim("next", o, 100);
  ASSERT_EQ(c->gave_up.size(), 1u);
  EXPECT_NE(c->gave_up[0].contract, "");
  ASSERT_EQ(c->deliveries.size(), 1u) << "3 of 4 started: one left";
}

// DisableHook: the hook's deliveries end gave_up, unsent, at the next claim
// or attempt.
TEST_P(StoreBackendTest, ADisabledHooksDeliveriesEndWithoutAnAttempt) {
  std::unique_ptr<StateBackend> store = Open();
  ASSERT_TRUE(store);
  Result<StoredHook> hook = store->AddHook("http://127.0.0.1:1/a", "", 1);
  ASSERT_TRUE(hook.ok());
  ASSERT_TRUE(store->Enqueue(Events(3), 10).ok());
  Result<ClaimResult> c = store->Claim("me", {.limit = 1}, 10);
  ASSERT_EQ(c->deliveries.size(), 1u);
  const std::string held = c->deliveries[0].id;
  ASSERT_TRUE(store->DisableHook(hook->id, 20).ok());
  ASSERT_TRUE(store->DisableHook(hook->id, 30).ok()) << "idempotent";
  EXPECT_EQ(*(*store->FindHook(hook->id))->gone_ms, 20);
  EXPECT_EQ(*store->BeginAttempt("me", held, 1, 21), AttemptGate::kGone);
  EXPECT_EQ(store->DeliveryState(held)->first, "gave_up");
  EXPECT_EQ(store->DeliveryState(held)->second,
            "endpoint disabled by a 410 Gone");
  c = store->Claim("other", {}, 40);
  EXPECT_TRUE(c->deliveries.empty());
  EXPECT_EQ(c->gone.size(), 2u);
  EXPECT_EQ((*store->FindHook(hook->id))->counts.gave_up, 3);
}

// Finding 6 (a busy database stopped runners): a call waits for another
// connection's write lock with backoff for StoreOptions::busy_timeout (the
// runners use Duration::max()), gives up at its end, and at once when
// *abort is set (a second signal).
TEST(StateStoreTest, Finding6_ABusyDatabaseIsWaitedForUntilTimeoutOrAbort) {
  TempDir dir;
  const std::string path = dir.File("s.db");
  ASSERT_TRUE(MustOpen(path));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::atomic<bool> abort{false};
  Result<std::unique_ptr<StateStore>> waiting = StateStore::Open(
      path, StoreOptions{.busy_timeout = Duration::max(), .abort = &abort});
  Result<std::unique_ptr<StateStore>> brief = StateStore::Open(
      path, StoreOptions{.busy_timeout = Millis(50)});
  ASSERT_TRUE(waiting.ok() && brief.ok()) << "opening takes no write lock";
  // Reading takes no write lock either.
  EXPECT_TRUE((*brief)->ListHooks(true).ok());
  EXPECT_FALSE((*brief)->AddHook("http://127.0.0.1:1/a", "", 1).ok())
      << "a short busy timeout ends";
  // The unbounded one waits past it, until the lock is let go.
  std::thread releaser([other] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  });
  EXPECT_TRUE((*waiting)->AddHook("http://127.0.0.1:1/a", "", 1).ok());
  releaser.join();
  // Held again: abort makes the waiting call give up.
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::thread aborter([&abort] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    abort = true;
  });
  EXPECT_FALSE((*waiting)->AddHook("http://127.0.0.1:1/b", "", 1).ok());
  aborter.join();
  sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(other);
}

// Imports are chunked: a long Enqueue holds the write lock for one chunk at
// a time, so another writer gets in between chunks.
TEST(StateStoreTest, Finding6_LongImportsCommitInChunks) {
  TempDir dir;
  const std::string path = dir.File("s.db");
  std::unique_ptr<StateStore> store = MustOpen(path);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->AddHook("http://127.0.0.1:1/a", "", 1).ok());
  const int n = static_cast<int>(kEnqueueChunk) * 2 + 7;  // One hook.
  const uint64_t before = store->commits();
  Result<EnqueueResult> e = store->Enqueue(Events(n), 10);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->deliveries, n);
  EXPECT_EQ(store->CountBatch(e->batch)->at(
                (*store->ListHooks(false))[0].id).pending,
            n);
  EXPECT_EQ(store->commits() - before, 3u) << "three chunks, three commits";
}

}  // namespace
}  // namespace hooksim
