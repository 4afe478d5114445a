// hooksim's durable state in a PostgreSQL database (libpq), for many
// `hooksim worker`s on many machines sharing one queue. Same tables, same
// states and the same lease protocol as StateStore (state_store.h); what
// differs:
//
// - Location: a URL, postgres://USER[:PASSWORD]@HOST[:PORT]/DB (also
//   postgresql://, and libpq's ?parameters). The database must exist;
//   hooksim creates its tables in it (Open with `create`), under an
//   advisory lock so that processes starting together create them once.
//   Messages name the URL without its password.
// - Schema: the table hooksim_schema holds the version (kPgSchemaVersion);
//   a newer one is refused (FailedPrecondition), a database holding tables
//   named as hooksim's without hooksim_schema is refused (InvalidArgument),
//   a database without hooksim's tables is "no hooksim state" (NotFound)
//   unless `create`.
// - Claims take rows with SELECT ... FOR UPDATE OF d SKIP LOCKED: runners
//   claiming at once never wait on each other nor take the same row.
//   BeginAttempt (the schema's function hooksim_begin_attempt: one round
//   trip) locks the hook row (FOR SHARE) before the delivery row (FOR
//   UPDATE), and pause/resume/remove lock the hook row first too, so a
//   pause that commits before an attempt starts holds it, and one that
//   comes while an attempt is being recorded waits for that commit.
// - Every call is one transaction (READ COMMITTED); one that hits a
//   deadlock or serialization failure is retried (bounded).
// - A connection lost (a server restart, a network cut) is re-opened with
//   backoff (100 ms doubling to 2 s) for up to StoreOptions::busy_timeout
//   (runners: until *abort), and the call runs again: a transaction lost
//   before its COMMIT from its start, a statement that may have committed
//   as described at RunStatement; BeginAttempt first looks whether the
//   lost call began the attempt for this owner (then kStart: nothing was
//   sent yet). A connection lost during a COMMIT is an error (it may or
//   may not have been applied), but for Claim's, which runs again after
//   handing back the rows its lost run leased (the runner never saw them;
//   its lease renewals would keep them from everyone).
// - Durability is the server's: a committed change survives the worker
//   being killed (kill -9) and, with the server's default fsync, a power
//   loss.
// - Connection: connect_timeout 5 s unless the URL says otherwise. An
//   unreachable server or refused credentials at Open: Unavailable,
//   naming HOST:PORT and libpq's cause.
// - Row locks of other sessions are waited for up to
//   StoreOptions::busy_timeout (lock_timeout; unbounded when max()).
// - Bodies are TEXT: an event body with a NUL byte or invalid UTF-8 (in a
//   UTF8 database) is refused by the server when stored.
//
// Thread: one PostgresStore per thread (one connection); any number of
// processes and machines may share a database.
#ifndef HOOKSIM_SIM_DURABLE_POSTGRES_STORE_H_
#define HOOKSIM_SIM_DURABLE_POSTGRES_STORE_H_

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/durable/state_store.h"

struct pg_conn;
struct pg_result;

namespace hooksim {

inline constexpr int kPgSchemaVersion = 1;

// Whether --state names a PostgreSQL database (postgres:// or
// postgresql://) rather than an SQLite file.
bool IsPostgresLocation(std::string_view location);

// The URL without its password (for messages), and the HOST:PORT it
// connects to ("" parts when the URL does not parse).
struct PgLocation {
  std::string display;
  std::string host_port;
};
PgLocation DescribePgLocation(const std::string& url);

class PostgresStore : public StateBackend {
 public:
  // Connects to `url` and checks (or, with options.create, creates) the
  // schema; see the top of this file for the errors.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url,
                                                     StoreOptions options = {});
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  const std::string& location() const override { return where_.display; }
  // Connections re-opened after a loss (diagnostics and tests).
  uint64_t reconnects() const { return reconnects_; }

  Result<StoredHook> AddHook(const std::string& url, const std::string& secret,
                             int64_t now_ms, const std::string& contract = "",
                             int contract_attempts = 0) override;
  Result<std::vector<StoredHook>> ListHooks(bool include_removed) override;
  Result<std::optional<StoredHook>> FindHook(const std::string& id) override;
  Result<HookChangeResult> PauseHook(const std::string& id,
                                     int64_t now_ms) override;
  Result<HookChangeResult> ResumeHook(const std::string& id,
                                      int64_t now_ms) override;
  Result<HookChangeResult> RemoveHook(const std::string& id,
                                      int64_t now_ms) override;
  Result<EnqueueResult> Enqueue(const std::vector<FileEvent>& events,
                                int64_t now_ms) override;

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

  Result<std::map<std::string, DeliveryCounts>> CountByHook(
      int64_t first_event, int64_t last_event) override;
  Result<std::map<std::string, DeliveryCounts>> CountBatch(
      const std::string& batch) override;
  Result<std::vector<std::pair<int, std::string>>> Attempts(
      const std::string& delivery_id) override;
  Result<std::pair<std::string, std::string>> DeliveryState(
      const std::string& delivery_id) override;

  // A query parameter: text, or SQL NULL.
  using Param = std::optional<std::string>;
  // Owns a PGresult.
  class Rows;

 private:
  PostgresStore(std::string url, PgLocation where, StoreOptions options);
  Status Connect();
  Status Migrate();
  // Runs one statement; on failure an IoError (Unavailable when the
  // connection is gone) naming the location and `operation`.
  Result<Rows> Run(std::string_view operation, const char* sql,
                   std::initializer_list<Param> params = {});
  // Run, again after a reconnect when the connection was lost (for
  // statements that may run twice: reads, lease renewal and release).
  Result<Rows> RunIdempotent(std::string_view operation, const char* sql,
                             std::initializer_list<Param> params = {});
  // One statement in its own transaction: again after a deadlock or
  // serialization failure (bounded), and after a reconnect when the
  // connection was lost (then it may have committed: the statements run
  // so are BeginAttempt's, which then finds the attempt made and answers
  // kNotOurs, and EndAttempt's, which records the same twice).
  Result<Rows> RunStatement(std::string_view operation, const char* sql,
                            std::initializer_list<Param> params = {});
  bool ConnectionLost() const;
  // Re-opens a lost connection, with backoff (100 ms doubling to 2 s)
  // for up to busy_timeout or until *abort; `cause` is the error returned
  // when it gives up.
  Status Reconnect(const Status& cause);
  // Runs `body` in BEGIN ... COMMIT, again (bounded) when it failed on a
  // deadlock or serialization failure, and again after a reconnect when
  // the connection was lost before COMMIT; rolls back on failure. A
  // connection lost during COMMIT is an error (the commit may or may not
  // have happened).
  // What a connection lost during COMMIT means for a transaction: an
  // error (kFail), or run it again (kRunAgain: safe when applying it twice
  // changes nothing a runner relies on).
  enum class CommitLoss { kFail, kRunAgain };
  Status InTransaction(std::string_view operation,
                       const std::function<Status()>& body,
                       CommitLoss on_commit_loss = CommitLoss::kFail);
  Result<HookChangeResult> ChangeHook(const char* verb,
                                      std::optional<HookState> already,
                                      const char* set_hook,
                                      const char* move_deliveries,
                                      const std::string& id, int64_t now_ms);
  std::string NewId(std::string_view prefix, int hex_digits);

  std::string url_;
  PgLocation where_;
  StoreOptions options_;
  pg_conn* conn_ = nullptr;
  std::string last_sqlstate_;  // Of the last failed statement.
  std::string lock_timeout_;   // The SET statement each connection runs.
  uint64_t reconnects_ = 0;
  uint64_t id_state_ = 0;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_DURABLE_POSTGRES_STORE_H_
