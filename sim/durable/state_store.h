// hooksim's durable state: registered hooks, events, deliveries and their
// attempts, in an embedded SQLite database (default ./.hooksim/state.db).
//
// Hooks: id "hk_" + 12 hex digits (random, unique in the file), URL,
// optional "whsec_..." secret, state active | paused | removed (removed
// hooks are kept, so their cancelled deliveries stay accounted for), a
// creation time, optionally its own contract profile (the JSON of a
// contract file, with its attempts) and the time a 410 Gone disabled it
// under a contract that disables endpoints (schema version 3).
// Events: type, body (sent byte for byte) and the body's SHA-256, checked
// whenever the body is read to be sent.
// Deliveries: one per event and hook, id "dlv_" + 16 hex digits (random,
// unique in the file; the id the receiver sees on every attempt), in
// creation order (`seq`). States:
//   pending    deliverable (its hook is active), waiting or in flight;
//   held       its hook is paused: nothing is sent until the hook resumes;
//   delivered  an attempt got a 2xx; never sent again;
//   gave_up    the last attempt the contract allows failed (or its outcome
//              was lost), or a 410 Gone disabled the hook;
//   cancelled  its hook was removed (reason "hook removed");
//   failed     never sent: its stored body no longer matches its checksum.
//
// The lease protocol (DeliveryStore below; the same for every backend):
// - A runner (a `deliver` or `worker` process) names itself with an owner
//   token (NewOwnerToken) and claims pending rows of active hooks: a claim
//   is (owner, lease expiry). A row is claimable when nobody holds it or
//   its lease has expired, whoever held it and whatever their pid.
// - The runner renews its leases (RenewLeases) well before they expire
//   while it works; a runner that stops renewing (killed, hung) loses its
//   rows when their leases end, and any runner takes them over.
// - An attempt is recorded as started (BeginAttempt) just before its
//   request is written, and only while the runner still holds the row and
//   the hook is active: that is where pause and remove take effect. An
//   attempt whose outcome is lost still counts toward the contract's
//   attempts (the hook's own, else the runner's; divshot's six).
// - EndAttempt records the outcome; a final state, or a retry the runner
//   does not keep, releases the row. Release gives back every row a runner
//   holds (they stay pending for the next runner).
// One transaction per call; a call never waits on a network.
//
// Durability: WAL journal, synchronous=NORMAL: every committed change
// survives the process being killed (kill -9); a power loss may lose the
// last commits. While another connection holds the write lock, a call
// retries with backoff (1 ms doubling to 100 ms) for up to
// StoreOptions::busy_timeout, or until *abort is set.
//
// Files: only Open with `create` makes a new database (and its
// directory); a missing file is otherwise "no state database at PATH". A
// zero-length file, a file that is not SQLite, an SQLite database that is
// not hooksim's, and a newer schema are refused. Schema version 1 files
// are migrated to version 2 in one transaction on first open (leases
// replace owner pids: rows a v1 runner held are released; body checksums
// are computed from the bodies as stored).
//
// Errors: every failure is a Status (I/O, not found, unavailable when locked,
// ...) naming the file and the operation. Thread: one StateStore per thread
// (not thread-safe); several processes and connections may share one file.
#ifndef HOOKSIM_SIM_DURABLE_STATE_STORE_H_
#define HOOKSIM_SIM_DURABLE_STATE_STORE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/contract/event_file.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hooksim {

inline constexpr int kStateSchemaVersion = 3;
// PRAGMA application_id of a hooksim state database ("hksm").
inline constexpr int32_t kStateApplicationId = 0x686b736d;
// Default lease of a claim, ms.
inline constexpr int64_t kDefaultLeaseMs = 30'000;
// Deliveries Enqueue stores per transaction, at most (short write locks;
// an event's deliveries are never split).
inline constexpr int64_t kEnqueueChunk = 2000;
inline constexpr const char* kDefaultStatePath = "./.hooksim/state.db";
inline constexpr const char* kStateEnvVar = "HOOKSIM_STATE";
// Attempts a delivery may start in all under the divshot contract (the
// default; a hook's stored contract or ClaimOptions::max_attempts say
// otherwise).
inline constexpr int kStoreMaxAttempts = 6;
// The most attempts any contract allows (contract.schema.json's 101).
inline constexpr int kStoreAttemptsLimit = 101;
// Rows one Claim returns at most.
inline constexpr size_t kMaxClaimBatch = 10'000;

// --state FILE if given, else $HOOKSIM_STATE if set and non-empty, else
// kDefaultStatePath.
std::string ResolveStatePath(const std::optional<std::string>& flag);

enum class HookState { kActive, kPaused, kRemoved };
std::string_view HookStateName(HookState state);

struct DeliveryCounts {
  int64_t delivered = 0;
  int64_t gave_up = 0;
  int64_t pending = 0;
  int64_t held = 0;
  int64_t cancelled = 0;
  int64_t failed = 0;
};

struct StoredHook {
  std::string id;
  std::string url;
  std::string secret;  // "" when none.
  HookState state = HookState::kActive;
  int64_t created_ms = 0;  // Unix time, ms.
  DeliveryCounts counts;   // Over every delivery of the hook.
  // The hook's contract profile as a contract file's JSON text (`hooks add
  // --contract`), "" when none: then the runner's --contract applies.
  std::string contract;
  int contract_attempts = 0;  // Its attempts; 0 when contract is "".
  // When a 410 Gone disabled the endpoint under a contract that says so
  // (Unix ms); deliveries to it then end gave_up without an attempt.
  std::optional<int64_t> gone_ms;
};

// Result of pause / resume / remove.
enum class HookChange { kChanged, kNotFound, kAlreadyInState };
struct HookChangeResult {
  HookChange change = HookChange::kChanged;
  // Deliveries the change moved: pending -> held (pause), held -> pending
  // (resume), pending/held -> cancelled (remove).
  int64_t deliveries = 0;
};

struct EnqueueResult {
  std::string batch;        // Names this call's events (ClaimOptions).
  int64_t first_event = 0;  // Event ids of this batch: [first, last].
  int64_t last_event = -1;
  int64_t deliveries = 0;
  std::map<std::string, int64_t> held_by_hook;  // Created held (paused).
  std::vector<std::string> hooks;               // Hook ids, in order.
};

// A pending delivery a runner has claimed, with what it needs to send it.
struct ClaimedDelivery {
  std::string id;
  int64_t seq = 0;
  std::string hook_id;
  std::string url;
  std::string secret;
  int64_t event_id = 0;
  std::string event_type;
  std::string body;
  int attempts_started = 0;
  int64_t next_at_ms = 0;  // Unix time the next attempt is due.
  std::string contract;    // The hook's stored contract ("" when none).
  // Another owner's lease on the row had expired: the claim took it over.
  bool taken_over = false;
};

// Which deliveries a call is about: all, one Enqueue batch, and/or those
// created up to a sequence number.
struct DeliveryScope {
  std::optional<std::string> batch;
  std::optional<int64_t> max_seq;
};

struct ClaimOptions {
  DeliveryScope scope;
  size_t limit = kMaxClaimBatch;
  // Only deliveries whose next attempt is due by then (Unix ms).
  int64_t due_by_ms = INT64_MAX;
  int64_t lease_ms = kDefaultLeaseMs;
  // Attempts a delivery may start in all when its hook has no contract of
  // its own (the runner's --contract).
  int max_attempts = kStoreMaxAttempts;
};

struct ClaimResult {
  std::vector<ClaimedDelivery> deliveries;  // In due order, then seq.
  // Deliveries found with all their attempts started (the last one's
  // outcome lost in a crash): ended gave_up now, not claimed.
  std::vector<ClaimedDelivery> gave_up;
  // Deliveries of hooks a 410 Gone disabled: ended gave_up now, with no
  // further attempt (only id and hook_id are set).
  std::vector<ClaimedDelivery> gone;
  // Deliveries whose stored body failed its checksum: ended failed now,
  // with the reason, never sent.
  std::vector<ClaimedDelivery> failed;
};

// What BeginAttempt decided.
enum class AttemptGate {
  kStart,      // Recorded as started: send it now.
  kHeld,       // The hook is paused: the delivery is held and released.
  kCancelled,  // The hook was removed: the delivery is cancelled.
  kNotOurs,    // No longer pending, or another runner holds it now.
  kGone,       // A 410 Gone disabled the hook: the delivery ended gave_up.
};

// Pending deliveries in a scope, for a runner deciding whether to wait.
struct PendingInfo {
  int64_t pending = 0;           // Pending (not held), whoever holds them.
  int64_t leased_by_others = 0;  // Of those, under another live lease.
  int64_t next_lease_end_ms = 0;  // Earliest such lease's end (0: none).
};

// The whole queue at one moment, whoever holds what (for metrics).
struct QueueDepth {
  DeliveryCounts by_state;  // Every delivery in the store, by state.
  // Pending deliveries of active hooks whose next attempt is due and that
  // nobody holds under a live lease: what a runner would claim now.
  int64_t due = 0;
  // Pending deliveries under a live lease (any runner's).
  int64_t leased = 0;
};

struct AttemptEnd {
  std::string delivery_id;
  int attempt = 0;
  int64_t ended_ms = 0;
  std::string result;  // "200", "503", "timeout", ...
  // "pending" (another attempt is due at next_at_ms), "delivered" or
  // "gave_up".
  std::string state;
  int64_t next_at_ms = 0;
  // "pending" only: give the row back (the runner does not keep it until
  // its next attempt).
  bool release = false;
};

struct StoreOptions {
  // Create the database (and its directory) when the file is missing
  // (`hooks add`); otherwise a missing file is an error.
  bool create = false;
  // How long a call waits for another connection's write lock, retrying
  // with backoff, before it fails. Duration::max(): until *abort.
  Duration busy_timeout = std::chrono::seconds(10);
  // When set and true, a call waiting for the lock gives up at once.
  const std::atomic<bool>* abort = nullptr;
  // Test seam: seeds the ids this connection makes (hooks, deliveries,
  // batches), so a seeded test is reproducible; unset: /dev/urandom.
  std::optional<uint64_t> id_seed;
};

// The lease protocol (see the top of this file), as a runner uses it. A
// backend implements it once; RunDurableDeliveries only talks to this.
class DeliveryStore {
 public:
  virtual ~DeliveryStore() = default;
  // Claims up to o.limit pending deliveries of active hooks in o.scope,
  // due by o.due_by_ms, that nobody holds or whose lease has ended, for
  // `owner` until now_ms + o.lease_ms. Ends gave_up those that already
  // started all their attempts (the hook's contract, else o.max_attempts)
  // and those of hooks a 410 disabled, and failed those whose body fails its
  // checksum. Holds (state held) unleased rows of paused hooks.
  virtual Result<ClaimResult> Claim(const std::string& owner,
                                    const ClaimOptions& o, int64_t now_ms) = 0;
  // Extends every lease `owner` holds to now_ms + lease_ms; returns how
  // many rows it holds.
  virtual Result<int64_t> RenewLeases(const std::string& owner,
                                      int64_t now_ms, int64_t lease_ms) = 0;
  // Just before attempt `attempt` is written: when the delivery is pending,
  // held by `owner`, has made attempt - 1 attempts and its hook is active,
  // records the attempt as started and extends the lease (kStart). A
  // paused hook holds the delivery (kHeld), a removed one cancels it
  // (kCancelled); both release it. Otherwise kNotOurs, nothing changes.
  virtual Result<AttemptGate> BeginAttempt(
      const std::string& owner, const std::string& delivery_id, int attempt,
      int64_t now_ms, int64_t lease_ms = kDefaultLeaseMs) = 0;
  // Records an attempt's end, and the delivery's new state when `owner`
  // still holds it (a 2xx is recorded whoever holds it, while the delivery
  // is pending). A final state or end.release releases the row. Returns
  // whether the row was updated.
  virtual Result<bool> EndAttempt(const std::string& owner,
                                  const AttemptEnd& end) = 0;
  // Releases every row `owner` still holds (they stay pending).
  virtual Status Release(const std::string& owner) = 0;
  // Marks the hook disabled by a 410 Gone (its contract says so): from
  // then on its deliveries end gave_up without an attempt. Idempotent.
  virtual Status DisableHook(const std::string& hook_id, int64_t now_ms) = 0;
  // Pending deliveries in `scope` (held ones not counted).
  virtual Result<PendingInfo> Pending(const std::string& owner,
                                      const DeliveryScope& scope,
                                      int64_t now_ms) = 0;
  // The highest delivery seq so far (0 when none).
  virtual Result<int64_t> MaxSeq() = 0;
  // Deliveries by state, and the due and leased queue at now_ms.
  virtual Result<QueueDepth> Depth(int64_t now_ms) = 0;
};

// Everything the commands do with a state, whichever backend holds it:
// hooks, events, and the lease protocol. StateStore (SQLite, a file) and
// PostgresStore (postgres_store.h, a database many machines share)
// implement it with the same results; OpenState (open_state.h) picks one
// from the --state value. Thread: one object per thread.
class StateBackend : public DeliveryStore {
 public:
  // The --state value it was opened from (a PostgreSQL URL without its
  // password), for messages.
  virtual const std::string& location() const = 0;
  // Hooks. AddHook does not validate url or secret (the CLI does).
  // `contract`: a contract file's JSON text ("" for none) and its attempts.
  virtual Result<StoredHook> AddHook(const std::string& url,
                                     const std::string& secret, int64_t now_ms,
                                     const std::string& contract = "",
                                     int contract_attempts = 0) = 0;
  // In creation order; removed hooks only when include_removed.
  virtual Result<std::vector<StoredHook>> ListHooks(bool include_removed) = 0;
  virtual Result<std::optional<StoredHook>> FindHook(const std::string& id) = 0;
  // Pause: unleased pending rows become held now; leased ones at their
  // runner's next BeginAttempt (nothing new is sent after the commit).
  virtual Result<HookChangeResult> PauseHook(const std::string& id,
                                             int64_t now_ms) = 0;
  virtual Result<HookChangeResult> ResumeHook(const std::string& id,
                                              int64_t now_ms) = 0;
  virtual Result<HookChangeResult> RemoveHook(const std::string& id,
                                              int64_t now_ms) = 0;
  // Stores the events and one delivery per event and hook that is not
  // removed: pending for active hooks, held for paused ones, in
  // transactions of about kEnqueueChunk deliveries (each chunk sees the
  // hooks as they are then; a crash keeps the chunks committed). Fails when
  // there is no hook.
  virtual Result<EnqueueResult> Enqueue(const std::vector<FileEvent>& events,
                                        int64_t now_ms) = 0;
  // Deliveries of the events [first, last], per hook id.
  virtual Result<std::map<std::string, DeliveryCounts>> CountByHook(
      int64_t first_event, int64_t last_event) = 0;
  // Deliveries of one Enqueue batch, per hook id.
  virtual Result<std::map<std::string, DeliveryCounts>> CountBatch(
      const std::string& batch) = 0;
  // Attempts recorded for one delivery: (attempt, result or "" if it has
  // not ended), in order. For tests and diagnostics.
  virtual Result<std::vector<std::pair<int, std::string>>> Attempts(
      const std::string& delivery_id) = 0;
  // State name and reason ("" when none) of one delivery.
  virtual Result<std::pair<std::string, std::string>> DeliveryState(
      const std::string& delivery_id) = 0;
};

class StateStore : public StateBackend {
 public:
  // Opens the database at `path` (see "Files" above). Takes no write lock
  // when the file is at the current schema.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path,
                                                  StoreOptions options = {});
  ~StateStore() override;
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& path() const { return path_; }
  const std::string& location() const override { return path_; }

  // Hooks. AddHook does not validate url or secret (the CLI does).
  // `contract`: a contract file's JSON text ("" for none) and its attempts.
  Result<StoredHook> AddHook(const std::string& url, const std::string& secret,
                             int64_t now_ms, const std::string& contract = "",
                             int contract_attempts = 0) override;
  // In creation order; removed hooks only when include_removed.
  Result<std::vector<StoredHook>> ListHooks(bool include_removed) override;
  Result<std::optional<StoredHook>> FindHook(const std::string& id) override;
  // Pause: unleased pending rows become held now; leased ones at their
  // runner's next BeginAttempt (nothing new is sent after the commit).
  Result<HookChangeResult> PauseHook(const std::string& id,
                                     int64_t now_ms) override;
  Result<HookChangeResult> ResumeHook(const std::string& id,
                                      int64_t now_ms) override;
  Result<HookChangeResult> RemoveHook(const std::string& id,
                                      int64_t now_ms) override;

  // Stores the events and one delivery per event and hook that is not
  // removed: pending for active hooks, held for paused ones, in
  // transactions of about kEnqueueChunk deliveries (each chunk sees the
  // hooks as they are then; a crash keeps the chunks committed). Fails when
  // there is no hook.
  Result<EnqueueResult> Enqueue(const std::vector<FileEvent>& events,
                                int64_t now_ms) override;

  // DeliveryStore.
  Result<ClaimResult> Claim(const std::string& owner, const ClaimOptions& o,
                            int64_t now_ms) override;
  Result<int64_t> RenewLeases(const std::string& owner, int64_t now_ms,
                              int64_t lease_ms) override;
  Result<AttemptGate> BeginAttempt(const std::string& owner,
                                   const std::string& delivery_id, int attempt,
                                   int64_t now_ms,
                                   int64_t lease_ms = kDefaultLeaseMs) override;
  Result<bool> EndAttempt(const std::string& owner,
                          const AttemptEnd& end) override;
  Status Release(const std::string& owner) override;
  Status DisableHook(const std::string& hook_id, int64_t now_ms) override;
  Result<PendingInfo> Pending(const std::string& owner,
                              const DeliveryScope& scope,
                              int64_t now_ms) override;
  Result<int64_t> MaxSeq() override;
  Result<QueueDepth> Depth(int64_t now_ms) override;

  // Deliveries of the events [first, last], per hook id.
  Result<std::map<std::string, DeliveryCounts>> CountByHook(int64_t first_event,
                                                            int64_t last_event) override;
  // Deliveries of one Enqueue batch, per hook id.
  Result<std::map<std::string, DeliveryCounts>> CountBatch(
      const std::string& batch) override;
  // Attempts recorded for one delivery: (attempt, result or "" if it has
  // not ended), in order. For tests and diagnostics.
  Result<std::vector<std::pair<int, std::string>>> Attempts(
      const std::string& delivery_id) override;
  // Transactions this connection has committed (diagnostics and tests).
  uint64_t commits() const { return commits_; }
  // State name and reason ("" when none) of one delivery.
  Result<std::pair<std::string, std::string>> DeliveryState(
      const std::string& delivery_id) override;

 private:
  StateStore(std::string path, sqlite3* db, StoreOptions options);
  Status SqlError(std::string_view operation) const;
  Status Exec(const char* sql, std::string_view operation);
  Result<sqlite3_stmt*> Prepare(const char* sql, std::string_view operation);
  // Creates the schema in a new file, migrates a version 1 file, or checks
  // the version (a read, no write lock) of a current one.
  Status Migrate(bool created);
  Status MigrateFromV1();
  Status MigrateFromV2();
  std::string NewId(std::string_view prefix, int hex_digits);
  // Stores events from `events` (n at most) until kEnqueueChunk deliveries;
  // *stored: how many events it stored.
  Result<EnqueueResult> EnqueueChunk(const FileEvent* events, size_t n,
                                     int64_t now_ms, const std::string& batch,
                                     size_t* stored);
  static int OnBusy(void* self, int count);
  // Pause, resume and remove: one transaction that reads the hook's state
  // (kNotFound when unknown or removed, kAlreadyInState), then applies t.
  struct HookTransition;
  Result<HookChangeResult> ChangeHook(const HookTransition& t,
                                      const std::string& id, int64_t now_ms);

  std::string path_;
  StoreOptions options_;
  std::chrono::steady_clock::time_point busy_since_{};
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;  // By SQL.
  uint64_t id_state_ = 0;
  uint64_t commits_ = 0;
};

// A token naming one runner: "<pid>-<random hex>" (the pid is only for
// people reading the database; leases never look at it).
std::string NewOwnerToken();

// 64 bits from /dev/urandom mixed with the time and pid: the seed of a
// store's ids when StoreOptions::id_seed is unset.
uint64_t StoreIdSeed();

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Where a claimed delivery goes, the same in every backend: to
// result.failed when its stored body no longer matches `stored_sum` (the
// reason appended to `reasons`, one per failed delivery), to
// result.gave_up when its attempts are spent (max_attempts started), else
// to result.deliveries (to be sent).
void SortClaimed(ClaimedDelivery d, const std::string& stored_sum,
                 int max_attempts, std::vector<std::string>& reasons,
                 ClaimResult& result);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_DURABLE_STATE_STORE_H_
