#include "sim/os/temp_dir.h"
#include "sim/durable/state_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

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
  Result<std::unique_ptr<StateStore>> s = StateStore::Open(path);
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

// A pid that certainly names no process: a child that has exited and been
// reaped.
int64_t DeadPid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

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
    ASSERT_TRUE(store->PauseHook(b->id).ok());
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
  EXPECT_NE(s.error().message.find(junk), std::string::npos)
      << s.error().message;

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
  EXPECT_NE(s.error().message.find("schema version 99"), std::string::npos)
      << s.error().message;

  std::ofstream(dir.File("a-file")) << "x";
  s = StateStore::Open(dir.File("a-file/state.db"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("cannot create the directory"),
            std::string::npos)
      << s.error().message;
}

TEST(StateStoreTest, PauseResumeRemoveReportUnknownIdsAndNoOps) {
  TempDir dir("hooksim_store");
  std::unique_ptr<StateStore> store = MustOpen(dir.File("s.db"));
  ASSERT_TRUE(store);
  const std::string id = store->AddHook("http://127.0.0.1:1/a", "", 1)->id;
  EXPECT_EQ(store->PauseHook("hk_nope")->change, HookChange::kNotFound);
  EXPECT_EQ(store->ResumeHook(id, 5)->change, HookChange::kAlreadyInState);
  EXPECT_EQ(store->PauseHook(id)->change, HookChange::kChanged);
  EXPECT_EQ(store->PauseHook(id)->change, HookChange::kAlreadyInState);
  EXPECT_EQ(store->ResumeHook(id, 5)->change, HookChange::kChanged);
  EXPECT_EQ(store->RemoveHook(id, 6)->change, HookChange::kChanged);
  EXPECT_EQ(store->RemoveHook(id, 7)->change, HookChange::kNotFound);
  EXPECT_EQ(store->PauseHook(id)->change, HookChange::kNotFound);
  EXPECT_TRUE(store->ListHooks(false)->empty());
  ASSERT_EQ(store->ListHooks(true)->size(), 1u);
  EXPECT_EQ((*store->ListHooks(true))[0].state, HookState::kRemoved);
}

TEST(StateStoreTest, EnqueueHoldsForPausedHooksAndResumeReleasesInOrder) {
  TempDir dir("hooksim_store");
  std::unique_ptr<StateStore> store = MustOpen(dir.File("s.db"));
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->Enqueue(Events(1), 1).ok()) << "no hooks";
  const std::string a = store->AddHook("http://127.0.0.1:1/a", "", 1)->id;
  const std::string b = store->AddHook("http://127.0.0.1:1/b", "", 1)->id;
  ASSERT_EQ(store->PauseHook(b)->change, HookChange::kChanged);
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

TEST(StateStoreTest, AttemptsAreRecordedBeforeAndAfterAndSurviveReopening) {
  TempDir dir("hooksim_store");
  const std::string path = dir.File("s.db");
  std::string delivery;
  {
    std::unique_ptr<StateStore> store = MustOpen(path);
    ASSERT_TRUE(store);
    store->AddHook("http://127.0.0.1:1/a", "", 1);
    ASSERT_TRUE(store->Enqueue(Events(1), 10).ok());
    Result<ClaimResult> c = store->Claim("me", {}, 10);
    ASSERT_EQ(c->deliveries.size(), 1u);
    delivery = c->deliveries[0].id;
    EXPECT_EQ(delivery.rfind("dlv_", 0), 0u);
    EXPECT_EQ(delivery.size(), 20u);
    EXPECT_EQ(*store->BeginAttempt("me", delivery, 1, 11), AttemptGate::kStart);
    EXPECT_EQ(*store->BeginAttempt("intruder", delivery, 2, 11),
              AttemptGate::kDropped)
        << "only the owner records attempts";
    ASSERT_FALSE(store->EndAttempt(
        "me", AttemptEnd{delivery, 1, 12, "503", "pending", 5000}));
    EXPECT_EQ(*store->BeginAttempt("me", delivery, 2, 5000),
              AttemptGate::kStart);
    // The process dies here: attempt 2 started, never ended.
  }
  std::unique_ptr<StateStore> store = MustOpen(path);
  ASSERT_TRUE(store);
  Result<std::vector<std::pair<int, std::string>>> attempts =
      store->Attempts(delivery);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0], std::make_pair(1, std::string("503")));
  EXPECT_EQ((*attempts)[1], std::make_pair(2, std::string()));
  // "me" is still this (live) process's token: release as a stopped runner
  // would be, then claim: two attempts count, the next is due now.
  ASSERT_FALSE(store->Release("me"));
  Result<ClaimResult> c = store->Claim("next", {}, 6000);
  ASSERT_EQ(c->deliveries.size(), 1u);
  EXPECT_EQ(c->deliveries[0].attempts_started, 2);
  EXPECT_EQ(c->deliveries[0].id, delivery);
  EXPECT_EQ(*store->BeginAttempt("next", delivery, 3, 6001),
            AttemptGate::kStart);
  ASSERT_FALSE(store->EndAttempt(
      "next", AttemptEnd{delivery, 3, 6002, "200", "delivered", 6002}));
  EXPECT_EQ(store->DeliveryState(delivery)->first, "delivered");
  EXPECT_TRUE(store->Claim("later", {}, 7000)->deliveries.empty())
      << "a delivered delivery is never claimed again";
  EXPECT_EQ(*store->BeginAttempt("next", delivery, 4, 7000),
            AttemptGate::kDropped);
}

TEST(StateStoreTest, SixStartedAttemptsEndGaveUpOnClaim) {
  TempDir dir("hooksim_store");
  std::unique_ptr<StateStore> store = MustOpen(dir.File("s.db"));
  ASSERT_TRUE(store);
  store->AddHook("http://127.0.0.1:1/a", "", 1);
  ASSERT_TRUE(store->Enqueue(Events(1), 10).ok());
  const std::string id = store->Claim("me", {}, 10)->deliveries.at(0).id;
  for (int attempt = 1; attempt <= 6; ++attempt) {
    ASSERT_EQ(*store->BeginAttempt("me", id, attempt, 10 + attempt),
              AttemptGate::kStart);
    if (attempt < 6) {
      ASSERT_FALSE(store->EndAttempt(
          "me", AttemptEnd{id, attempt, 20, "timeout", "pending", 20}));
    }
  }
  ASSERT_FALSE(store->Release("me"));
  Result<ClaimResult> c = store->Claim("next", {}, 100);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->deliveries.empty());
  ASSERT_EQ(c->gave_up.size(), 1u);
  EXPECT_EQ(c->gave_up[0].id, id);
  EXPECT_EQ(store->DeliveryState(id)->first, "gave_up");
  EXPECT_NE(store->DeliveryState(id)->second.find("lost"), std::string::npos);
}

TEST(StateStoreTest, RowsOfADeadOwnerAreClaimableAgain) {
  TempDir dir("hooksim_store");
  const std::string path = dir.File("s.db");
  std::unique_ptr<StateStore> store = MustOpen(path);
  ASSERT_TRUE(store);
  store->AddHook("http://127.0.0.1:1/a", "", 1);
  ASSERT_TRUE(store->Enqueue(Events(2), 10).ok());
  ASSERT_EQ(store->Claim("me", {}, 10)->deliveries.size(), 2u);
  EXPECT_TRUE(store->Claim("other", {}, 10)->deliveries.empty());
  // Make the owner a process that no longer exists, as after kill -9.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string sql =
      "UPDATE deliveries SET owner_pid = " + std::to_string(DeadPid());
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(store->Claim("other", {}, 10)->deliveries.size(), 2u);
}

TEST(StateStoreTest, RowsADeadOwnerLeftForAPausedHookBecomeHeld) {
  TempDir dir("hooksim_store");
  const std::string path = dir.File("s.db");
  std::unique_ptr<StateStore> store = MustOpen(path);
  ASSERT_TRUE(store);
  const std::string id = store->AddHook("http://127.0.0.1:1/a", "", 1)->id;
  Result<EnqueueResult> e = store->Enqueue(Events(2), 10);
  ASSERT_EQ(store->Claim("me", {}, 10)->deliveries.size(), 2u);
  // Paused while a live runner holds the rows: they stay pending for it.
  ASSERT_EQ(store->PauseHook(id)->deliveries, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string sql =
      "UPDATE deliveries SET owner_pid = " + std::to_string(DeadPid());
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  // The runner died: the next claim holds them rather than leaving them
  // pending for a paused hook.
  EXPECT_TRUE(store->Claim("other", {}, 20)->deliveries.empty());
  DeliveryCounts c = store->CountByHook(e->first_event, e->last_event)->at(id);
  EXPECT_EQ(c.held, 2);
  EXPECT_EQ(c.pending, 0);
  ASSERT_EQ(store->ResumeHook(id, 30)->deliveries, 2);
  EXPECT_EQ(store->Claim("other", {}, 30)->deliveries.size(), 2u);
}

TEST(StateStoreTest, PauseAndRemoveReachRowsARunnerHolds) {
  TempDir dir("hooksim_store");
  std::unique_ptr<StateStore> store = MustOpen(dir.File("s.db"));
  ASSERT_TRUE(store);
  const std::string a = store->AddHook("http://127.0.0.1:1/a", "", 1)->id;
  const std::string b = store->AddHook("http://127.0.0.1:1/b", "", 1)->id;
  Result<EnqueueResult> e = store->Enqueue(Events(1), 10);
  Result<ClaimResult> c = store->Claim("me", {}, 10);
  ASSERT_EQ(c->deliveries.size(), 2u);
  const std::string da = c->deliveries[0].id;
  const std::string db = c->deliveries[1].id;
  ASSERT_EQ(store->PauseHook(a)->change, HookChange::kChanged);
  EXPECT_EQ(*store->BeginAttempt("me", da, 1, 11), AttemptGate::kHeld);
  EXPECT_EQ(store->DeliveryState(da)->first, "held");
  ASSERT_EQ(store->RemoveHook(b, 12)->deliveries, 1);
  EXPECT_EQ(*store->BeginAttempt("me", db, 1, 13), AttemptGate::kDropped);
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
  Result<HookChangeResult> paused = store->PauseHook(id);
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

}  // namespace
}  // namespace hooksim
