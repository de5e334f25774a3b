#include "catalog/sqlite/sqlite_store.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "catalog/sqlite/statement.h"
#include "core/errors.h"

namespace opendbs::catalog {
namespace {

// Versioned migrations: entry i brings the schema from version i to i + 1. Never edit a shipped entry.
constexpr const char* kMigrations[] = {
    R"sql(
    CREATE TABLE records(
      kind TEXT NOT NULL, id TEXT NOT NULL, account_id TEXT NOT NULL, parent_id TEXT NOT NULL,
      state TEXT NOT NULL, sort_ms INTEGER NOT NULL, doc TEXT NOT NULL,
      PRIMARY KEY(kind, id));
    CREATE INDEX records_by_owner ON records(kind, account_id, parent_id, sort_ms);
    CREATE INDEX records_by_state ON records(kind, state, sort_ms);
    )sql",
};

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(sqlite3* db) : db_(db) {}

  core::Result<std::optional<Record>> get(Kind kind, const std::string& id) override {
    Statement st(db_, "SELECT id, account_id, parent_id, state, sort_ms, doc FROM records WHERE kind=? AND id=?");
    st.bind(1, kind_name(kind)).bind(2, id);
    OPENDBS_ASSIGN(bool row, st.step());
    if (!row) return std::optional<Record>{};
    OPENDBS_ASSIGN(auto rec, read_record(st));
    return std::optional<Record>(std::move(rec));
  }

  core::Status put(Kind kind, const Record& r) override {
    Statement st(db_, "INSERT OR REPLACE INTO records(kind,id,account_id,parent_id,state,sort_ms,doc) "
                      "VALUES(?,?,?,?,?,?,?)");
    st.bind(1, kind_name(kind)).bind(2, r.id).bind(3, r.account_id).bind(4, r.parent_id).bind(5, r.state);
    st.bind(6, r.sort_ms).bind(7, boost::json::serialize(r.doc));
    return st.run();
  }

  core::Status remove(Kind kind, const std::string& id) override {
    Statement st(db_, "DELETE FROM records WHERE kind=? AND id=?");
    st.bind(1, kind_name(kind)).bind(2, id);
    return st.run();
  }

  core::Result<std::vector<Record>> list(const Query& q) override {
    std::string sql = "SELECT id, account_id, parent_id, state, sort_ms, doc FROM records" + where(q) +
                      (q.newest_first ? " ORDER BY sort_ms DESC, id DESC" : " ORDER BY sort_ms, id") +
                      " LIMIT " + std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
    Statement st(db_, sql);
    bind_where(st, q);
    std::vector<Record> out;
    for (;;) {
      OPENDBS_ASSIGN(bool row, st.step());
      if (!row) break;
      OPENDBS_ASSIGN(auto rec, read_record(st));
      out.push_back(std::move(rec));
    }
    return out;
  }

  core::Result<int64_t> count(const Query& q) override {
    Statement st(db_, "SELECT count(*) FROM records" + where(q));
    bind_where(st, q);
    OPENDBS_ASSIGN(bool row, st.step());
    if (!row) return core::errors::internal("count returned no row");
    return st.column_int64(0);
  }

 private:
  static std::string placeholders(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
    return s;
  }

  // Builds the WHERE clause; bind_where binds its parameters in the same order.
  static std::string where(const Query& q) {
    std::string w = " WHERE kind=?";
    if (q.account_id) w += " AND account_id=?";
    if (q.parent_id) w += " AND parent_id=?";
    if (!q.ids.empty()) w += " AND id IN (" + placeholders(q.ids.size()) + ")";
    if (!q.states.empty()) w += " AND state IN (" + placeholders(q.states.size()) + ")";
    for (size_t i = 0; i < q.doc_equals.size(); ++i) w += " AND json_extract(doc, ?) = ?";
    if (q.sort_from_ms) w += " AND sort_ms >= ?";
    if (q.sort_to_ms) w += " AND sort_ms <= ?";
    return w;
  }

  static void bind_where(Statement& st, const Query& q) {
    int i = 1;
    st.bind(i++, kind_name(q.kind));
    if (q.account_id) st.bind(i++, *q.account_id);
    if (q.parent_id) st.bind(i++, *q.parent_id);
    for (const auto& id : q.ids) st.bind(i++, id);
    for (const auto& s : q.states) st.bind(i++, s);
    for (const auto& [field, value] : q.doc_equals) {
      st.bind(i++, "$.\"" + field + "\"");
      st.bind(i++, value);
    }
    if (q.sort_from_ms) st.bind(i++, *q.sort_from_ms);
    if (q.sort_to_ms) st.bind(i++, *q.sort_to_ms);
  }

  static core::Result<Record> read_record(Statement& st) {
    Record r;
    r.id = st.column_text(0);
    r.account_id = st.column_text(1);
    r.parent_id = st.column_text(2);
    r.state = st.column_text(3);
    r.sort_ms = st.column_int64(4);
    boost::system::error_code ec;
    auto v = boost::json::parse(st.column_text(5), ec);
    if (ec || !v.is_object()) return core::errors::corrupt("catalog record " + r.id + " has an unreadable document");
    r.doc = std::move(v.as_object());
    return r;
  }

  sqlite3* db_;
};

core::Status exec(sqlite3* db, const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return core::errors::io("catalog: " + text + " (in: " + sql.substr(0, 60) + ")");
  }
  return {};
}

}  // namespace

SqliteStore::~SqliteStore() { sqlite3_close_v2(db_); }

core::Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return core::errors::io("cannot open catalog " + path + ": " + msg);
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  // A second process (opendbs admin) may write while the node runs: wait for its lock, don't fail.
  sqlite3_busy_timeout(db, 10000);
  OPENDBS_TRY(exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  OPENDBS_TRY(store->migrate());
  return store;
}

core::Status SqliteStore::migrate() {
  std::lock_guard lock(mu_);
  OPENDBS_TRY(exec(db_, "BEGIN IMMEDIATE"));
  auto status = [&]() -> core::Status {
    OPENDBS_TRY(exec(db_, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
    Statement read(db_, "SELECT version FROM schema_version");
    OPENDBS_ASSIGN(bool row, read.step());
    int64_t version = row ? read.column_int64(0) : 0;
    const int64_t latest = static_cast<int64_t>(std::size(kMigrations));
    if (version > latest)
      return core::errors::io("catalog schema version " + std::to_string(version) +
                              " is newer than this opendbs (" + std::to_string(latest) + "); upgrade opendbs");
    for (; version < latest; ++version) OPENDBS_TRY(exec(db_, kMigrations[version]));
    OPENDBS_TRY(exec(db_, "DELETE FROM schema_version"));
    return exec(db_, "INSERT INTO schema_version VALUES(" + std::to_string(latest) + ")");
  }();
  OPENDBS_TRY(exec(db_, status.ok() ? "COMMIT" : "ROLLBACK"));
  return status;
}

core::Status SqliteStore::transact(const std::function<core::Status(Tx&)>& fn) {
  return run_in_transaction("BEGIN IMMEDIATE", fn);
}

core::Status SqliteStore::read(const std::function<core::Status(Tx&)>& fn) {
  return run_in_transaction("BEGIN DEFERRED", fn);
}

core::Status SqliteStore::run_in_transaction(const char* begin, const std::function<core::Status(Tx&)>& fn) {
  std::lock_guard lock(mu_);
  OPENDBS_TRY(exec(db_, begin));
  SqliteTx tx(db_);
  core::Status status = fn(tx);
  if (!status.ok()) {
    (void)exec(db_, "ROLLBACK");
    return status;
  }
  auto commit = exec(db_, "COMMIT");
  if (!commit.ok()) (void)exec(db_, "ROLLBACK");
  return commit;
}

core::Result<std::optional<Record>> SqliteStore::claim_next_task(const std::string& owner, int64_t now_ms,
                                                                 int64_t lease_ms) {
  std::optional<Record> claimed;
  OPENDBS_TRY(transact([&](Tx& tx) -> core::Status {
    Statement st(db_, "SELECT id FROM records WHERE kind='task' AND (state='queued' OR (state='running' AND "
                      "json_extract(doc,'$._LeaseExpiresMs') < ?)) ORDER BY sort_ms LIMIT 1");
    st.bind(1, now_ms);
    OPENDBS_ASSIGN(bool row, st.step());
    if (!row) return {};
    OPENDBS_ASSIGN(auto rec, tx.get(Kind::task, st.column_text(0)));
    if (!rec) return {};
    rec->state = "running";
    rec->doc["_LeaseOwner"] = owner;
    rec->doc["_LeaseExpiresMs"] = now_ms + lease_ms;
    rec->doc["Attempts"] = (rec->doc.contains("Attempts") ? rec->doc["Attempts"].to_number<int64_t>() : 0) + 1;
    OPENDBS_TRY(tx.put(Kind::task, *rec));
    claimed = std::move(rec);
    return {};
  }));
  return claimed;
}

}  // namespace opendbs::catalog
