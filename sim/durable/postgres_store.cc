#include "sim/durable/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "sim/base/random.h"

namespace hooksim {

// Owns one PGresult; rows and columns as text.
class PostgresStore::Rows {
 public:
  explicit Rows(PGresult* r) : r_(r) {}
  ~Rows() {
    if (r_ != nullptr) PQclear(r_);
  }
  Rows(Rows&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Rows& operator=(Rows&& o) noexcept {
    if (this != &o) {
      if (r_ != nullptr) PQclear(r_);
      r_ = std::exchange(o.r_, nullptr);
    }
    return *this;
  }
  int size() const { return PQntuples(r_); }
  int64_t affected() const {
    const char* n = PQcmdTuples(r_);
    return n && *n ? std::strtoll(n, nullptr, 10) : 0;
  }
  bool IsNull(int row, int col) const {
    return PQgetisnull(r_, row, col) != 0;
  }
  std::string Text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col),
                       static_cast<size_t>(PQgetlength(r_, row, col)));
  }
  int64_t Int(int row, int col) const {
    return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
  }
  bool Bool(int row, int col) const { return PQgetvalue(r_, row, col)[0] == 't'; }

 private:
  PGresult* r_;
};

namespace {

// The tables of schema version 1 (the same columns as SQLite's version 3).
const char* const kPgSchema = R"sql(
CREATE TABLE hooks (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL,
  secret TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('active', 'paused', 'removed')),
  created_ms BIGINT NOT NULL,
  removed_ms BIGINT,
  contract TEXT NOT NULL DEFAULT '',
  contract_attempts INTEGER NOT NULL DEFAULT 0,
  gone_ms BIGINT
);
CREATE TABLE events (
  id BIGSERIAL PRIMARY KEY,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  body_sha256 TEXT NOT NULL DEFAULT '',
  batch TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_batch ON events (batch);
CREATE TABLE deliveries (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  hook_id TEXT NOT NULL REFERENCES hooks(id),
  event_id BIGINT NOT NULL REFERENCES events(id),
  state TEXT NOT NULL CHECK (state IN
    ('pending', 'held', 'delivered', 'gave_up', 'cancelled', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at_ms BIGINT NOT NULL,
  last_result TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  lease_owner TEXT,
  lease_until_ms BIGINT,
  created_ms BIGINT NOT NULL,
  ended_ms BIGINT
);
CREATE INDEX deliveries_due ON deliveries (state, next_at_ms, seq);
CREATE INDEX deliveries_by_hook ON deliveries (hook_id, state);
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_lease ON deliveries (lease_owner)
  WHERE lease_owner IS NOT NULL;
CREATE TABLE attempts (
  delivery_id TEXT NOT NULL REFERENCES deliveries(id),
  attempt INTEGER NOT NULL,
  started_ms BIGINT NOT NULL,
  ended_ms BIGINT,
  result TEXT,
  PRIMARY KEY (delivery_id, attempt)
);
-- BeginAttempt in one round trip (see PostgresStore::BeginAttempt): the
-- hook row first (shared), then the delivery row, then the decision.
CREATE FUNCTION hooksim_begin_attempt(p_owner TEXT, p_id TEXT,
    p_attempt INTEGER, p_now BIGINT, p_lease BIGINT) RETURNS TEXT AS $$
DECLARE
  h RECORD;
  d RECORD;
BEGIN
  SELECT hk.state, hk.contract_attempts, hk.gone_ms IS NOT NULL AS gone
    INTO h FROM hooks hk
    WHERE hk.id = (SELECT hook_id FROM deliveries WHERE id = p_id) FOR SHARE;
  IF NOT FOUND THEN RETURN 'not_ours'; END IF;
  SELECT dl.state, COALESCE(dl.lease_owner, '') AS owner, dl.attempts
    INTO d FROM deliveries dl WHERE dl.id = p_id FOR UPDATE;
  IF NOT FOUND THEN RETURN 'not_ours'; END IF;
  IF d.state = 'cancelled' THEN RETURN 'cancelled'; END IF;
  IF d.state <> 'pending' OR d.owner <> p_owner OR
     d.attempts <> p_attempt - 1 OR
     p_attempt > (CASE WHEN h.contract_attempts > 0
                  THEN h.contract_attempts ELSE 101 END) THEN
    RETURN 'not_ours';
  END IF;
  IF h.gone THEN
    UPDATE deliveries SET state = 'gave_up', lease_owner = NULL,
      lease_until_ms = NULL, reason = 'endpoint disabled by a 410 Gone',
      ended_ms = p_now WHERE id = p_id;
    RETURN 'gone';
  END IF;
  IF h.state = 'paused' THEN
    UPDATE deliveries SET state = 'held', lease_owner = NULL,
      lease_until_ms = NULL, reason = '', ended_ms = NULL WHERE id = p_id;
    RETURN 'held';
  END IF;
  IF h.state <> 'active' THEN
    UPDATE deliveries SET state = 'cancelled', lease_owner = NULL,
      lease_until_ms = NULL, reason = 'hook removed', ended_ms = p_now
      WHERE id = p_id;
    RETURN 'cancelled';
  END IF;
  INSERT INTO attempts (delivery_id, attempt, started_ms)
    VALUES (p_id, p_attempt, p_now);
  UPDATE deliveries SET attempts = p_attempt,
    lease_until_ms = p_now + p_lease WHERE id = p_id;
  RETURN 'start';
END;
$$ LANGUAGE plpgsql;
CREATE TABLE hooksim_schema (version INTEGER NOT NULL);
)sql";

// pg_advisory_xact_lock key of schema creation ("hksm").
constexpr const char* kSchemaLockKey = "1751872365";

// Attempts at a transaction that hit a deadlock or serialization failure.
constexpr int kMaxTransactionTries = 8;

std::string Hex(uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits; i-- > 0;) {
    out[static_cast<size_t>(i)] = kHex[value & 0xf];
    value >>= 4;
  }
  return out;
}

std::optional<HookState> ParseState(std::string_view s) {
  if (s == "active") return HookState::kActive;
  if (s == "paused") return HookState::kPaused;
  if (s == "removed") return HookState::kRemoved;
  return std::nullopt;
}

// libpq's message on one line ("connection to server at ... failed:
// Connection refused; Is the server running ...?").
std::string OneLine(const char* message) {
  std::string out;
  for (const char* p = message ? message : ""; *p; ++p) {
    if (*p == '\n') {
      if (p[1] != '\0') out += "; ";
    } else if (*p != '\t') {
      out += *p;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) {
    out.pop_back();
  }
  return out;
}

PostgresStore::Param P(int64_t v) { return std::to_string(v); }
PostgresStore::Param P(const std::string& v) { return v; }
PostgresStore::Param P(const char* v) { return std::string(v); }
const PostgresStore::Param kNull = std::nullopt;

// A PostgreSQL text[] literal of ids (hooksim's ids are [a-z0-9_]).
std::string IdArray(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += '"' + ids[i] + '"';
  }
  return out + "}";
}

void AddCount(DeliveryCounts& c, const std::string& state, int64_t n) {
  if (state == "delivered") c.delivered += n;
  if (state == "gave_up") c.gave_up += n;
  if (state == "pending") c.pending += n;
  if (state == "held") c.held += n;
  if (state == "cancelled") c.cancelled += n;
  if (state == "failed") c.failed += n;
}

}  // namespace

bool IsPostgresLocation(std::string_view location) {
  return location.rfind("postgres://", 0) == 0 ||
         location.rfind("postgresql://", 0) == 0;
}

PgLocation DescribePgLocation(const std::string& url) {
  PgLocation where;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    if (error != nullptr) PQfreemem(error);
    where.display = url;
    return where;
  }
  std::string user, host = "localhost", port = "5432", db;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    const std::string_view k = o->keyword;
    if (k == "user") user = o->val;
    if (k == "host" || (k == "hostaddr" && host == "localhost")) host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
  }
  PQconninfoFree(options);
  where.host_port = host + ":" + port;
  where.display = "postgres://" + (user.empty() ? "" : user + "@") +
                  where.host_port + "/" + db;
  return where;
}

PostgresStore::PostgresStore(std::string url, PgLocation where,
                             StoreOptions options)
    : url_(std::move(url)),
      where_(std::move(where)),
      options_(options),
      id_state_(options_.id_seed ? *options_.id_seed : StoreIdSeed()) {}

PostgresStore::~PostgresStore() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Status PostgresStore::Connect() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  // The URL's own settings override these defaults.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname",
                            nullptr};
  const char* values[] = {"5", "hooksim", url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) {
    return Status::Unavailable(where_.display +
                               ": cannot connect to PostgreSQL at " +
                               where_.host_port + ": out of memory");
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Status::Unavailable(where_.display +
                               ": cannot connect to PostgreSQL at " +
                               where_.host_port + ": " +
                               OneLine(PQerrorMessage(conn_)));
  }
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  lock_timeout_ = "SET lock_timeout = ";
  lock_timeout_ += options_.busy_timeout == Duration::max()
                       ? "0"
                       : std::to_string(std::max<int64_t>(
                             1, ToMillis(options_.busy_timeout)));
  if (Result<Rows> r = Run("set the lock timeout", lock_timeout_.c_str());
      !r.ok()) {
    return r.error();
  }
  return Status::Ok();
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(
    const std::string& url, StoreOptions options) {
  PgLocation where = DescribePgLocation(url);
  if (where.host_port.empty()) {
    return Status::InvalidArgument(
        url + ": not a PostgreSQL URL (expected "
              "postgres://USER@HOST:PORT/DB)");
  }
  std::unique_ptr<PostgresStore> store(
      new PostgresStore(url, std::move(where), options));
  if (Status s = store->Connect(); !s.ok()) return s;
  if (Status s = store->Migrate(); !s.ok()) return s;
  return store;
}

Result<PostgresStore::Rows> PostgresStore::Run(
    std::string_view operation, const char* sql,
    std::initializer_list<Param> params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  // Without parameters, PQexec (which also runs several statements).
  PGresult* r = values.empty()
                    ? PQexec(conn_, sql)
                    : PQexecParams(conn_, sql, static_cast<int>(values.size()),
                                   nullptr, values.data(), nullptr, nullptr, 0);
  Rows rows(r);
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    return rows;
  }
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  const std::string cause = OneLine(
      r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r)
                                    : PQerrorMessage(conn_));
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Status::Unavailable(where_.display + ": " + std::string(operation) +
                               ": lost the connection to PostgreSQL at " +
                               where_.host_port + ": " + cause);
  }
  return Status::IoError(where_.display + ": " + std::string(operation) +
                         ": " + cause);
}

bool PostgresStore::ConnectionLost() const {
  return PQstatus(conn_) != CONNECTION_OK;
}

Status PostgresStore::Reconnect(const Status& cause) {
  const auto start = std::chrono::steady_clock::now();
  int64_t backoff_ms = 100;
  Status last = cause;
  // Bounded by busy_timeout (a runner's is unbounded: until *abort, the
  // second signal).
  while (true) {
    if (options_.abort != nullptr && options_.abort->load()) return last;
    if (options_.busy_timeout != Duration::max() &&
        std::chrono::steady_clock::now() - start >= options_.busy_timeout) {
      return last;
    }
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK) {
      PQsetNoticeProcessor(
          conn_, [](void*, const char*) {}, nullptr);
      if (Result<Rows> r = Run("set the lock timeout", lock_timeout_.c_str());
          r.ok()) {
        ++reconnects_;
        return Status::Ok();
      }
    } else {
      last = Status::Unavailable(where_.display +
                                 ": lost the connection to PostgreSQL at " +
                                 where_.host_port + ", reconnecting: " +
                                 OneLine(PQerrorMessage(conn_)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 2000);
  }
}

Result<PostgresStore::Rows> PostgresStore::RunIdempotent(
    std::string_view operation, const char* sql,
    std::initializer_list<Param> params) {
  while (true) {
    Result<Rows> r = Run(operation, sql, params);
    if (r.ok() || !ConnectionLost()) return r;
    // The statement is safe to run again: reconnect (with backoff) and do.
    if (Status s = Reconnect(r.error()); !s.ok()) return s;
  }
}

Result<PostgresStore::Rows> PostgresStore::RunStatement(
    std::string_view operation, const char* sql,
    std::initializer_list<Param> params) {
  int deadlocks = 0;
  while (true) {
    Result<Rows> r = Run(operation, sql, params);
    if (r.ok()) return r;
    if (ConnectionLost()) {
      if (Status s = Reconnect(r.error()); !s.ok()) return s;
      continue;
    }
    if ((last_sqlstate_ == "40P01" || last_sqlstate_ == "40001") &&
        ++deadlocks < kMaxTransactionTries) {
      continue;
    }
    return r;
  }
}

Status PostgresStore::InTransaction(std::string_view operation,
                                    const std::function<Status()>& body,
                                    CommitLoss on_commit_loss) {
  Status last;
  int tries = 0;
  while (tries < kMaxTransactionTries) {
    Result<Rows> begun = Run(operation, "BEGIN");
    if (!begun.ok()) {
      if (!ConnectionLost()) return begun.error();
      if (Status s = Reconnect(begun.error()); !s.ok()) return s;
      continue;
    }
    last = body();
    if (last.ok()) {
      Result<Rows> c = Run(operation, "COMMIT");
      if (c.ok()) return Status::Ok();
      // Lost during COMMIT: it may have been applied or not.
      if (!ConnectionLost() || on_commit_loss == CommitLoss::kFail) {
        return c.error();
      }
      if (Status s = Reconnect(c.error()); !s.ok()) return s;
      continue;
    }
    if (ConnectionLost()) {
      // Nothing of this transaction was committed: reconnect and run it
      // again from the start.
      if (Status s = Reconnect(last); !s.ok()) return s;
      continue;
    }
    const std::string sqlstate = last_sqlstate_;
    PGresult* r = PQexec(conn_, "ROLLBACK");
    if (r != nullptr) PQclear(r);
    // 40P01 deadlock detected, 40001 serialization failure: try again.
    if (sqlstate != "40P01" && sqlstate != "40001") return last;
    ++tries;
  }
  return last;
}

Status PostgresStore::Migrate() {
  Result<Rows> seen = Run(
      "read the schema",
      "SELECT to_regclass('hooksim_schema') IS NOT NULL, "
      "to_regclass('deliveries') IS NOT NULL OR "
      "to_regclass('hooks') IS NOT NULL");
  if (!seen.ok()) return seen.error();
  const auto check_version = [this]() -> Status {
    Result<Rows> v =
        Run("read the schema version", "SELECT max(version) FROM hooksim_schema");
    if (!v.ok()) return v.error();
    const int64_t version = v->IsNull(0, 0) ? 0 : v->Int(0, 0);
    if (version > kPgSchemaVersion) {
      return Status::FailedPrecondition(
          where_.display + ": state schema version " +
          std::to_string(version) + ", this hooksim knows " +
          std::to_string(kPgSchemaVersion) +
          " (a newer hooksim made it): refusing to use it");
    }
    if (version < 1) {
      return Status::InvalidArgument(where_.display +
                                     ": hooksim_schema holds no version: not "
                                     "a hooksim state: refusing to use it");
    }
    return Status::Ok();
  };
  if (seen->Bool(0, 0)) return check_version();
  if (seen->Bool(0, 1)) {
    return Status::InvalidArgument(
        where_.display +
        ": the database has tables named as hooksim's (hooks, deliveries) "
        "but no hooksim_schema: not a hooksim state: refusing to use it");
  }
  if (!options_.create) {
    return Status::NotFound("no hooksim state in " + where_.display +
                            " (hooksim hooks add URL --state " +
                            where_.display + " creates it)");
  }
  return InTransaction("create the schema", [&]() -> Status {
    // Processes starting together: one creates, the others see it.
    std::string lock =
        std::string("SELECT pg_advisory_xact_lock(") + kSchemaLockKey + ")";
    if (Result<Rows> r = Run("create the schema", lock.c_str()); !r.ok()) {
      return r.error();
    }
    Result<Rows> again = Run("read the schema",
                             "SELECT to_regclass('hooksim_schema') IS NOT NULL");
    if (!again.ok()) return again.error();
    if (again->Bool(0, 0)) return check_version();
    if (Result<Rows> r = Run("create the schema", kPgSchema); !r.ok()) {
      return r.error();
    }
    const std::string put = "INSERT INTO hooksim_schema (version) VALUES (" +
                            std::to_string(kPgSchemaVersion) + ")";
    if (Result<Rows> r = Run("write the schema version", put.c_str());
        !r.ok()) {
      return r.error();
    }
    return Status::Ok();
  });
}

std::string PostgresStore::NewId(std::string_view prefix, int hex_digits) {
  return std::string(prefix) + Hex(SplitMix64(id_state_), hex_digits);
}

Result<StoredHook> PostgresStore::AddHook(const std::string& url,
                                          const std::string& secret,
                                          int64_t now_ms,
                                          const std::string& contract,
                                          int contract_attempts) {
  for (int tries = 0; tries < 8; ++tries) {
    StoredHook hook;
    hook.id = NewId("hk_", 12);
    hook.url = url;
    hook.secret = secret;
    hook.state = HookState::kActive;
    hook.created_ms = now_ms;
    hook.contract = contract;
    hook.contract_attempts = contract.empty() ? 0 : contract_attempts;
    Result<Rows> r = Run(
        "add a hook",
        "INSERT INTO hooks (id, url, secret, state, created_ms, contract, "
        "contract_attempts) VALUES ($1, $2, $3, 'active', $4, $5, $6) "
        "ON CONFLICT (id) DO NOTHING",
        {P(hook.id), P(url), P(secret), P(now_ms), P(contract),
         P(int64_t{hook.contract_attempts})});
    if (!r.ok()) return r.error();
    if (r->affected() == 1) return hook;
  }
  return Status::IoError(where_.display + ": add a hook: no unique id");
}

namespace {
constexpr const char* kPgHookColumns =
    "SELECT h.id, h.url, h.secret, h.state, h.created_ms, "
    "COUNT(*) FILTER (WHERE d.state = 'delivered'), "
    "COUNT(*) FILTER (WHERE d.state = 'gave_up'), "
    "COUNT(*) FILTER (WHERE d.state = 'pending'), "
    "COUNT(*) FILTER (WHERE d.state = 'held'), "
    "COUNT(*) FILTER (WHERE d.state = 'cancelled'), "
    "COUNT(*) FILTER (WHERE d.state = 'failed'), "
    "h.contract, h.contract_attempts, h.gone_ms "
    "FROM hooks h LEFT JOIN deliveries d ON d.hook_id = h.id ";

StoredHook ReadPgHook(const PostgresStore::Rows& r, int i) {
  StoredHook h;
  h.id = r.Text(i, 0);
  h.url = r.Text(i, 1);
  h.secret = r.Text(i, 2);
  h.state = ParseState(r.Text(i, 3)).value_or(HookState::kRemoved);
  h.created_ms = r.Int(i, 4);
  h.counts = {r.Int(i, 5), r.Int(i, 6), r.Int(i, 7),
              r.Int(i, 8), r.Int(i, 9), r.Int(i, 10)};
  h.contract = r.Text(i, 11);
  h.contract_attempts = static_cast<int>(r.Int(i, 12));
  if (!r.IsNull(i, 13)) h.gone_ms = r.Int(i, 13);
  return h;
}
}  // namespace

Result<std::vector<StoredHook>> PostgresStore::ListHooks(bool include_removed) {
  static const std::string kAll =
      std::string(kPgHookColumns) + "GROUP BY h.seq ORDER BY h.seq";
  static const std::string kLive = std::string(kPgHookColumns) +
                                   "WHERE h.state != 'removed' "
                                   "GROUP BY h.seq ORDER BY h.seq";
  Result<Rows> r =
      RunIdempotent("list the hooks", include_removed ? kAll.c_str() : kLive.c_str());
  if (!r.ok()) return r.error();
  std::vector<StoredHook> hooks;
  for (int i = 0; i < r->size(); ++i) hooks.push_back(ReadPgHook(*r, i));
  return hooks;
}

Result<std::optional<StoredHook>> PostgresStore::FindHook(
    const std::string& id) {
  static const std::string kSql =
      std::string(kPgHookColumns) + "WHERE h.id = $1 GROUP BY h.seq";
  Result<Rows> r = RunIdempotent("find a hook", kSql.c_str(), {P(id)});
  if (!r.ok()) return r.error();
  if (r->size() == 0) return std::optional<StoredHook>();
  return std::optional<StoredHook>(ReadPgHook(*r, 0));
}

Result<HookChangeResult> PostgresStore::ChangeHook(
    const char* verb, std::optional<HookState> already, const char* set_hook,
    const char* move_deliveries, const std::string& id, int64_t now_ms) {
  const std::string op = std::string(verb) + " hook " + id;
  HookChangeResult result;
  Status s = InTransaction(op, [&]() -> Status {
    result = HookChangeResult{};
    // The hook row first (as BeginAttempt): an attempt being recorded
    // finishes before the change, and none starts after it.
    Result<Rows> get =
        Run(op, "SELECT state FROM hooks WHERE id = $1 FOR UPDATE", {P(id)});
    if (!get.ok()) return get.error();
    const std::optional<HookState> state =
        get->size() == 0 ? std::nullopt : ParseState(get->Text(0, 0));
    if (!state || *state == HookState::kRemoved) {
      result.change = HookChange::kNotFound;
      return Status::Ok();
    }
    if (already && *state == *already) {
      result.change = HookChange::kAlreadyInState;
      return Status::Ok();
    }
    if (Result<Rows> r = Run(op, set_hook, {P(id), P(now_ms)}); !r.ok()) {
      return r.error();
    }
    Result<Rows> moved = Run(op, move_deliveries, {P(id), P(now_ms)});
    if (!moved.ok()) return moved.error();
    result.deliveries = moved->affected();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return result;
}

Result<HookChangeResult> PostgresStore::PauseHook(const std::string& id,
                                                  int64_t now_ms) {
  return ChangeHook(
      "pause", HookState::kPaused,
      "UPDATE hooks SET state = 'paused' WHERE id = $1 AND $2::bigint IS NOT "
      "NULL",
      "UPDATE deliveries SET state = 'held', lease_owner = NULL, "
      "lease_until_ms = NULL WHERE hook_id = $1 AND state = 'pending' AND "
      "(lease_owner IS NULL OR lease_until_ms <= $2)",
      id, now_ms);
}

Result<HookChangeResult> PostgresStore::ResumeHook(const std::string& id,
                                                   int64_t now_ms) {
  return ChangeHook(
      "resume", HookState::kActive,
      "UPDATE hooks SET state = 'active' WHERE id = $1 AND $2::bigint IS NOT "
      "NULL",
      "UPDATE deliveries SET state = 'pending', lease_owner = NULL, "
      "lease_until_ms = NULL, "
      "next_at_ms = CASE WHEN attempts = 0 THEN $2 ELSE next_at_ms END "
      "WHERE hook_id = $1 AND state = 'held'",
      id, now_ms);
}

Result<HookChangeResult> PostgresStore::RemoveHook(const std::string& id,
                                                   int64_t now_ms) {
  return ChangeHook(
      "remove", std::nullopt,
      "UPDATE hooks SET state = 'removed', removed_ms = $2 WHERE id = $1",
      "UPDATE deliveries SET state = 'cancelled', reason = 'hook removed', "
      "ended_ms = $2, lease_owner = NULL, lease_until_ms = NULL "
      "WHERE hook_id = $1 AND state IN ('pending', 'held')",
      id, now_ms);
}

Result<EnqueueResult> PostgresStore::Enqueue(
    const std::vector<FileEvent>& events, int64_t now_ms) {
  EnqueueResult result;
  result.batch = NewId("b_", 16);
  size_t done = 0;
  do {
    EnqueueResult chunk;
    size_t stored = 0;
    Status s = InTransaction("store the events", [&]() -> Status {
      chunk = EnqueueResult{};
      stored = 0;
      Result<Rows> live = Run(
          "read the hooks",
          "SELECT id, state FROM hooks WHERE state != 'removed' ORDER BY seq");
      if (!live.ok()) return live.error();
      if (live->size() == 0) {
        return Status::FailedPrecondition(where_.display +
                                          ": no hooks registered (add one "
                                          "with `hooksim hooks add URL`)");
      }
      std::vector<std::string> active, paused;
      for (int i = 0; i < live->size(); ++i) {
        chunk.hooks.push_back(live->Text(i, 0));
        (live->Text(i, 1) == "paused" ? paused : active)
            .push_back(live->Text(i, 0));
      }
      for (size_t i = done;
           i < events.size() && chunk.deliveries < kEnqueueChunk; ++i) {
        ++stored;
        const FileEvent& e = events[i];
        Result<Rows> ev = Run(
            "store an event",
            "INSERT INTO events (type, body, body_sha256, batch, created_ms) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            {P(e.type), P(e.body), P(Sha256Hex(e.body)), P(result.batch),
             P(now_ms)});
        if (!ev.ok()) return ev.error();
        const int64_t event_id = ev->Int(0, 0);
        if (i == done) chunk.first_event = event_id;
        chunk.last_event = event_id;
        for (const auto* group : {&active, &paused}) {
          if (group->empty()) continue;
          const bool held = group == &paused;
          // Ids that clash (64 random bits: in practice never) are drawn
          // again for the hooks they missed.
          std::vector<std::string> hooks = *group;
          for (int tries = 0; tries < 8 && !hooks.empty(); ++tries) {
            std::vector<std::string> ids;
            for (size_t k = 0; k < hooks.size(); ++k) {
              ids.push_back(NewId("dlv_", 16));
            }
            Result<Rows> ins = Run(
                "store a delivery",
                "INSERT INTO deliveries (id, hook_id, event_id, state, "
                "next_at_ms, created_ms) "
                "SELECT i, h, $3::bigint, $4::text, $5::bigint, $5::bigint FROM "
                "unnest($1::text[], $2::text[]) AS t(i, h) "
                "ON CONFLICT (id) DO NOTHING RETURNING hook_id",
                {P(IdArray(ids)), P(IdArray(hooks)), P(event_id),
                 P(held ? "held" : "pending"), P(now_ms)});
            if (!ins.ok()) return ins.error();
            for (int k = 0; k < ins->size(); ++k) {
              const std::string hook = ins->Text(k, 0);
              hooks.erase(std::find(hooks.begin(), hooks.end(), hook));
              ++chunk.deliveries;
              if (held) ++chunk.held_by_hook[hook];
            }
          }
          if (!hooks.empty()) {
            return Status::IoError(where_.display +
                                   ": store a delivery: no unique id");
          }
        }
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    if (done == 0) result.first_event = chunk.first_event;
    if (stored > 0) result.last_event = chunk.last_event;
    result.deliveries += chunk.deliveries;
    for (const auto& [hook, held] : chunk.held_by_hook) {
      result.held_by_hook[hook] += held;
    }
    for (const std::string& hook : chunk.hooks) {
      if (std::find(result.hooks.begin(), result.hooks.end(), hook) ==
          result.hooks.end()) {
        result.hooks.push_back(hook);
      }
    }
    done += stored;
  } while (done < events.size());
  return result;
}

Result<ClaimResult> PostgresStore::Claim(const std::string& owner,
                                         const ClaimOptions& o,
                                         int64_t now_ms) {
  ClaimResult result;
  // The rows a run of the body below leased, kept for the next run: a run
  // again follows a connection lost at COMMIT, which may have committed.
  std::vector<std::string> leased;
  Status s = InTransaction("claim deliveries", [&]() -> Status {
    result = ClaimResult{};
    if (!leased.empty()) {
      // Leased to this owner unseen: the runner does not know them, and
      // its lease renewals would keep them from everyone for good. Handed
      // back, to be claimed again below like any other.
      if (Result<Rows> r = Run(
              "hand back deliveries claimed unseen",
              "UPDATE deliveries SET lease_owner = NULL, lease_until_ms = NULL "
              "WHERE id = ANY($1::text[]) AND lease_owner = $2",
              {P(IdArray(leased)), P(owner)});
          !r.ok()) {
        return r.error();
      }
      leased.clear();
    }
    // Rows a stopped runner left behind for a hook paused since are held
    // (rows another claim is taking are skipped: the next claim sees them).
    if (Result<Rows> r = Run(
            "hold deliveries of paused hooks",
            "UPDATE deliveries SET state = 'held', lease_owner = NULL, "
            "lease_until_ms = NULL WHERE id IN (SELECT d.id FROM deliveries d "
            "JOIN hooks h ON h.id = d.hook_id WHERE d.state = 'pending' AND "
            "h.state = 'paused' AND "
            "(d.lease_owner IS NULL OR d.lease_until_ms <= $1) "
            "FOR UPDATE OF d SKIP LOCKED)",
            {P(now_ms)});
        !r.ok()) {
      return r.error();
    }
    // Unleased rows of hooks a 410 Gone disabled end gave_up, unsent.
    Result<Rows> gone = Run(
        "end deliveries of disabled hooks",
        "UPDATE deliveries SET state = 'gave_up', ended_ms = $1, reason = "
        "'endpoint disabled by a 410 Gone', lease_owner = NULL, "
        "lease_until_ms = NULL WHERE id IN (SELECT d.id FROM deliveries d "
        "JOIN hooks h ON h.id = d.hook_id WHERE d.state IN ('pending', "
        "'held') AND h.gone_ms IS NOT NULL AND "
        "(d.lease_owner IS NULL OR d.lease_until_ms <= $1) "
        "FOR UPDATE OF d SKIP LOCKED) RETURNING id, hook_id",
        {P(now_ms)});
    if (!gone.ok()) return gone.error();
    for (int i = 0; i < gone->size(); ++i) {
      ClaimedDelivery d;
      d.id = gone->Text(i, 0);
      d.hook_id = gone->Text(i, 1);
      result.gone.push_back(std::move(d));
    }
    Result<Rows> rows = Run(
        "claim deliveries",
        "SELECT d.id, d.seq, d.hook_id, h.url, h.secret, d.event_id, "
        "e.type, e.body, d.attempts, d.next_at_ms, e.body_sha256, "
        "h.contract, h.contract_attempts, "
        "(d.lease_owner IS NOT NULL AND d.lease_owner != $6) "
        "FROM deliveries d JOIN hooks h ON h.id = d.hook_id "
        "JOIN events e ON e.id = d.event_id "
        "WHERE d.state = 'pending' AND h.state = 'active' AND "
        "h.gone_ms IS NULL AND "
        "(d.lease_owner IS NULL OR d.lease_until_ms <= $3) AND "
        "d.next_at_ms <= $4 AND ($1 = '' OR e.batch = $1) AND d.seq <= $2 "
        "ORDER BY d.next_at_ms, d.seq LIMIT $5 "
        "FOR UPDATE OF d SKIP LOCKED",
        {P(o.scope.batch.value_or("")), P(o.scope.max_seq.value_or(INT64_MAX)),
         P(now_ms), P(o.due_by_ms), P(static_cast<int64_t>(o.limit)),
         P(owner)});
    if (!rows.ok()) return rows.error();
    std::vector<std::string> reasons;  // Of result.failed.
    for (int i = 0; i < rows->size(); ++i) {
      ClaimedDelivery d;
      d.id = rows->Text(i, 0);
      d.seq = rows->Int(i, 1);
      d.hook_id = rows->Text(i, 2);
      d.url = rows->Text(i, 3);
      d.secret = rows->Text(i, 4);
      d.event_id = rows->Int(i, 5);
      d.event_type = rows->Text(i, 6);
      d.body = rows->Text(i, 7);
      d.attempts_started = static_cast<int>(rows->Int(i, 8));
      d.next_at_ms = rows->Int(i, 9);
      const std::string stored_sum = rows->Text(i, 10);
      d.contract = rows->Text(i, 11);
      d.taken_over = rows->Bool(i, 13);
      const int max_attempts = d.contract.empty()
                                   ? o.max_attempts
                                   : static_cast<int>(rows->Int(i, 12));
      SortClaimed(std::move(d), stored_sum, max_attempts, reasons, result);
    }
    const char* const kEnd =
        "UPDATE deliveries SET state = $1, ended_ms = $2, reason = $3, "
        "lease_owner = NULL, lease_until_ms = NULL WHERE id = $4";
    for (const ClaimedDelivery& d : result.gave_up) {
      if (Result<Rows> r =
              Run("end a delivery", kEnd,
                  {P("gave_up"), P(now_ms),
                   P("all attempts started; the last outcome was lost"),
                   P(d.id)});
          !r.ok()) {
        return r.error();
      }
    }
    for (size_t i = 0; i < result.failed.size(); ++i) {
      if (Result<Rows> r = Run("end a delivery", kEnd,
                               {P("failed"), P(now_ms), P(reasons[i]),
                                P(result.failed[i].id)});
          !r.ok()) {
        return r.error();
      }
    }
    if (!result.deliveries.empty()) {
      std::vector<std::string> ids;
      ids.reserve(result.deliveries.size());
      for (const ClaimedDelivery& d : result.deliveries) ids.push_back(d.id);
      if (Result<Rows> r = Run(
              "claim a delivery",
              "UPDATE deliveries SET lease_owner = $1, lease_until_ms = $2 "
              "WHERE id = ANY($3::text[])",
              {P(owner), P(now_ms + o.lease_ms), P(IdArray(ids))});
          !r.ok()) {
        return r.error();
      }
      leased = std::move(ids);
    }
    return Status::Ok();
    // A claim that may have committed unseen is run again: its next run
    // first hands back the rows this one leased (above).
  }, CommitLoss::kRunAgain);
  if (!s.ok()) return s;
  return result;
}

Result<int64_t> PostgresStore::RenewLeases(const std::string& owner,
                                           int64_t now_ms, int64_t lease_ms) {
  Result<Rows> r = RunIdempotent("renew leases",
                       "UPDATE deliveries SET lease_until_ms = $1 "
                       "WHERE lease_owner = $2 AND state = 'pending'",
                       {P(now_ms + lease_ms), P(owner)});
  if (!r.ok()) return r.error();
  return r->affected();
}

Result<AttemptGate> PostgresStore::BeginAttempt(const std::string& owner,
                                                const std::string& delivery_id,
                                                int attempt, int64_t now_ms,
                                                int64_t lease_ms) {
  // One statement, one transaction, one round trip: the function locks the
  // hook row (shared) before the delivery row, the order pause, resume and
  // remove keep (a deadlock with one of them is retried).
  static_assert(kStoreAttemptsLimit == 101, "hooksim_begin_attempt's cap");
  const std::string operation = "start an attempt of " + delivery_id;
  std::string gate;
  // Bounded: Reconnect gives up past busy_timeout or on abort, and a
  // deadlock is tried kMaxTransactionTries times.
  for (int deadlocks = 0;;) {
    Result<Rows> r = Run(operation,
            "SELECT hooksim_begin_attempt($1, $2, $3::integer, $4::bigint, "
            "$5::bigint)",
            {P(owner), P(delivery_id), P(int64_t{attempt}), P(now_ms),
             P(lease_ms)});
    if (r.ok()) {
      gate = r->Text(0, 0);
      break;
    }
    if (ConnectionLost()) {
      if (Status s = Reconnect(r.error()); !s.ok()) return s;
      // The lost call may have committed. Run again it would find the
      // attempt begun and answer not_ours, and the runner would drop a
      // delivery still leased to it, renewing that lease for good. So
      // first: did it begin, for this owner?
      Result<Rows> begun = RunIdempotent(
          operation,
          "SELECT 1 FROM deliveries d JOIN attempts a ON a.delivery_id = d.id "
          "AND a.attempt = $3::integer WHERE d.id = $2 AND d.lease_owner = $1 "
          "AND d.state = 'pending' AND d.attempts = $3::integer AND "
          "a.ended_ms IS NULL",
          {P(owner), P(delivery_id), P(int64_t{attempt})});
      if (!begun.ok()) return begun.error();
      if (begun->size() > 0) return AttemptGate::kStart;
      continue;
    }
    if ((last_sqlstate_ == "40P01" || last_sqlstate_ == "40001") &&
        ++deadlocks < kMaxTransactionTries) {
      continue;
    }
    return r.error();
  }
  if (gate == "start") return AttemptGate::kStart;
  if (gate == "held") return AttemptGate::kHeld;
  if (gate == "cancelled") return AttemptGate::kCancelled;
  if (gate == "gone") return AttemptGate::kGone;
  return AttemptGate::kNotOurs;
}

Result<bool> PostgresStore::EndAttempt(const std::string& owner,
                                       const AttemptEnd& end) {
  const bool final_state = end.state != "pending";
  const bool release = final_state || end.release;
  // One statement (the attempt's end in a CTE): one round trip. A 2xx is
  // recorded whoever holds the row now: the receiver has it.
  Result<Rows> r = RunStatement(
      "end an attempt of " + end.delivery_id,
      "WITH a AS (UPDATE attempts SET ended_ms = $9::bigint, result = $2 "
      "WHERE delivery_id = $6 AND attempt = $10::integer) "
      "UPDATE deliveries SET state = $1, last_result = $2, "
      "next_at_ms = $3::bigint, ended_ms = $4::bigint, "
      "lease_owner = CASE WHEN $5::boolean THEN NULL ELSE lease_owner END, "
      "lease_until_ms = CASE WHEN $5::boolean THEN NULL ELSE "
      "lease_until_ms END "
      "WHERE id = $6 AND state = 'pending' AND (lease_owner = $7 OR "
      "$8::boolean)",
      {P(end.state), P(end.result), P(end.next_at_ms),
       final_state ? P(end.ended_ms) : kNull, P(release ? "t" : "f"),
       P(end.delivery_id), P(owner), P(end.state == "delivered" ? "t" : "f"),
       P(end.ended_ms), P(int64_t{end.attempt})});
  if (!r.ok()) return r.error();
  return r->affected() > 0;
}

Status PostgresStore::Release(const std::string& owner) {
  Result<Rows> r = RunIdempotent("release deliveries",
                       "UPDATE deliveries SET lease_owner = NULL, "
                       "lease_until_ms = NULL WHERE lease_owner = $1",
                       {P(owner)});
  return r.ok() ? Status::Ok() : r.error();
}

Status PostgresStore::DisableHook(const std::string& hook_id, int64_t now_ms) {
  Result<Rows> r = RunIdempotent(
      "disable hook " + hook_id,
      "UPDATE hooks SET gone_ms = $1 WHERE id = $2 AND gone_ms IS NULL",
      {P(now_ms), P(hook_id)});
  return r.ok() ? Status::Ok() : r.error();
}

Result<PendingInfo> PostgresStore::Pending(const std::string& owner,
                                           const DeliveryScope& scope,
                                           int64_t now_ms) {
  Result<Rows> r = RunIdempotent(
      "count pending deliveries",
      "SELECT COUNT(*), "
      "COUNT(*) FILTER (WHERE d.lease_owner IS NOT NULL AND "
      "d.lease_owner != $3 AND d.lease_until_ms > $4), "
      "COALESCE(MIN(d.lease_until_ms) FILTER (WHERE d.lease_owner IS NOT NULL "
      "AND d.lease_owner != $3 AND d.lease_until_ms > $4), 0) "
      "FROM deliveries d JOIN events e ON e.id = d.event_id "
      "WHERE d.state = 'pending' AND ($1 = '' OR e.batch = $1) AND "
      "d.seq <= $2",
      {P(scope.batch.value_or("")), P(scope.max_seq.value_or(INT64_MAX)),
       P(owner), P(now_ms)});
  if (!r.ok()) return r.error();
  return PendingInfo{r->Int(0, 0), r->Int(0, 1), r->Int(0, 2)};
}

Result<int64_t> PostgresStore::MaxSeq() {
  Result<Rows> r =
      RunIdempotent("read the deliveries", "SELECT COALESCE(MAX(seq), 0) FROM deliveries");
  if (!r.ok()) return r.error();
  return r->Int(0, 0);
}

Result<QueueDepth> PostgresStore::Depth(int64_t now_ms) {
  QueueDepth depth;
  Result<Rows> by_state =
      RunIdempotent("count deliveries by state",
          "SELECT state, COUNT(*) FROM deliveries GROUP BY state");
  if (!by_state.ok()) return by_state.error();
  for (int i = 0; i < by_state->size(); ++i) {
    AddCount(depth.by_state, by_state->Text(i, 0), by_state->Int(i, 1));
  }
  Result<Rows> r = RunIdempotent(
      "measure the queue",
      "SELECT COUNT(*) FILTER (WHERE h.state = 'active' AND h.gone_ms IS NULL "
      "AND d.next_at_ms <= $1 AND "
      "(d.lease_owner IS NULL OR d.lease_until_ms <= $1)), "
      "COUNT(*) FILTER (WHERE d.lease_owner IS NOT NULL AND "
      "d.lease_until_ms > $1) "
      "FROM deliveries d JOIN hooks h ON h.id = d.hook_id "
      "WHERE d.state = 'pending'",
      {P(now_ms)});
  if (!r.ok()) return r.error();
  depth.due = r->Int(0, 0);
  depth.leased = r->Int(0, 1);
  return depth;
}

Result<std::map<std::string, DeliveryCounts>> PostgresStore::CountByHook(
    int64_t first_event, int64_t last_event) {
  Result<Rows> r = RunIdempotent("count deliveries",
                       "SELECT hook_id, state, COUNT(*) FROM deliveries "
                       "WHERE event_id BETWEEN $1 AND $2 GROUP BY hook_id, state",
                       {P(first_event), P(last_event)});
  if (!r.ok()) return r.error();
  std::map<std::string, DeliveryCounts> counts;
  for (int i = 0; i < r->size(); ++i) {
    AddCount(counts[r->Text(i, 0)], r->Text(i, 1), r->Int(i, 2));
  }
  return counts;
}

Result<std::map<std::string, DeliveryCounts>> PostgresStore::CountBatch(
    const std::string& batch) {
  Result<Rows> r = RunIdempotent("count deliveries",
                       "SELECT d.hook_id, d.state, COUNT(*) FROM deliveries d "
                       "JOIN events e ON e.id = d.event_id WHERE e.batch = $1 "
                       "GROUP BY d.hook_id, d.state",
                       {P(batch)});
  if (!r.ok()) return r.error();
  std::map<std::string, DeliveryCounts> counts;
  for (int i = 0; i < r->size(); ++i) {
    AddCount(counts[r->Text(i, 0)], r->Text(i, 1), r->Int(i, 2));
  }
  return counts;
}

Result<std::vector<std::pair<int, std::string>>> PostgresStore::Attempts(
    const std::string& delivery_id) {
  Result<Rows> r = RunIdempotent("read attempts of " + delivery_id,
                       "SELECT attempt, COALESCE(result, '') FROM attempts "
                       "WHERE delivery_id = $1 ORDER BY attempt",
                       {P(delivery_id)});
  if (!r.ok()) return r.error();
  std::vector<std::pair<int, std::string>> out;
  for (int i = 0; i < r->size(); ++i) {
    out.emplace_back(static_cast<int>(r->Int(i, 0)), r->Text(i, 1));
  }
  return out;
}

Result<std::pair<std::string, std::string>> PostgresStore::DeliveryState(
    const std::string& delivery_id) {
  Result<Rows> r = RunIdempotent("read delivery " + delivery_id,
                       "SELECT state, reason FROM deliveries WHERE id = $1",
                       {P(delivery_id)});
  if (!r.ok()) return r.error();
  if (r->size() == 0) {
    return Status::NotFound(where_.display + ": no delivery " + delivery_id);
  }
  return std::make_pair(r->Text(0, 0), r->Text(0, 1));
}

}  // namespace hooksim
