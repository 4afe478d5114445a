#include "sim/durable/state_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <system_error>

#include "sim/base/random.h"

namespace hooksim {
namespace {

constexpr int kBusyTimeoutMs = 10'000;

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS hooks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL,
  secret TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('active', 'paused', 'removed')),
  created_ms INTEGER NOT NULL,
  removed_ms INTEGER
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  hook_id TEXT NOT NULL REFERENCES hooks(id),
  event_id INTEGER NOT NULL REFERENCES events(id),
  state TEXT NOT NULL CHECK (state IN
    ('pending', 'held', 'delivered', 'gave_up', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at_ms INTEGER NOT NULL,
  last_result TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  owner TEXT,
  owner_pid INTEGER,
  created_ms INTEGER NOT NULL,
  ended_ms INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (state, seq);
CREATE INDEX IF NOT EXISTS deliveries_by_hook ON deliveries (hook_id, state);
CREATE INDEX IF NOT EXISTS deliveries_by_event ON deliveries (event_id);
CREATE TABLE IF NOT EXISTS attempts (
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

uint64_t UrandomSeed() {
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

std::string Hex(uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits; i-- > 0;) {
    out[static_cast<size_t>(i)] = kHex[value & 0xf];
    value >>= 4;
  }
  return out;
}

bool ProcessAlive(int64_t pid) {
  if (pid <= 0) return false;
  if (pid == getpid()) return true;  // Another runner in this process.
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
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
  uint64_t state = UrandomSeed();
  return std::to_string(getpid()) + "-" + Hex(SplitMix64(state), 16);
}

StateStore::StateStore(std::string path, sqlite3* db)
    : path_(std::move(path)), db_(db), id_state_(UrandomSeed()) {}

StateStore::~StateStore() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

namespace {

// Why opening the state at `path` failed, in words a user can act on;
// `rc` is SQLite's (extended) result code.
Error OpenError(const std::string& path, int rc) {
  switch (rc & 0xff) {
    case SQLITE_READONLY:
      return MakeError(path +
                       ": read-only (the file or its directory is not "
                       "writable): hooksim writes its state there");
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return MakeError(path + ": not a hooksim state database");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return MakeError(path +
                       ": locked by another process (another hooksim "
                       "deliver or worker?); try again when it is done");
    case SQLITE_CANTOPEN:
      return MakeError(path +
                       ": cannot open the state database (is it a "
                       "directory, or is its directory missing or not "
                       "readable?)");
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return MakeError(path + ": permission denied");
    case SQLITE_FULL:
      return MakeError(path + ": the disk is full");
    default:
      return MakeError(path + ": cannot open the state database: " +
                       sqlite3_errstr(rc));
  }
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path,
                                                     OpenMode mode) {
  if (path.empty()) {
    return MakeError("state file: empty path");
  }
  if (mode == OpenMode::kExisting) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) {
      return MakeError("no state database at " + path +
                       " (hooks add creates one)");
    }
    if (std::filesystem::is_regular_file(status) &&
        std::filesystem::file_size(path, ec) == 0 && !ec) {
      return MakeError("no state database at " + path +
                       " (the file is empty; hooks add creates one)");
    }
  }
  const std::filesystem::path parent =
      std::filesystem::path(path).parent_path();
  if (mode == OpenMode::kCreate && !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return MakeError(path + ": cannot create the directory " +
                       parent.string() + ": " + ec.message());
    }
  }
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE |
                    (mode == OpenMode::kCreate ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const int code = db ? sqlite3_extended_errcode(db) : rc;
    sqlite3_close(db);
    return OpenError(path, code);
  }
  std::unique_ptr<StateStore> store(new StateStore(path, db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  if (store->Exec("PRAGMA journal_mode=WAL", "set WAL mode") ||
      store->Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
                  "set pragmas")) {
    return OpenError(path, sqlite3_extended_errcode(db));
  }
  if (Status s = store->Migrate()) {
    const int code = sqlite3_extended_errcode(db);
    // A schema version error is already in words; SQLite's are not.
    if (code == SQLITE_OK || code == SQLITE_DONE || code == SQLITE_ROW) {
      return *s;
    }
    return OpenError(path, code);
  }
  return store;
}

Error StateStore::SqlError(std::string_view operation) const {
  return MakeError(path_ + ": " + std::string(operation) + ": " +
                   sqlite3_errmsg(db_));
}

Status StateStore::Exec(const char* sql, std::string_view operation) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    Error e = MakeError(path_ + ": " + std::string(operation) + ": " +
                        (message ? message : sqlite3_errmsg(db_)));
    sqlite3_free(message);
    return e;
  }
  return std::nullopt;
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

Status StateStore::Migrate() {
  Transaction txn(db_);
  if (!txn.began()) return SqlError("read the schema");
  if (Status s = Exec(kSchema, "create the schema")) return s;
  Result<sqlite3_stmt*> get =
      Prepare("SELECT version FROM schema_version", "read the schema version");
  if (!get.ok()) return get.error();
  Stmt q(*get);
  int rc = q.Step();
  if (rc == SQLITE_ROW) {
    const int64_t version = q.Int(0);
    if (version != kStateSchemaVersion) {
      return MakeError(path_ + ": state schema version " +
                       std::to_string(version) + ", this hooksim knows " +
                       std::to_string(kStateSchemaVersion));
    }
  } else if (rc == SQLITE_DONE) {
    Result<sqlite3_stmt*> put = Prepare(
        "INSERT INTO schema_version (version) VALUES (?)", "write the schema");
    if (!put.ok()) return put.error();
    Stmt p(*put);
    if (p.Bind(1, int64_t{kStateSchemaVersion}).Step() != SQLITE_DONE) {
      return SqlError("write the schema version");
    }
  } else {
    return SqlError("read the schema version");
  }
  if (!txn.Commit()) return SqlError("commit the schema");
  return std::nullopt;
}

std::string StateStore::NewId(std::string_view prefix, int hex_digits) {
  return std::string(prefix) + Hex(SplitMix64(id_state_), hex_digits);
}

Result<StoredHook> StateStore::AddHook(const std::string& url,
                                       const std::string& secret,
                                       int64_t now_ms) {
  Result<sqlite3_stmt*> ins = Prepare(
      "INSERT INTO hooks (id, url, secret, state, created_ms) "
      "VALUES (?, ?, ?, 'active', ?)",
      "add a hook");
  if (!ins.ok()) return ins.error();
  // A clash of 48 random bits is unlikely; a few tries make it impossible
  // in practice.
  for (int tries = 0; tries < 8; ++tries) {
    StoredHook hook{NewId("hk_", 12),   url,    secret,
                    HookState::kActive, now_ms, {}};
    Stmt s(*ins);
    const int rc = s.Bind(1, hook.id)
                       .Bind(2, hook.url)
                       .Bind(3, hook.secret)
                       .Bind(4, now_ms)
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
    "COALESCE(SUM(d.state = 'cancelled'), 0) "
    "FROM hooks h LEFT JOIN deliveries d ON d.hook_id = h.id ";

StoredHook ReadHook(const Stmt& s) {
  StoredHook h;
  h.id = s.Text(0);
  h.url = s.Text(1);
  h.secret = s.Text(2);
  h.state = ParseHookState(s.Text(3)).value_or(HookState::kRemoved);
  h.created_ms = s.Int(4);
  h.counts = {s.Int(5), s.Int(6), s.Int(7), s.Int(8), s.Int(9)};
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
  return MakeError("read the hook's state");
}
}  // namespace

Result<HookChangeResult> StateStore::PauseHook(const std::string& id) {
  Transaction txn(db_);
  if (!txn.began()) return SqlError("pause hook " + id);
  Result<sqlite3_stmt*> get =
      Prepare("SELECT state FROM hooks WHERE id = ?", "read a hook");
  if (!get.ok()) return get.error();
  Result<std::optional<HookState>> state = HookStateOf(*get, id);
  if (!state.ok()) return SqlError("pause hook " + id);
  if (!*state || **state == HookState::kRemoved) {
    return HookChangeResult{HookChange::kNotFound, 0};
  }
  if (**state == HookState::kPaused) {
    return HookChangeResult{HookChange::kAlreadyInState, 0};
  }
  if (Status s = ReleaseDeadOwners("pause hook " + id)) return *s;
  Result<sqlite3_stmt*> set =
      Prepare("UPDATE hooks SET state = 'paused' WHERE id = ?", "pause a hook");
  if (!set.ok()) return set.error();
  {
    Stmt s(*set);
    if (s.Bind(1, id).Step() != SQLITE_DONE)
      return SqlError("pause hook " + id);
  }
  // Rows a live runner holds become held at their next attempt's start
  // (BeginAttempt); the others right now.
  Result<sqlite3_stmt*> hold = Prepare(
      "UPDATE deliveries SET state = 'held' "
      "WHERE hook_id = ? AND state = 'pending' AND owner IS NULL",
      "hold deliveries");
  if (!hold.ok()) return hold.error();
  int64_t held = 0;
  {
    Stmt s(*hold);
    if (s.Bind(1, id).Step() != SQLITE_DONE)
      return SqlError("pause hook " + id);
    held = sqlite3_changes(db_);
  }
  if (!txn.Commit()) return SqlError("pause hook " + id);
  return HookChangeResult{HookChange::kChanged, held};
}

Result<HookChangeResult> StateStore::ResumeHook(const std::string& id,
                                                int64_t now_ms) {
  Transaction txn(db_);
  if (!txn.began()) return SqlError("resume hook " + id);
  Result<sqlite3_stmt*> get =
      Prepare("SELECT state FROM hooks WHERE id = ?", "read a hook");
  if (!get.ok()) return get.error();
  Result<std::optional<HookState>> state = HookStateOf(*get, id);
  if (!state.ok()) return SqlError("resume hook " + id);
  if (!*state || **state == HookState::kRemoved) {
    return HookChangeResult{HookChange::kNotFound, 0};
  }
  if (**state == HookState::kActive) {
    return HookChangeResult{HookChange::kAlreadyInState, 0};
  }
  Result<sqlite3_stmt*> set = Prepare(
      "UPDATE hooks SET state = 'active' WHERE id = ?", "resume a hook");
  if (!set.ok()) return set.error();
  {
    Stmt s(*set);
    if (s.Bind(1, id).Step() != SQLITE_DONE) {
      return SqlError("resume hook " + id);
    }
  }
  // Never-tried ones are due at once, retries when their delay ends (at
  // once when overdue); runners take them in creation order.
  Result<sqlite3_stmt*> release = Prepare(
      "UPDATE deliveries SET state = 'pending', owner = NULL, "
      "owner_pid = NULL, "
      "next_at_ms = CASE WHEN attempts = 0 THEN ? ELSE next_at_ms END "
      "WHERE hook_id = ? AND state = 'held'",
      "release held deliveries");
  if (!release.ok()) return release.error();
  int64_t released = 0;
  {
    Stmt s(*release);
    if (s.Bind(1, now_ms).Bind(2, id).Step() != SQLITE_DONE) {
      return SqlError("resume hook " + id);
    }
    released = sqlite3_changes(db_);
  }
  if (!txn.Commit()) return SqlError("resume hook " + id);
  return HookChangeResult{HookChange::kChanged, released};
}

Result<HookChangeResult> StateStore::RemoveHook(const std::string& id,
                                                int64_t now_ms) {
  Transaction txn(db_);
  if (!txn.began()) return SqlError("remove hook " + id);
  Result<sqlite3_stmt*> get =
      Prepare("SELECT state FROM hooks WHERE id = ?", "read a hook");
  if (!get.ok()) return get.error();
  Result<std::optional<HookState>> state = HookStateOf(*get, id);
  if (!state.ok()) return SqlError("remove hook " + id);
  if (!*state || **state == HookState::kRemoved) {
    return HookChangeResult{HookChange::kNotFound, 0};
  }
  Result<sqlite3_stmt*> set =
      Prepare("UPDATE hooks SET state = 'removed', removed_ms = ? WHERE id = ?",
              "remove a hook");
  if (!set.ok()) return set.error();
  {
    Stmt s(*set);
    if (s.Bind(1, now_ms).Bind(2, id).Step() != SQLITE_DONE) {
      return SqlError("remove hook " + id);
    }
  }
  Result<sqlite3_stmt*> cancel = Prepare(
      "UPDATE deliveries SET state = 'cancelled', reason = 'hook removed', "
      "ended_ms = ?, owner = NULL, owner_pid = NULL "
      "WHERE hook_id = ? AND state IN ('pending', 'held')",
      "cancel deliveries");
  if (!cancel.ok()) return cancel.error();
  int64_t cancelled = 0;
  {
    Stmt s(*cancel);
    if (s.Bind(1, now_ms).Bind(2, id).Step() != SQLITE_DONE) {
      return SqlError("remove hook " + id);
    }
    cancelled = sqlite3_changes(db_);
  }
  if (!txn.Commit()) return SqlError("remove hook " + id);
  return HookChangeResult{HookChange::kChanged, cancelled};
}

Result<EnqueueResult> StateStore::Enqueue(const std::vector<FileEvent>& events,
                                          int64_t now_ms) {
  Transaction txn(db_);
  if (!txn.began()) return SqlError("store the events");
  Result<std::vector<StoredHook>> hooks = ListHooks(false);
  if (!hooks.ok()) return hooks.error();
  if (hooks->empty()) {
    return MakeError(path_ +
                     ": no hooks registered (add one with "
                     "`hooksim hooks add URL`)");
  }
  Result<sqlite3_stmt*> ins_event =
      Prepare("INSERT INTO events (type, body, created_ms) VALUES (?, ?, ?)",
              "store an event");
  if (!ins_event.ok()) return ins_event.error();
  Result<sqlite3_stmt*> ins_delivery = Prepare(
      "INSERT INTO deliveries (id, hook_id, event_id, state, next_at_ms, "
      "created_ms) VALUES (?, ?, ?, ?, ?, ?)",
      "store a delivery");
  if (!ins_delivery.ok()) return ins_delivery.error();
  EnqueueResult result;
  for (const StoredHook& h : *hooks) result.hooks.push_back(h.id);
  bool first = true;
  for (const FileEvent& e : events) {
    int64_t event_id = 0;
    {
      Stmt s(*ins_event);
      if (s.Bind(1, e.type).Bind(2, e.body).Bind(3, now_ms).Step() !=
          SQLITE_DONE) {
        return SqlError("store an event");
      }
      event_id = sqlite3_last_insert_rowid(db_);
    }
    if (first) result.first_event = event_id;
    first = false;
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

Status StateStore::ReleaseDeadOwners(std::string_view operation) {
  Result<sqlite3_stmt*> owners = Prepare(
      "SELECT DISTINCT owner_pid FROM deliveries "
      "WHERE state = 'pending' AND owner IS NOT NULL",
      "read owners");
  if (!owners.ok()) return owners.error();
  std::vector<int64_t> dead;
  {
    Stmt s(*owners);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      if (!ProcessAlive(s.Int(0))) dead.push_back(s.Int(0));
    }
    if (rc != SQLITE_DONE) return SqlError(operation);
  }
  Result<sqlite3_stmt*> release = Prepare(
      "UPDATE deliveries SET owner = NULL, owner_pid = NULL "
      "WHERE state = 'pending' AND owner_pid = ?",
      "release rows of stopped runners");
  if (!release.ok()) return release.error();
  for (int64_t pid : dead) {
    Stmt s(*release);
    if (s.Bind(1, pid).Step() != SQLITE_DONE) return SqlError(operation);
  }
  return std::nullopt;
}

Result<ClaimResult> StateStore::Claim(const std::string& owner,
                                      const ClaimOptions& o, int64_t now_ms) {
  Transaction txn(db_);
  if (!txn.began()) return SqlError("claim deliveries");
  if (Status s = ReleaseDeadOwners("claim deliveries")) return *s;
  // Rows a stopped runner left behind for a hook paused since are held.
  Result<sqlite3_stmt*> hold = Prepare(
      "UPDATE deliveries SET state = 'held' WHERE state = 'pending' AND "
      "owner IS NULL AND hook_id IN (SELECT id FROM hooks "
      "WHERE state = 'paused')",
      "hold deliveries of paused hooks");
  if (!hold.ok()) return hold.error();
  {
    Stmt s(*hold);
    if (s.Step() != SQLITE_DONE) return SqlError("claim deliveries");
  }
  Result<sqlite3_stmt*> q = Prepare(
      "SELECT d.id, d.seq, d.hook_id, h.url, h.secret, d.event_id, e.type, "
      "e.body, d.attempts, d.next_at_ms "
      "FROM deliveries d JOIN hooks h ON h.id = d.hook_id "
      "JOIN events e ON e.id = d.event_id "
      "WHERE d.state = 'pending' AND d.owner IS NULL AND h.state = 'active' "
      "AND d.event_id BETWEEN ? AND ? ORDER BY d.seq LIMIT ?",
      "claim deliveries");
  if (!q.ok()) return q.error();
  Result<sqlite3_stmt*> take =
      Prepare("UPDATE deliveries SET owner = ?, owner_pid = ? WHERE id = ?",
              "claim a delivery");
  if (!take.ok()) return take.error();
  Result<sqlite3_stmt*> give_up = Prepare(
      "UPDATE deliveries SET state = 'gave_up', ended_ms = ?, "
      "reason = 'all attempts started; the last outcome was lost' "
      "WHERE id = ?",
      "end a delivery");
  if (!give_up.ok()) return give_up.error();
  ClaimResult result;
  {
    Stmt s(*q);
    s.Bind(1, o.events ? o.events->first : int64_t{0})
        .Bind(2, o.events ? o.events->second : INT64_MAX)
        .Bind(3, static_cast<int64_t>(o.limit));
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
      if (d.attempts_started >= kStoreMaxAttempts) {
        result.gave_up.push_back(std::move(d));
      } else {
        result.deliveries.push_back(std::move(d));
      }
    }
    if (rc != SQLITE_DONE) return SqlError("claim deliveries");
  }
  for (const ClaimedDelivery& d : result.gave_up) {
    Stmt s(*give_up);
    if (s.Bind(1, now_ms).Bind(2, d.id).Step() != SQLITE_DONE) {
      return SqlError("end a delivery");
    }
  }
  const int64_t pid = getpid();
  for (const ClaimedDelivery& d : result.deliveries) {
    Stmt s(*take);
    if (s.Bind(1, owner).Bind(2, pid).Bind(3, d.id).Step() != SQLITE_DONE) {
      return SqlError("claim a delivery");
    }
  }
  if (!txn.Commit()) return SqlError("claim deliveries");
  return result;
}

Result<AttemptGate> StateStore::BeginAttempt(const std::string& owner,
                                             const std::string& delivery_id,
                                             int attempt, int64_t now_ms) {
  Transaction txn(db_);
  if (!txn.began()) return SqlError("start an attempt");
  Result<sqlite3_stmt*> q = Prepare(
      "SELECT d.state, d.owner, h.state FROM deliveries d "
      "JOIN hooks h ON h.id = d.hook_id WHERE d.id = ?",
      "read a delivery");
  if (!q.ok()) return q.error();
  std::string state, row_owner, hook_state;
  {
    Stmt s(*q);
    const int rc = s.Bind(1, delivery_id).Step();
    if (rc == SQLITE_DONE) return AttemptGate::kDropped;
    if (rc != SQLITE_ROW) return SqlError("read delivery " + delivery_id);
    state = s.Text(0);
    row_owner = s.Text(1);
    hook_state = s.Text(2);
  }
  if (state != "pending" || row_owner != owner) return AttemptGate::kDropped;
  if (hook_state != "active") {
    Result<sqlite3_stmt*> hold = Prepare(
        "UPDATE deliveries SET state = ?, owner = NULL, owner_pid = NULL, "
        "reason = ?, ended_ms = ? WHERE id = ?",
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
    return paused ? AttemptGate::kHeld : AttemptGate::kDropped;
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
      "UPDATE deliveries SET attempts = ? WHERE id = ?", "count an attempt");
  if (!upd.ok()) return upd.error();
  {
    Stmt s(*upd);
    if (s.Bind(1, int64_t{attempt}).Bind(2, delivery_id).Step() !=
        SQLITE_DONE) {
      return SqlError("count an attempt of " + delivery_id);
    }
  }
  if (!txn.Commit()) return SqlError("start an attempt of " + delivery_id);
  return AttemptGate::kStart;
}

Status StateStore::EndAttempt(const std::string& owner, const AttemptEnd& end) {
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
  Result<sqlite3_stmt*> upd = Prepare(
      "UPDATE deliveries SET state = ?, last_result = ?, next_at_ms = ?, "
      "ended_ms = ?, owner = CASE WHEN ? THEN NULL ELSE owner END, "
      "owner_pid = CASE WHEN ? THEN NULL ELSE owner_pid END "
      "WHERE id = ? AND state = 'pending' AND owner = ?",
      "update a delivery");
  if (!upd.ok()) return upd.error();
  {
    Stmt s(*upd);
    s.Bind(1, end.state)
        .Bind(2, end.result)
        .Bind(3, end.next_at_ms)
        .Bind(5, int64_t{final_state})
        .Bind(6, int64_t{final_state})
        .Bind(7, end.delivery_id)
        .Bind(8, owner);
    if (final_state) {
      s.Bind(4, end.ended_ms);
    } else {
      s.BindNull(4);
    }
    if (s.Step() != SQLITE_DONE) {
      return SqlError("update delivery " + end.delivery_id);
    }
  }
  if (!txn.Commit()) return SqlError("end an attempt of " + end.delivery_id);
  return std::nullopt;
}

Status StateStore::Release(const std::string& owner) {
  Result<sqlite3_stmt*> q = Prepare(
      "UPDATE deliveries SET owner = NULL, owner_pid = NULL WHERE owner = ?",
      "release deliveries");
  if (!q.ok()) return q.error();
  Stmt s(*q);
  if (s.Bind(1, owner).Step() != SQLITE_DONE) {
    return SqlError("release deliveries");
  }
  return std::nullopt;
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
    DeliveryCounts& c = counts[s.Text(0)];
    const std::string state = s.Text(1);
    const int64_t n = s.Int(2);
    if (state == "delivered") c.delivered += n;
    if (state == "gave_up") c.gave_up += n;
    if (state == "pending") c.pending += n;
    if (state == "held") c.held += n;
    if (state == "cancelled") c.cancelled += n;
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
    return MakeError(path_ + ": no delivery " + delivery_id);
  }
  return SqlError("read delivery " + delivery_id);
}

}  // namespace hooksim
