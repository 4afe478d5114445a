// hooksim's durable state: registered hooks, events, deliveries and their
// attempts, in an embedded SQLite database (default ./.hooksim/state.db).
//
// Hooks: id "hk_" + 12 hex digits (random, unique in the file), URL,
// optional "whsec_..." secret, state active | paused | removed (removed
// hooks are kept, so their cancelled deliveries stay accounted for), and a
// creation time.
// Deliveries: one per event and hook, id "dlv_" + 16 hex digits (random,
// unique in the file; the id the receiver sees on every attempt), in
// creation order (`seq`). States:
//   pending    deliverable (its hook is active), waiting or in flight;
//   held       its hook is paused: nothing is sent until the hook resumes;
//   delivered  an attempt got a 2xx; never sent again;
//   gave_up    the sixth attempt failed (or its outcome was lost);
//   cancelled  its hook was removed (reason "hook removed").
// An attempt is recorded as started (BeginAttempt) before its request is
// sent, and ended (EndAttempt) with its result: so an attempt whose outcome
// a crash lost still counts toward the six-attempt cap.
//
// Ownership of pending deliveries: a runner (a `deliver` or `worker`
// process) claims rows with its owner token and pid; rows owned by a pid
// that no longer exists (killed, crashed) are claimable again. A runner
// releases what it still owns when it stops.
//
// Durability: WAL journal, synchronous=NORMAL: every committed change
// survives the process being killed (kill -9); a power loss may lose the
// last commits. busy_timeout lets another process (`hooks pause` while a
// `worker` runs) wait for the write lock instead of failing.
//
// Errors: every failure is an Error naming the file and the operation.
// Thread: one StateStore per thread (not thread-safe); several processes
// and connections may share one file.
#ifndef HOOKSIM_SIM_DURABLE_STATE_STORE_H_
#define HOOKSIM_SIM_DURABLE_STATE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/result.h"
#include "sim/contract/event_file.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hooksim {

inline constexpr int kStateSchemaVersion = 1;
inline constexpr const char* kDefaultStatePath = "./.hooksim/state.db";
inline constexpr const char* kStateEnvVar = "HOOKSIM_STATE";
// Attempts a delivery may start in all (the contract's six).
inline constexpr int kStoreMaxAttempts = 6;
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
};

struct StoredHook {
  std::string id;
  std::string url;
  std::string secret;  // "" when none.
  HookState state = HookState::kActive;
  int64_t created_ms = 0;  // Unix time, ms.
  DeliveryCounts counts;   // Over every delivery of the hook.
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
};

struct ClaimOptions {
  // Only deliveries of these events (a deliver batch); all when unset.
  std::optional<std::pair<int64_t, int64_t>> events;
  size_t limit = kMaxClaimBatch;
};

struct ClaimResult {
  std::vector<ClaimedDelivery> deliveries;
  // Deliveries found with all six attempts started (the last one's outcome
  // lost in a crash): ended gave_up now, not claimed.
  std::vector<ClaimedDelivery> gave_up;
};

enum class AttemptGate { kStart, kHeld, kDropped };

struct AttemptEnd {
  std::string delivery_id;
  int attempt = 0;
  int64_t ended_ms = 0;
  std::string result;  // "200", "503", "timeout", ...
  // "pending" (another attempt is due at next_at_ms), "delivered" or
  // "gave_up".
  std::string state;
  int64_t next_at_ms = 0;
};

class StateStore {
 public:
  // kCreate: only `hooks add` (a missing state is created, with its parent
  // directory). kExisting: every other command; a missing or empty file is
  // "no state database at PATH" and nothing is created.
  enum class OpenMode { kCreate, kExisting };
  // Opens the database at `path`. Fails on a file that is not a hooksim
  // state database, or one from a newer schema version. Errors say what
  // the user can act on (the path; read-only; not a hooksim state; locked
  // by another process), not SQLite's internals.
  static Result<std::unique_ptr<StateStore>> Open(
      const std::string& path, OpenMode mode = OpenMode::kCreate);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& path() const { return path_; }

  // Hooks. AddHook does not validate url or secret (the CLI does).
  Result<StoredHook> AddHook(const std::string& url, const std::string& secret,
                             int64_t now_ms);
  // In creation order; removed hooks only when include_removed.
  Result<std::vector<StoredHook>> ListHooks(bool include_removed);
  Result<std::optional<StoredHook>> FindHook(const std::string& id);
  Result<HookChangeResult> PauseHook(const std::string& id);
  Result<HookChangeResult> ResumeHook(const std::string& id, int64_t now_ms);
  Result<HookChangeResult> RemoveHook(const std::string& id, int64_t now_ms);

  // Stores the events and one delivery per event and hook that is not
  // removed: pending for active hooks, held for paused ones. One
  // transaction. Fails when there is no hook.
  Result<EnqueueResult> Enqueue(const std::vector<FileEvent>& events,
                                int64_t now_ms);

  // Claims pending deliveries of active hooks that nobody alive owns, in
  // creation order, for `owner` (a token unique to the runner; the
  // process's pid is stored beside it). Ends gave_up those that already
  // started all six attempts.
  Result<ClaimResult> Claim(const std::string& owner, const ClaimOptions& o,
                            int64_t now_ms);
  // Before an attempt: when the delivery is still pending, owned by
  // `owner`, and its hook active, records the attempt as started (kStart).
  // A paused hook makes the delivery held and releases it (kHeld); a
  // delivery no longer pending or owned (cancelled, ...) gives kDropped.
  Result<AttemptGate> BeginAttempt(const std::string& owner,
                                   const std::string& delivery_id, int attempt,
                                   int64_t now_ms);
  // Records an attempt's end and the delivery's new state (unless the
  // delivery was cancelled meanwhile); a final state releases the row.
  Status EndAttempt(const std::string& owner, const AttemptEnd& end);
  // Releases every row `owner` still holds (they stay pending).
  Status Release(const std::string& owner);

  // Deliveries of the events [first, last], per hook id.
  Result<std::map<std::string, DeliveryCounts>> CountByHook(int64_t first_event,
                                                            int64_t last_event);
  // Attempts recorded for one delivery: (attempt, result or "" if it has
  // not ended), in order. For tests and diagnostics.
  Result<std::vector<std::pair<int, std::string>>> Attempts(
      const std::string& delivery_id);
  // State name and reason ("" when none) of one delivery.
  Result<std::pair<std::string, std::string>> DeliveryState(
      const std::string& delivery_id);

 private:
  StateStore(std::string path, sqlite3* db);
  Error SqlError(std::string_view operation) const;
  Status Exec(const char* sql, std::string_view operation);
  Result<sqlite3_stmt*> Prepare(const char* sql, std::string_view operation);
  Status Migrate();
  std::string NewId(std::string_view prefix, int hex_digits);
  Status ReleaseDeadOwners(std::string_view operation);

  std::string path_;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;  // By SQL.
  uint64_t id_state_ = 0;
};

// A token naming one runner: "<pid>-<random hex>".
std::string NewOwnerToken();

}  // namespace hooksim

#endif  // HOOKSIM_SIM_DURABLE_STATE_STORE_H_
