#include "sim/durable/state_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <system_error>
#include <thread>

#include "sim/base/random.h"

namespace hooksim {
namespace {

// Version 3. Version 2 differs in: hooks without contract,
// contract_attempts and gone_ms. Version 1 also differs in: deliveries.owner / owner_pid instead of
// lease_owner / lease_until_ms and no 'failed' state; events without
// body_sha256 and batch; index deliveries_by_state (state, seq).
const char* const kSchema = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE hooks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL,
  secret TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('active', 'paused', 'removed')),
  created_ms INTEGER NOT NULL,
  removed_ms INTEGER,
  contract TEXT NOT NULL DEFAULT '',
  contract_attempts INTEGER NOT NULL DEFAULT 0,
  gone_ms INTEGER
);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  body_sha256 TEXT NOT NULL DEFAULT '',
  batch TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_batch ON events (batch);
)sql";

// The deliveries table of version 2 (also the migration's target).
const char* const kDeliveriesV2 = R"sql(
CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  hook_id TEXT NOT NULL REFERENCES hooks(id),
  event_id INTEGER NOT NULL REFERENCES events(id),
  state TEXT NOT NULL CHECK (state IN
    ('pending', 'held', 'delivered', 'gave_up', 'cancelled', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at_ms INTEGER NOT NULL,
  last_result TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  lease_owner TEXT,
  lease_until_ms INTEGER,
  created_ms INTEGER NOT NULL,
  ended_ms INTEGER
);
)sql";

const char* const kDeliveryIndexes = R"sql(
CREATE INDEX deliveries_due ON deliveries (state, next_at_ms, seq);
CREATE INDEX deliveries_by_hook ON deliveries (hook_id, state);
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_lease ON deliveries (lease_owner)
  WHERE lease_owner IS NOT NULL;
)sql";

const char* const kAttempts = R"sql(
CREATE TABLE attempts (
  delivery_id TEXT NOT NULL REFERENCES deliveries(id),
  attempt INTEGER NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  result TEXT,
  PRIMARY KEY (delivery_id, attempt)
);
)sql";

// Resets a prepared statement when the scope ends.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) const {
    return sqlite3_column_type(s_, col) == SQLITE_NULL;
  }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    const int n = sqlite3_column_bytes(s_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(n))
             : std::string();
  }

 private:
  sqlite3_stmt* s_;
};

std::optional<HookState> ParseHookState(std::string_view s) {
  if (s == "active") return HookState::kActive;
  if (s == "paused") return HookState::kPaused;
  if (s == "removed") return HookState::kRemoved;
  return std::nullopt;
}

}  // namespace

uint64_t StoreIdSeed() {
  uint64_t seed = 0;
  const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    [[maybe_unused]] const ssize_t n = read(fd, &seed, sizeof(seed));
    close(fd);
  }
  // Mixed with the time and pid, should /dev/urandom be unreadable.
  seed ^= static_cast<uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
  seed ^= static_cast<uint64_t>(getpid()) << 32;
  return seed;
}

namespace {

std::string Hex(uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits; i-- > 0;) {
    out[static_cast<size_t>(i)] = kHex[value & 0xf];
    value >>= 4;
  }
  return out;
}

// BEGIN IMMEDIATE on construction (takes the write lock at once, so two
// writers queue on busy_timeout instead of deadlocking); ROLLBACK unless
// Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    ok_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) ==
          SQLITE_OK;
  }
  ~Transaction() {
    if (ok_ && !done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  bool began() const { return ok_; }
  bool Commit() {
    done_ = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
    return done_;
  }

 private:
  sqlite3* db_;
  bool ok_ = false;
  bool done_ = false;
};

}  // namespace

std::string ResolveStatePath(const std::optional<std::string>& flag) {
  if (flag) return *flag;
  const char* env = std::getenv(kStateEnvVar);
  if (env != nullptr && *env != '\0') return env;
  return kDefaultStatePath;
}

std::string_view HookStateName(HookState state) {
  switch (state) {
    case HookState::kActive:
      return "active";
    case HookState::kPaused:
      return "paused";
    case HookState::kRemoved:
      return "removed";
  }
  return "unknown";
}

std::string NewOwnerToken() {
  uint64_t state = StoreIdSeed();
  return std::to_string(getpid()) + "-" + Hex(SplitMix64(state), 16);
}

void SortClaimed(ClaimedDelivery d, const std::string& stored_sum,
                 int max_attempts, std::vector<std::string>& reasons,
                 ClaimResult& result) {
  const std::string sum = Sha256Hex(d.body);
  if (sum != stored_sum) {
    reasons.push_back("stored body does not match its checksum (sha256 " +
                      sum.substr(0, 12) + "..., stored " +
                      (stored_sum.empty() ? std::string("none")
                                          : stored_sum.substr(0, 12) + "...") +
                      "): not sent");
    result.failed.push_back(std::move(d));
  } else if (d.attempts_started >= max_attempts) {
    result.gave_up.push_back(std::move(d));
  } else {
    result.deliveries.push_back(std::move(d));
  }
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) out += Hex(digest[i], 2);
  return out;
}

StateStore::StateStore(std::string path, sqlite3* db, StoreOptions options)
    : path_(std::move(path)),
      options_(options),
      db_(db),
      id_state_(options_.id_seed ? *options_.id_seed : StoreIdSeed()) {}

StateStore::~StateStore() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

namespace {

// Why opening the state at `path` failed, in words a user can act on;
// `rc` is SQLite's (extended) result code.
Status OpenError(const std::string& path, int rc) {
  switch (rc & 0xff) {
    case SQLITE_READONLY:
      return Status::IoError(path +
                             ": read-only (the file or its directory is not "
                             "writable): hooksim writes its state there");
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status::InvalidArgument(path + ": not a hooksim state database");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(
          path +
          ": locked by another process (another hooksim "
          "deliver or worker?); try again when it is done");
    case SQLITE_CANTOPEN:
      return Status::IoError(path +
                             ": cannot open the state database (is it a "
                             "directory, or is its directory missing or not "
                             "readable?)");
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status::IoError(path + ": permission denied");
    case SQLITE_FULL:
      return Status::IoError(path + ": the disk is full");
    default:
      return Status::IoError(
          path + ": cannot open the state database: " + sqlite3_errstr(rc));
  }
}

}  // namespace

int StateStore::OnBusy(void* self, int count) {
  StateStore& store = *static_cast<StateStore*>(self);
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) store.busy_since_ = now;
  if (store.options_.abort != nullptr && store.options_.abort->load()) return 0;
  if (store.options_.busy_timeout != Duration::max() &&
      now - store.busy_since_ >= store.options_.busy_timeout) {
    return 0;
  }
  // 1 ms doubling to 100 ms: short locks cost little, long ones few wakes.
  const int64_t sleep_ms = std::min<int64_t>(100, int64_t{1} << std::min(count, 7));
  std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  return 1;
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path,
                                                     StoreOptions options) {
  if (path.empty()) {
    return Status::InvalidArgument("state file: empty path");
  }
  struct stat st {};
  bool created = false;
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT && errno != ENOTDIR) {
      return Status::IoError(
          path + ": cannot read the state database: " + std::strerror(errno));
    }
    const std::filesystem::path parent =
        std::filesystem::path(path).parent_path();
    if (!options.create) {
      std::error_code ec;
      if (!parent.empty() && std::filesystem::is_regular_file(parent, ec)) {
        return Status::IoError(path + ": cannot create the directory " +
                               parent.string() + ": it is a file");
      }
      return Status::NotFound("no state database at " + path +
                              " (hooksim hooks add URL creates one)");
    }
    if (!parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        return Status::IoError(path + ": cannot create the directory " +
                               parent.string() + ": " + ec.message());
      }
    }
    created = true;
  } else if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(
        path + ": not a state database (not a regular file)");
  } else if (st.st_size == 0) {
    return Status::InvalidArgument(
        path +
        ": an empty file (0 bytes), not a hooksim state "
        "database: refusing to use it (restore it, or remove "
        "it to start afresh)");
  } else {
    char header[16] = {};
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    const ssize_t n = fd >= 0 ? read(fd, header, sizeof(header)) : -1;
    if (fd >= 0) close(fd);
    if (n != static_cast<ssize_t>(sizeof(header)) ||
        std::memcmp(header, "SQLite format 3", 16) != 0) {
      return Status::InvalidArgument(
          path +
          ": not a hooksim state database (not an SQLite file): "
          "refusing to use it");
    }
  }
  sqlite3* db = nullptr;
  const int flags =
      SQLITE_OPEN_READWRITE | (created ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const int code = db ? sqlite3_extended_errcode(db) : rc;
    sqlite3_close(db);
    return OpenError(path, code);
  }
  std::unique_ptr<StateStore> store(new StateStore(path, db, options));
  sqlite3_busy_handler(db, &StateStore::OnBusy, store.get());
  sqlite3_commit_hook(
      db,
      [](void* self) {
        ++static_cast<StateStore*>(self)->commits_;
        return 0;
      },
      store.get());
  sqlite3_extended_result_codes(db, 1);
  // SQLite's words for these ("attempt to write a readonly database") are
  // not what a user can act on: OpenError says it with the path.
  if (!store->Exec("PRAGMA journal_mode=WAL", "set WAL mode").ok() ||
      !store->Exec("PRAGMA synchronous=NORMAL", "set pragmas").ok()) {
    return OpenError(path, sqlite3_extended_errcode(db));
  }
  if (Status s = store->Migrate(created); !s.ok()) return s;
  if (Status s = store->Exec("PRAGMA foreign_keys=ON", "set pragmas");
      !s.ok()) {
    return s;
  }
  return store;
}

Status StateStore::SqlError(std::string_view operation) const {
  return Status::IoError(path_ + ": " + std::string(operation) + ": " +
                         sqlite3_errmsg(db_));
}

Status StateStore::Exec(const char* sql, std::string_view operation) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    Status e = Status::IoError(path_ + ": " + std::string(operation) + ": " +
                               (message ? message : sqlite3_errmsg(db_)));
    sqlite3_free(message);
    return e;
  }
  return Status::Ok();
}

Result<sqlite3_stmt*> StateStore::Prepare(const char* sql,
                                          std::string_view operation) {
  if (auto it = statements_.find(sql); it != statements_.end()) {
    return it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    return SqlError(operation);
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

namespace {
// The first column of the first row of `sql`, or nullopt when no row.
Result<std::optional<int64_t>> ReadInt(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    return Status::IoError(sqlite3_errmsg(db));
  }
  const int rc = sqlite3_step(stmt);
  std::optional<int64_t> value;
  if (rc == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  std::string message = rc == SQLITE_ROW || rc == SQLITE_DONE
                            ? std::string()
                            : std::string(sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  if (!message.empty()) return Status::IoError(std::move(message));
  return value;
}
}  // namespace

Status StateStore::Migrate(bool created) {
  // A read first: a current file needs no write lock.
  const auto inspect = [this]() -> Result<std::pair<int64_t, int64_t>> {
    Result<std::optional<int64_t>> app =
        ReadInt(db_, "PRAGMA application_id");
    if (!app.ok())
      return Status(app.error().code(), path_ + ": " + app.error().message());
    Result<std::optional<int64_t>> tables = ReadInt(
        db_, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'");
    if (!tables.ok()) {
      return Status::InvalidArgument(
          path_ + ": not a hooksim state database (" +
          tables.error().message() + "): refusing to use it");
    }
    Result<std::optional<int64_t>> has_version = ReadInt(
        db_,
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = "
        "'schema_version'");
    if (!has_version.ok())
      return Status(has_version.error().code(),
                    path_ + ": " + has_version.error().message());
    int64_t version = 0;
    if (has_version->value_or(0) > 0) {
      Result<std::optional<int64_t>> v =
          ReadInt(db_, "SELECT version FROM schema_version");
      if (!v.ok())
        return Status(v.error().code(), path_ + ": " + v.error().message());
      version = v->value_or(0);
    }
    const int64_t id = app->value_or(0);
    if ((id != 0 && id != kStateApplicationId) ||
        (tables->value_or(0) > 0 && version == 0)) {
      return Status::InvalidArgument(
          path_ +
          ": an SQLite database that is not a hooksim state "
          "database: refusing to use it");
    }
    return std::make_pair(version, tables->value_or(0));
  };
  Result<std::pair<int64_t, int64_t>> seen = inspect();
  if (!seen.ok()) return seen.error();
  if (seen->first == kStateSchemaVersion) return Status::Ok();
  if (seen->first > kStateSchemaVersion) {
    return Status::FailedPrecondition(
        path_ + ": state schema version " + std::to_string(seen->first) +
        ", this hooksim knows " + std::to_string(kStateSchemaVersion));
  }
  if (seen->first == 0 && !created) {
    return Status::InvalidArgument(
        path_ +
        ": an SQLite database without hooksim's tables: "
        "refusing to use it");
  }
  Transaction txn(db_);
  if (!txn.began()) return SqlError("read the schema");
  // Again under the write lock: another process may have done it.
  seen = inspect();
  if (!seen.ok()) return seen.error();
  if (seen->first == kStateSchemaVersion) return Status::Ok();
  if (seen->first == 0) {
    if (Status s = Exec(kSchema, "create the schema"); !s.ok()) return s;
    if (Status s = Exec(kDeliveriesV2, "create the schema"); !s.ok()) return s;
    if (Status s = Exec(kDeliveryIndexes, "create the schema"); !s.ok())
      return s;
    if (Status s = Exec(kAttempts, "create the schema"); !s.ok()) return s;
    const std::string put = "INSERT INTO schema_version (version) VALUES (" +
                            std::to_string(kStateSchemaVersion) + ")";
    if (Status s = Exec(put.c_str(), "write the schema version"); !s.ok()) return s;
  } else if (seen->first == 1 || seen->first == 2) {
    if (seen->first == 1) {
      if (Status s = MigrateFromV1(); !s.ok()) return s;
    }
    if (Status s = MigrateFromV2(); !s.ok()) return s;
  } else {
    return Status::InvalidArgument(
        path_ + ": state schema version " + std::to_string(seen->first) +
        ", this hooksim knows " + std::to_string(kStateSchemaVersion));
  }
  const std::string app = "PRAGMA application_id = " +
                          std::to_string(kStateApplicationId);
  if (Status s = Exec(app.c_str(), "mark the file"); !s.ok()) return s;
  if (!txn.Commit()) return SqlError("commit the schema");
  return Status::Ok();
}

Status StateStore::MigrateFromV1() {
  // Events: checksums of the bodies as stored now; no batch.
  if (Status s = Exec("ALTER TABLE events ADD COLUMN body_sha256 TEXT NOT "
                      "NULL DEFAULT ''; "
                      "ALTER TABLE events ADD COLUMN batch TEXT NOT NULL "
                      "DEFAULT ''; "
                      "CREATE INDEX events_by_batch ON events (batch);",
                      "migrate the events (schema 1 to 2)");
      !s.ok()) {
    return s;
  }
  {
    sqlite3_stmt* read = nullptr;
    sqlite3_stmt* write = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT id, body FROM events", -1, &read,
                           nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_,
                           "UPDATE events SET body_sha256 = ? WHERE id = ?",
                           -1, &write, nullptr) != SQLITE_OK) {
      Status e = SqlError("migrate the events (schema 1 to 2)");
      sqlite3_finalize(read);
      sqlite3_finalize(write);
      return e;
    }
    int rc;
    bool ok = true;
    while (ok && (rc = sqlite3_step(read)) == SQLITE_ROW) {
      const char* body =
          reinterpret_cast<const char*>(sqlite3_column_text(read, 1));
      const int n = sqlite3_column_bytes(read, 1);
      const std::string sum =
          Sha256Hex(std::string_view(body ? body : "", static_cast<size_t>(n)));
      sqlite3_bind_text(write, 1, sum.data(), static_cast<int>(sum.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_int64(write, 2, sqlite3_column_int64(read, 0));
      ok = sqlite3_step(write) == SQLITE_DONE;
      sqlite3_reset(write);
    }
    ok = ok && rc == SQLITE_DONE;
    Status result;
    if (!ok) result = SqlError("migrate the events (schema 1 to 2)");
    sqlite3_finalize(read);
    sqlite3_finalize(write);
    if (!result.ok()) return result;
  }
  // Deliveries: leases replace owner pids. Rows a v1 runner held are
  // released (a v1 runner cannot write this schema; its attempts in flight
  // count, as attempts whose outcome was lost).
  // (A new table renamed into place, so the attempts' reference to
  // `deliveries` stays as it is; foreign keys are not enforced yet here.)
  std::string create = kDeliveriesV2;
  create.replace(create.find("deliveries ("), 11, "deliveries_new");
  if (Status s = Exec(create.c_str(), "migrate the deliveries (schema 1 to 2)");
      !s.ok()) {
    return s;
  }
  if (Status s = Exec(
          "INSERT INTO deliveries_new (seq, id, hook_id, event_id, state, "
          "attempts, next_at_ms, last_result, reason, lease_owner, "
          "lease_until_ms, created_ms, ended_ms) SELECT seq, id, hook_id, "
          "event_id, state, attempts, next_at_ms, last_result, reason, NULL, "
          "NULL, created_ms, ended_ms FROM deliveries ORDER BY seq; "
          "DROP TABLE deliveries; "
          "ALTER TABLE deliveries_new RENAME TO deliveries; "
          "UPDATE schema_version SET version = 2;",
          "migrate the deliveries (schema 1 to 2)");
      !s.ok()) {
    return s;
  }
  if (Status s =
          Exec(kDeliveryIndexes, "migrate the deliveries (schema 1 to 2)");
      !s.ok()) {
    return s;
  }
  return Status::Ok();
}

Status StateStore::MigrateFromV2() {
  // Hooks: no contract of their own (the runner's applies), not disabled.
  return Exec(
      "ALTER TABLE hooks ADD COLUMN contract TEXT NOT NULL DEFAULT ''; "
      "ALTER TABLE hooks ADD COLUMN contract_attempts INTEGER NOT NULL "
      "DEFAULT 0; "
      "ALTER TABLE hooks ADD COLUMN gone_ms INTEGER; "
      "UPDATE schema_version SET version = 3;",
      "migrate the hooks (schema 2 to 3)");
}

std::string StateStore::NewId(std::string_view prefix, int hex_digits) {
  return std::string(prefix) + Hex(SplitMix64(id_state_), hex_digits);
}

Result<StoredHook> StateStore::AddHook(const std::string& url,
                                       const std::string& secret,
                                       int64_t now_ms,
                                       const std::string& contract,
                                       int contract_attempts) {
  Result<sqlite3_stmt*> ins = Prepare(
      "INSERT INTO hooks (id, url, secret, state, created_ms, contract, "
      "contract_attempts) VALUES (?, ?, ?, 'active', ?, ?, ?)",
      "add a hook");
  if (!ins.ok()) return ins.error();
  // A clash of 48 random bits is unlikely; a few tries make it impossible
  // in practice.
  for (int tries = 0; tries < 8; ++tries) {
    StoredHook hook{NewId("hk_", 12),   url,    secret,
                    HookState::kActive, now_ms, {}};
    hook.contract = contract;
    hook.contract_attempts = contract.empty() ? 0 : contract_attempts;
    Stmt s(*ins);
    const int rc = s.Bind(1, hook.id)
                       .Bind(2, hook.url)
                       .Bind(3, hook.secret)
                       .Bind(4, now_ms)
                       .Bind(5, hook.contract)
                       .Bind(6, int64_t{hook.contract_attempts})
                       .Step();
    if (rc == SQLITE_DONE) return hook;
    if (rc != SQLITE_CONSTRAINT) return SqlError("add a hook");
  }
  return SqlError("add a hook (no unique id)");
}

namespace {
constexpr const char* kHookColumns =
    "SELECT h.id, h.url, h.secret, h.state, h.created_ms, "
    "COALESCE(SUM(d.state = 'delivered'), 0), "
    "COALESCE(SUM(d.state = 'gave_up'), 0), "
    "COALESCE(SUM(d.state = 'pending'), 0), "
    "COALESCE(SUM(d.state = 'held'), 0), "
    "COALESCE(SUM(d.state = 'cancelled'), 0), "
    "COALESCE(SUM(d.state = 'failed'), 0), "
    "h.contract, h.contract_attempts, h.gone_ms "
    "FROM hooks h LEFT JOIN deliveries d ON d.hook_id = h.id ";

StoredHook ReadHook(const Stmt& s) {
  StoredHook h;
  h.id = s.Text(0);
  h.url = s.Text(1);
  h.secret = s.Text(2);
  h.state = ParseHookState(s.Text(3)).value_or(HookState::kRemoved);
  h.created_ms = s.Int(4);
  h.counts = {s.Int(5), s.Int(6), s.Int(7), s.Int(8), s.Int(9), s.Int(10)};
  h.contract = s.Text(11);
  h.contract_attempts = static_cast<int>(s.Int(12));
  if (!s.IsNull(13)) h.gone_ms = s.Int(13);
  return h;
}
}  // namespace

Result<std::vector<StoredHook>> StateStore::ListHooks(bool include_removed) {
  static const std::string kAll =
      std::string(kHookColumns) + "GROUP BY h.seq ORDER BY h.seq";
  static const std::string kLive = std::string(kHookColumns) +
                                   "WHERE h.state != 'removed' "
                                   "GROUP BY h.seq ORDER BY h.seq";
  Result<sqlite3_stmt*> q =
      Prepare(include_removed ? kAll.c_str() : kLive.c_str(), "list the hooks");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  std::vector<StoredHook> hooks;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) hooks.push_back(ReadHook(s));
  if (rc != SQLITE_DONE) return SqlError("list the hooks");
  return hooks;
}

Result<std::optional<StoredHook>> StateStore::FindHook(const std::string& id) {
  static const std::string kSql =
      std::string(kHookColumns) + "WHERE h.id = ? GROUP BY h.seq";
  Result<sqlite3_stmt*> q = Prepare(kSql.c_str(), "find a hook");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<StoredHook>(ReadHook(s));
  if (rc == SQLITE_DONE) return std::optional<StoredHook>();
  return SqlError("find a hook");
}

namespace {
// The state of hook `id` inside a transaction; nullopt when unknown.
Result<std::optional<HookState>> HookStateOf(sqlite3_stmt* q,
                                             const std::string& id) {
  Stmt s(q);
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW)
    return std::optional<HookState>(ParseHookState(s.Text(0)));
  if (rc == SQLITE_DONE) return std::optional<HookState>();
  return Status::IoError("read the hook's state");
}

// Binds :id and :now where the statement has them.
Stmt& BindHookParams(Stmt& s, sqlite3_stmt* q, const std::string& id,
                     int64_t now_ms) {
  if (const int i = sqlite3_bind_parameter_index(q, ":id"); i > 0) {
    s.Bind(i, id);
  }
  if (const int i = sqlite3_bind_parameter_index(q, ":now"); i > 0) {
    s.Bind(i, now_ms);
  }
  return s;
}
}  // namespace

// What pause, resume and remove do to a hook and its deliveries (SQL with
// :id and :now).
struct StateStore::HookTransition {
  const char* verb;  // "pause", "resume", "remove"
  // The change is kAlreadyInState when the hook is in this state (none
  // for remove: a removed hook is not found).
  std::optional<HookState> already;
  const char* set_hook;         // Updates the hooks row.
  const char* move_deliveries;  // Its changes are the result's count.
};

Result<HookChangeResult> StateStore::ChangeHook(const HookTransition& t,
                                                const std::string& id,
                                                int64_t now_ms) {
  const std::string failed = std::string(t.verb) + " hook " + id;
  Transaction txn(db_);
  if (!txn.began()) return SqlError(failed);
  Result<sqlite3_stmt*> get =
      Prepare("SELECT state FROM hooks WHERE id = ?", "read a hook");
  if (!get.ok()) return get.error();
  Result<std::optional<HookState>> state = HookStateOf(*get, id);
  if (!state.ok()) return SqlError(failed);
  if (!*state || **state == HookState::kRemoved) {
    return HookChangeResult{HookChange::kNotFound, 0};
  }
  if (t.already && **state == *t.already) {
    return HookChangeResult{HookChange::kAlreadyInState, 0};
  }
  int64_t moved = 0;
  for (const char* sql : {t.set_hook, t.move_deliveries}) {
    Result<sqlite3_stmt*> q = Prepare(sql, failed);
    if (!q.ok()) return q.error();
    Stmt s(*q);
    if (BindHookParams(s, *q, id, now_ms).Step() != SQLITE_DONE) {
      return SqlError(failed);
    }
    moved = sqlite3_changes(db_);  // The last statement's: the deliveries.
  }
  if (!txn.Commit()) return SqlError(failed);
  return HookChangeResult{HookChange::kChanged, moved};
}

Result<HookChangeResult> StateStore::PauseHook(const std::string& id,
                                               int64_t now_ms) {
  // Rows under a live lease become held at their runner's next
  // BeginAttempt; the others right now.
  static const HookTransition kPause{
      "pause", HookState::kPaused,
      "UPDATE hooks SET state = 'paused' WHERE id = :id",
      "UPDATE deliveries SET state = 'held', lease_owner = NULL, "
      "lease_until_ms = NULL WHERE hook_id = :id AND state = 'pending' AND "
      "(lease_owner IS NULL OR lease_until_ms <= :now)"};
  return ChangeHook(kPause, id, now_ms);
}

Result<HookChangeResult> StateStore::ResumeHook(const std::string& id,
                                                int64_t now_ms) {
  // Never-tried ones are due at once, retries when their delay ends (at
  // once when overdue); runners take them in creation order.
  static const HookTransition kResume{
      "resume", HookState::kActive,
      "UPDATE hooks SET state = 'active' WHERE id = :id",
      "UPDATE deliveries SET state = 'pending', lease_owner = NULL, "
      "lease_until_ms = NULL, "
      "next_at_ms = CASE WHEN attempts = 0 THEN :now ELSE next_at_ms END "
      "WHERE hook_id = :id AND state = 'held'"};
  return ChangeHook(kResume, id, now_ms);
}

Result<HookChangeResult> StateStore::RemoveHook(const std::string& id,
                                                int64_t now_ms) {
  static const HookTransition kRemove{
      "remove", std::nullopt,
      "UPDATE hooks SET state = 'removed', removed_ms = :now WHERE id = :id",
      "UPDATE deliveries SET state = 'cancelled', reason = 'hook removed', "
      "ended_ms = :now, lease_owner = NULL, lease_until_ms = NULL "
      "WHERE hook_id = :id AND state IN ('pending', 'held')"};
  return ChangeHook(kRemove, id, now_ms);
}

Result<EnqueueResult> StateStore::Enqueue(const std::vector<FileEvent>& events,
                                          int64_t now_ms) {
  EnqueueResult result;
  result.batch = NewId("b_", 16);
  // Chunks keep each write lock short (another process's `hooks pause`, a
  // runner's attempt records); each stores at least one event.
  size_t done = 0;
  do {
    size_t n = 0;
    Result<EnqueueResult> chunk = EnqueueChunk(
        events.data() + done, events.size() - done, now_ms, result.batch, &n);
    if (!chunk.ok()) return chunk.error();
    if (done == 0) result.first_event = chunk->first_event;
    if (n > 0) result.last_event = chunk->last_event;
    result.deliveries += chunk->deliveries;
    for (const auto& [hook, held] : chunk->held_by_hook) {
      result.held_by_hook[hook] += held;
    }
    for (const std::string& hook : chunk->hooks) {
      if (std::find(result.hooks.begin(), result.hooks.end(), hook) ==
          result.hooks.end()) {
        result.hooks.push_back(hook);
      }
    }
    done += n;
  } while (done < events.size());
  return result;
}

Result<EnqueueResult> StateStore::EnqueueChunk(const FileEvent* events,
                                               size_t n, int64_t now_ms,
                                               const std::string& batch,
                                               size_t* stored) {
  *stored = 0;
  Transaction txn(db_);
  if (!txn.began()) return SqlError("store the events");
  // The hooks as they are now (ids and states only: ListHooks would count
  // every delivery, once per chunk).
  Result<sqlite3_stmt*> live = Prepare(
      "SELECT id, state FROM hooks WHERE state != 'removed' ORDER BY seq",
      "read the hooks");
  if (!live.ok()) return live.error();
  Result<std::vector<StoredHook>> hooks = std::vector<StoredHook>();
  {
    Stmt s(*live);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      StoredHook h;
      h.id = s.Text(0);
      h.state = ParseHookState(s.Text(1)).value_or(HookState::kRemoved);
      hooks->push_back(std::move(h));
    }
    if (rc != SQLITE_DONE) return SqlError("read the hooks");
  }
  if (hooks->empty()) {
    return Status::FailedPrecondition(path_ +
                                      ": no hooks registered (add one with "
                                      "`hooksim hooks add URL`)");
  }
  Result<sqlite3_stmt*> ins_event = Prepare(
      "INSERT INTO events (type, body, body_sha256, batch, created_ms) "
      "VALUES (?, ?, ?, ?, ?)",
      "store an event");
  if (!ins_event.ok()) return ins_event.error();
  Result<sqlite3_stmt*> ins_delivery = Prepare(
      "INSERT INTO deliveries (id, hook_id, event_id, state, next_at_ms, "
      "created_ms) VALUES (?, ?, ?, ?, ?, ?)",
      "store a delivery");
  if (!ins_delivery.ok()) return ins_delivery.error();
  EnqueueResult result;
  for (const StoredHook& h : *hooks) result.hooks.push_back(h.id);
  for (size_t i = 0; i < n && result.deliveries < kEnqueueChunk; ++i) {
    ++*stored;
    const FileEvent& e = events[i];
    int64_t event_id = 0;
    {
      Stmt s(*ins_event);
      if (s.Bind(1, e.type)
              .Bind(2, e.body)
              .Bind(3, Sha256Hex(e.body))
              .Bind(4, batch)
              .Bind(5, now_ms)
              .Step() != SQLITE_DONE) {
        return SqlError("store an event");
      }
      event_id = sqlite3_last_insert_rowid(db_);
    }
    if (i == 0) result.first_event = event_id;
    result.last_event = event_id;
    for (const StoredHook& h : *hooks) {
      const bool held = h.state == HookState::kPaused;
      int rc = SQLITE_CONSTRAINT;
      for (int tries = 0; tries < 8 && rc == SQLITE_CONSTRAINT; ++tries) {
        Stmt s(*ins_delivery);
        rc = s.Bind(1, NewId("dlv_", 16))
                 .Bind(2, h.id)
                 .Bind(3, event_id)
                 .Bind(4, held ? "held" : "pending")
                 .Bind(5, now_ms)
                 .Bind(6, now_ms)
                 .Step();
      }
      if (rc != SQLITE_DONE) return SqlError("store a delivery");
      ++result.deliveries;
      if (held) ++result.held_by_hook[h.id];
    }
  }
  if (!txn.Commit()) return SqlError("store the events");
  return result;
}

namespace {
// The scope's conditions on deliveries d joined with events e; binds ?1
// (batch, '' for any) and ?2 (max seq).
constexpr const char* kScope =
    "(?1 = '' OR e.batch = ?1) AND d.seq <= ?2 ";
void BindScope(Stmt& s, const DeliveryScope& scope) {
  s.Bind(1, scope.batch.value_or(""))
      .Bind(2, scope.max_seq.value_or(INT64_MAX));
}
}  // namespace

Result<ClaimResult> StateStore::Claim(const std::string& owner,
                                      const ClaimOptions& o, int64_t now_ms) {
  Transaction txn(db_);
  if (!txn.began()) return SqlError("claim deliveries");
  // Rows a stopped runner left behind for a hook paused since are held.
  Result<sqlite3_stmt*> hold = Prepare(
      "UPDATE deliveries SET state = 'held', lease_owner = NULL, "
      "lease_until_ms = NULL WHERE state = 'pending' AND "
      "(lease_owner IS NULL OR lease_until_ms <= ?) AND hook_id IN "
      "(SELECT id FROM hooks WHERE state = 'paused')",
      "hold deliveries of paused hooks");
  if (!hold.ok()) return hold.error();
  {
    Stmt s(*hold);
    if (s.Bind(1, now_ms).Step() != SQLITE_DONE) {
      return SqlError("claim deliveries");
    }
  }
  // Unleased rows of hooks a 410 Gone disabled end gave_up, unsent.
  ClaimResult result;
  {
    Result<sqlite3_stmt*> gone = Prepare(
        "UPDATE deliveries SET state = 'gave_up', ended_ms = ?1, reason = "
        "'endpoint disabled by a 410 Gone', lease_owner = NULL, "
        "lease_until_ms = NULL WHERE state IN ('pending', 'held') AND "
        "(lease_owner IS NULL OR lease_until_ms <= ?1) AND hook_id IN "
        "(SELECT id FROM hooks WHERE gone_ms IS NOT NULL) "
        "RETURNING id, hook_id",
        "end deliveries of disabled hooks");
    if (!gone.ok()) return gone.error();
    Stmt s(*gone);
    s.Bind(1, now_ms);
    int rc;
    // Bounded by the rows of the table.
    while ((rc = s.Step()) == SQLITE_ROW) {
      ClaimedDelivery d;
      d.id = s.Text(0);
      d.hook_id = s.Text(1);
      result.gone.push_back(std::move(d));
    }
    if (rc != SQLITE_DONE) return SqlError("end deliveries of disabled hooks");
  }
  static const std::string kSelect =
      std::string(
          "SELECT d.id, d.seq, d.hook_id, h.url, h.secret, d.event_id, "
          "e.type, e.body, d.attempts, d.next_at_ms, e.body_sha256, "
          "h.contract, h.contract_attempts, "
          "(d.lease_owner IS NOT NULL AND d.lease_owner != ?6) "
          "FROM deliveries d JOIN hooks h ON h.id = d.hook_id "
          "JOIN events e ON e.id = d.event_id "
          "WHERE d.state = 'pending' AND h.state = 'active' AND "
          "h.gone_ms IS NULL AND "
          "(d.lease_owner IS NULL OR d.lease_until_ms <= ?3) AND "
          "d.next_at_ms <= ?4 AND ") +
      kScope + "ORDER BY d.next_at_ms, d.seq LIMIT ?5";
  Result<sqlite3_stmt*> q = Prepare(kSelect.c_str(), "claim deliveries");
  if (!q.ok()) return q.error();
  Result<sqlite3_stmt*> take = Prepare(
      "UPDATE deliveries SET lease_owner = ?, lease_until_ms = ? WHERE id = ?",
      "claim a delivery");
  if (!take.ok()) return take.error();
  Result<sqlite3_stmt*> end = Prepare(
      "UPDATE deliveries SET state = ?, ended_ms = ?, reason = ?, "
      "lease_owner = NULL, lease_until_ms = NULL WHERE id = ?",
      "end a delivery");
  if (!end.ok()) return end.error();
  std::vector<std::string> reasons;  // Of result.failed.
  {
    Stmt s(*q);
    BindScope(s, o.scope);
    s.Bind(3, now_ms)
        .Bind(4, o.due_by_ms)
        .Bind(5, static_cast<int64_t>(o.limit))
        .Bind(6, owner);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      ClaimedDelivery d;
      d.id = s.Text(0);
      d.seq = s.Int(1);
      d.hook_id = s.Text(2);
      d.url = s.Text(3);
      d.secret = s.Text(4);
      d.event_id = s.Int(5);
      d.event_type = s.Text(6);
      d.body = s.Text(7);
      d.attempts_started = static_cast<int>(s.Int(8));
      d.next_at_ms = s.Int(9);
      const std::string stored_sum = s.Text(10);
      d.contract = s.Text(11);
      d.taken_over = s.Int(13) != 0;
      const int max_attempts =
          d.contract.empty() ? o.max_attempts : static_cast<int>(s.Int(12));
      SortClaimed(std::move(d), stored_sum, max_attempts, reasons, result);
    }
    if (rc != SQLITE_DONE) return SqlError("claim deliveries");
  }
  for (const ClaimedDelivery& d : result.gave_up) {
    Stmt s(*end);
    if (s.Bind(1, "gave_up")
            .Bind(2, now_ms)
            .Bind(3, "all attempts started; the last outcome was lost")
            .Bind(4, d.id)
            .Step() != SQLITE_DONE) {
      return SqlError("end a delivery");
    }
  }
  for (size_t i = 0; i < result.failed.size(); ++i) {
    Stmt s(*end);
    if (s.Bind(1, "failed")
            .Bind(2, now_ms)
            .Bind(3, reasons[i])
            .Bind(4, result.failed[i].id)
            .Step() != SQLITE_DONE) {
      return SqlError("end a delivery");
    }
  }
  for (const ClaimedDelivery& d : result.deliveries) {
    Stmt s(*take);
    if (s.Bind(1, owner).Bind(2, now_ms + o.lease_ms).Bind(3, d.id).Step() !=
        SQLITE_DONE) {
      return SqlError("claim a delivery");
    }
  }
  if (!txn.Commit()) return SqlError("claim deliveries");
  return result;
}

Result<int64_t> StateStore::RenewLeases(const std::string& owner,
                                        int64_t now_ms, int64_t lease_ms) {
  Result<sqlite3_stmt*> q = Prepare(
      "UPDATE deliveries SET lease_until_ms = ? "
      "WHERE lease_owner = ? AND state = 'pending'",
      "renew leases");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  if (s.Bind(1, now_ms + lease_ms).Bind(2, owner).Step() != SQLITE_DONE) {
    return SqlError("renew leases");
  }
  return static_cast<int64_t>(sqlite3_changes(db_));
}

Result<AttemptGate> StateStore::BeginAttempt(const std::string& owner,
                                             const std::string& delivery_id,
                                             int attempt, int64_t now_ms,
                                             int64_t lease_ms) {
  Transaction txn(db_);
  if (!txn.began()) return SqlError("start an attempt");
  Result<sqlite3_stmt*> q = Prepare(
      "SELECT d.state, COALESCE(d.lease_owner, ''), d.attempts, h.state, "
      "h.contract_attempts, h.gone_ms IS NOT NULL "
      "FROM deliveries d JOIN hooks h ON h.id = d.hook_id WHERE d.id = ?",
      "read a delivery");
  if (!q.ok()) return q.error();
  std::string state, row_owner, hook_state;
  int64_t attempts = 0;
  int64_t max_attempts = kStoreAttemptsLimit;
  bool gone = false;
  {
    Stmt s(*q);
    const int rc = s.Bind(1, delivery_id).Step();
    if (rc == SQLITE_DONE) return AttemptGate::kNotOurs;
    if (rc != SQLITE_ROW) return SqlError("read delivery " + delivery_id);
    state = s.Text(0);
    row_owner = s.Text(1);
    attempts = s.Int(2);
    hook_state = s.Text(3);
    // The runner's engine keeps the runner's cap for hooks without one.
    if (s.Int(4) > 0) max_attempts = s.Int(4);
    gone = s.Int(5) != 0;
  }
  if (state == "cancelled") return AttemptGate::kCancelled;
  if (state != "pending" || row_owner != owner || attempts != attempt - 1 ||
      attempt > max_attempts) {
    return AttemptGate::kNotOurs;
  }
  if (gone) {
    Result<sqlite3_stmt*> stop = Prepare(
        "UPDATE deliveries SET state = 'gave_up', lease_owner = NULL, "
        "lease_until_ms = NULL, reason = 'endpoint disabled by a 410 Gone', "
        "ended_ms = ? WHERE id = ?",
        "end a delivery of a disabled hook");
    if (!stop.ok()) return stop.error();
    {
      Stmt s(*stop);
      if (s.Bind(1, now_ms).Bind(2, delivery_id).Step() != SQLITE_DONE) {
        return SqlError("end " + delivery_id);
      }
    }
    if (!txn.Commit()) return SqlError("end " + delivery_id);
    return AttemptGate::kGone;
  }
  if (hook_state != "active") {
    Result<sqlite3_stmt*> hold = Prepare(
        "UPDATE deliveries SET state = ?, lease_owner = NULL, "
        "lease_until_ms = NULL, reason = ?, ended_ms = ? WHERE id = ?",
        "hold a delivery");
    if (!hold.ok()) return hold.error();
    const bool paused = hook_state == "paused";
    {
      Stmt s(*hold);
      s.Bind(1, paused ? "held" : "cancelled")
          .Bind(2, paused ? "" : "hook removed")
          .Bind(4, delivery_id);
      if (paused) {
        s.BindNull(3);
      } else {
        s.Bind(3, now_ms);
      }
      if (s.Step() != SQLITE_DONE) return SqlError("hold " + delivery_id);
    }
    if (!txn.Commit()) return SqlError("hold " + delivery_id);
    return paused ? AttemptGate::kHeld : AttemptGate::kCancelled;
  }
  Result<sqlite3_stmt*> ins = Prepare(
      "INSERT INTO attempts (delivery_id, attempt, started_ms) "
      "VALUES (?, ?, ?)",
      "record an attempt");
  if (!ins.ok()) return ins.error();
  {
    Stmt s(*ins);
    if (s.Bind(1, delivery_id)
            .Bind(2, int64_t{attempt})
            .Bind(3, now_ms)
            .Step() != SQLITE_DONE) {
      return SqlError("record attempt " + std::to_string(attempt) + " of " +
                      delivery_id);
    }
  }
  Result<sqlite3_stmt*> upd = Prepare(
      "UPDATE deliveries SET attempts = ?, lease_until_ms = ? WHERE id = ?",
      "count an attempt");
  if (!upd.ok()) return upd.error();
  {
    Stmt s(*upd);
    if (s.Bind(1, int64_t{attempt})
            .Bind(2, now_ms + lease_ms)
            .Bind(3, delivery_id)
            .Step() != SQLITE_DONE) {
      return SqlError("count an attempt of " + delivery_id);
    }
  }
  if (!txn.Commit()) return SqlError("start an attempt of " + delivery_id);
  return AttemptGate::kStart;
}

Result<bool> StateStore::EndAttempt(const std::string& owner,
                                    const AttemptEnd& end) {
  Transaction txn(db_);
  if (!txn.began()) return SqlError("end an attempt");
  Result<sqlite3_stmt*> att = Prepare(
      "UPDATE attempts SET ended_ms = ?, result = ? "
      "WHERE delivery_id = ? AND attempt = ?",
      "record an attempt's end");
  if (!att.ok()) return att.error();
  {
    Stmt s(*att);
    if (s.Bind(1, end.ended_ms)
            .Bind(2, end.result)
            .Bind(3, end.delivery_id)
            .Bind(4, int64_t{end.attempt})
            .Step() != SQLITE_DONE) {
      return SqlError("record the end of an attempt of " + end.delivery_id);
    }
  }
  const bool final_state = end.state != "pending";
  const bool release = final_state || end.release;
  // A 2xx is recorded whoever holds the row now: the receiver has it.
  Result<sqlite3_stmt*> upd = Prepare(
      "UPDATE deliveries SET state = ?, last_result = ?, next_at_ms = ?, "
      "ended_ms = ?, "
      "lease_owner = CASE WHEN ? THEN NULL ELSE lease_owner END, "
      "lease_until_ms = CASE WHEN ? THEN NULL ELSE lease_until_ms END "
      "WHERE id = ? AND state = 'pending' AND (lease_owner = ? OR ?)",
      "update a delivery");
  if (!upd.ok()) return upd.error();
  bool updated = false;
  {
    Stmt s(*upd);
    s.Bind(1, end.state)
        .Bind(2, end.result)
        .Bind(3, end.next_at_ms)
        .Bind(5, int64_t{release})
        .Bind(6, int64_t{release})
        .Bind(7, end.delivery_id)
        .Bind(8, owner)
        .Bind(9, int64_t{end.state == "delivered"});
    if (final_state) {
      s.Bind(4, end.ended_ms);
    } else {
      s.BindNull(4);
    }
    if (s.Step() != SQLITE_DONE) {
      return SqlError("update delivery " + end.delivery_id);
    }
    updated = sqlite3_changes(db_) > 0;
  }
  if (!txn.Commit()) return SqlError("end an attempt of " + end.delivery_id);
  return updated;
}

Status StateStore::Release(const std::string& owner) {
  Result<sqlite3_stmt*> q = Prepare(
      "UPDATE deliveries SET lease_owner = NULL, lease_until_ms = NULL "
      "WHERE lease_owner = ?",
      "release deliveries");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  if (s.Bind(1, owner).Step() != SQLITE_DONE) {
    return SqlError("release deliveries");
  }
  return Status::Ok();
}

Status StateStore::DisableHook(const std::string& hook_id, int64_t now_ms) {
  Result<sqlite3_stmt*> q = Prepare(
      "UPDATE hooks SET gone_ms = ? WHERE id = ? AND gone_ms IS NULL",
      "disable a hook");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  if (s.Bind(1, now_ms).Bind(2, hook_id).Step() != SQLITE_DONE) {
    return SqlError("disable hook " + hook_id);
  }
  return Status::Ok();
}

Result<PendingInfo> StateStore::Pending(const std::string& owner,
                                        const DeliveryScope& scope,
                                        int64_t now_ms) {
  static const std::string kSql =
      std::string(
          "SELECT COUNT(*), "
          "COALESCE(SUM(d.lease_owner IS NOT NULL AND d.lease_owner != ?3 "
          "AND d.lease_until_ms > ?4), 0), "
          "COALESCE(MIN(CASE WHEN d.lease_owner IS NOT NULL AND "
          "d.lease_owner != ?3 AND d.lease_until_ms > ?4 THEN "
          "d.lease_until_ms END), 0) "
          "FROM deliveries d JOIN events e ON e.id = d.event_id "
          "WHERE d.state = 'pending' AND ") +
      kScope;
  Result<sqlite3_stmt*> q = Prepare(kSql.c_str(), "count pending deliveries");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  BindScope(s, scope);
  s.Bind(3, owner).Bind(4, now_ms);
  if (s.Step() != SQLITE_ROW) return SqlError("count pending deliveries");
  return PendingInfo{s.Int(0), s.Int(1), s.Int(2)};
}

Result<int64_t> StateStore::MaxSeq() {
  Result<sqlite3_stmt*> q = Prepare(
      "SELECT COALESCE(MAX(seq), 0) FROM deliveries", "read the deliveries");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  if (s.Step() != SQLITE_ROW) return SqlError("read the deliveries");
  return s.Int(0);
}

namespace {
void AddCount(DeliveryCounts& c, const std::string& state, int64_t n) {
  if (state == "delivered") c.delivered += n;
  if (state == "gave_up") c.gave_up += n;
  if (state == "pending") c.pending += n;
  if (state == "held") c.held += n;
  if (state == "cancelled") c.cancelled += n;
  if (state == "failed") c.failed += n;
}
}  // namespace

Result<QueueDepth> StateStore::Depth(int64_t now_ms) {
  QueueDepth depth;
  {
    Result<sqlite3_stmt*> q =
        Prepare("SELECT state, COUNT(*) FROM deliveries GROUP BY state",
                "count deliveries by state");
    if (!q.ok()) return q.error();
    Stmt s(*q);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      AddCount(depth.by_state, s.Text(0), s.Int(1));
    }
    if (rc != SQLITE_DONE) return SqlError("count deliveries by state");
  }
  Result<sqlite3_stmt*> q = Prepare(
      "SELECT "
      "COALESCE(SUM(h.state = 'active' AND h.gone_ms IS NULL AND "
      "d.next_at_ms <= ?1 AND "
      "(d.lease_owner IS NULL OR d.lease_until_ms <= ?1)), 0), "
      "COALESCE(SUM(d.lease_owner IS NOT NULL AND d.lease_until_ms > ?1), 0) "
      "FROM deliveries d JOIN hooks h ON h.id = d.hook_id "
      "WHERE d.state = 'pending'",
      "measure the queue");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  s.Bind(1, now_ms);
  if (s.Step() != SQLITE_ROW) return SqlError("measure the queue");
  depth.due = s.Int(0);
  depth.leased = s.Int(1);
  return depth;
}

Result<std::map<std::string, DeliveryCounts>> StateStore::CountByHook(
    int64_t first_event, int64_t last_event) {
  Result<sqlite3_stmt*> q = Prepare(
      "SELECT hook_id, state, COUNT(*) FROM deliveries "
      "WHERE event_id BETWEEN ? AND ? GROUP BY hook_id, state",
      "count deliveries");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  s.Bind(1, first_event).Bind(2, last_event);
  std::map<std::string, DeliveryCounts> counts;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    AddCount(counts[s.Text(0)], s.Text(1), s.Int(2));
  }
  if (rc != SQLITE_DONE) return SqlError("count deliveries");
  return counts;
}

Result<std::map<std::string, DeliveryCounts>> StateStore::CountBatch(
    const std::string& batch) {
  Result<sqlite3_stmt*> q = Prepare(
      "SELECT d.hook_id, d.state, COUNT(*) FROM deliveries d "
      "JOIN events e ON e.id = d.event_id WHERE e.batch = ? "
      "GROUP BY d.hook_id, d.state",
      "count deliveries");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  s.Bind(1, batch);
  std::map<std::string, DeliveryCounts> counts;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    AddCount(counts[s.Text(0)], s.Text(1), s.Int(2));
  }
  if (rc != SQLITE_DONE) return SqlError("count deliveries");
  return counts;
}

Result<std::vector<std::pair<int, std::string>>> StateStore::Attempts(
    const std::string& delivery_id) {
  Result<sqlite3_stmt*> q = Prepare(
      "SELECT attempt, COALESCE(result, '') FROM attempts "
      "WHERE delivery_id = ? ORDER BY attempt",
      "read attempts");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  s.Bind(1, delivery_id);
  std::vector<std::pair<int, std::string>> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.emplace_back(static_cast<int>(s.Int(0)), s.Text(1));
  }
  if (rc != SQLITE_DONE) return SqlError("read attempts of " + delivery_id);
  return out;
}

Result<std::pair<std::string, std::string>> StateStore::DeliveryState(
    const std::string& delivery_id) {
  Result<sqlite3_stmt*> q = Prepare(
      "SELECT state, reason FROM deliveries WHERE id = ?", "read a delivery");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  const int rc = s.Bind(1, delivery_id).Step();
  if (rc == SQLITE_ROW) return std::make_pair(s.Text(0), s.Text(1));
  if (rc == SQLITE_DONE) {
    return Status::NotFound(path_ + ": no delivery " + delivery_id);
  }
  return SqlError("read delivery " + delivery_id);
}

}  // namespace hooksim
