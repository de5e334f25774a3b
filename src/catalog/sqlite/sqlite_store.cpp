#include "catalog/sqlite/sqlite_store.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "catalog/sqlite/statement.h"
#include "core/utf8.h"
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
    // Listings by account in list order (DescribeBackupPlanList): walk the index instead of sorting.
    R"sql(
    CREATE INDEX records_by_account_sort ON records(kind, account_id, sort_ms, id, state);
    )sql",
};

}  // namespace

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(SqliteStore& store) : store_(store), db_(store.statements_) {}
  bool dirty() const { return dirty_; }
  const std::vector<bool>& written_kinds() const { return written_; }

  core::Result<std::optional<Record>> get(Kind kind, const std::string& id) override {
    Statement st(db_, "SELECT id, account_id, parent_id, state, sort_ms, doc FROM records WHERE kind=? AND id=?");
    st.bind(1, kind_name(kind)).bind(2, id);
    OPENDBS_ASSIGN(bool row, st.step());
    if (!row) return std::optional<Record>{};
    OPENDBS_ASSIGN(auto rec, read_record(kind, st));
    return std::optional<Record>(std::move(rec));
  }

  core::Status put(Kind kind, const Record& r) override {
    mark(kind);
    Statement st(db_, "INSERT OR REPLACE INTO records(kind,id,account_id,parent_id,state,sort_ms,doc) "
                      "VALUES(?,?,?,?,?,?,?)");
    st.bind(1, kind_name(kind)).bind(2, r.id).bind(3, r.account_id).bind(4, r.parent_id).bind(5, r.state);
    st.bind(6, r.sort_ms).bind(7, document_text(r));
    return st.run();
  }

  core::Status remove(Kind kind, const std::string& id) override {
    mark(kind);
    Statement st(db_, "DELETE FROM records WHERE kind=? AND id=?");
    st.bind(1, kind_name(kind)).bind(2, id);
    return st.run();
  }

  core::Result<std::vector<Record>> list(const Query& q) override {
    if (uses_id_cache(q)) {
      OPENDBS_ASSIGN(auto ids, ordered_ids(q));
      std::vector<Record> out;
      const size_t from = static_cast<size_t>(std::min<int64_t>(q.offset, static_cast<int64_t>(ids->size())));
      const size_t to = q.limit < 0 ? ids->size() : std::min(ids->size(), from + static_cast<size_t>(q.limit));
      for (size_t i = from; i < to; ++i) {
        auto rec = get(q.kind, (*ids)[i]);
        if (!rec.ok() && is_unreadable(rec.error())) continue;
        if (!rec.ok()) return rec.error();
        if (*rec) out.push_back(std::move(**rec));
      }
      return out;
    }
    std::string sql = "SELECT id, account_id, parent_id, state, sort_ms, doc FROM records" + where(q) +
                      (q.newest_first ? " ORDER BY sort_ms DESC, id DESC" : " ORDER BY sort_ms, id") +
                      " LIMIT " + std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
    Statement st(db_, sql);
    bind_where(st, q);
    std::vector<Record> out;
    for (;;) {
      OPENDBS_ASSIGN(bool row, st.step());
      if (!row) break;
      auto rec = read_record(q.kind, st);
      if (!rec.ok() && is_unreadable(rec.error())) continue;
      if (!rec.ok()) return rec.error();
      out.push_back(std::move(*rec));
    }
    return out;
  }

  core::Result<int64_t> count(const Query& q) override {
    if (uses_id_cache(q)) {
      OPENDBS_ASSIGN(auto ids, ordered_ids(q));
      return static_cast<int64_t>(ids->size());
    }
    Statement st(db_, "SELECT count(*) FROM records" + where(q));
    bind_where(st, q);
    OPENDBS_ASSIGN(bool row, st.step());
    if (!row) return core::errors::internal("count returned no row");
    return st.column_int64(0);
  }

 private:
  // Plan listings outside a writing transaction (which could see its own uncommitted rows).
  bool uses_id_cache(const Query& q) const { return q.kind == Kind::plan && !dirty_; }

  core::Result<const std::vector<std::string>*> ordered_ids(const Query& q) {
    const std::string order = q.newest_first ? " ORDER BY sort_ms DESC, id DESC" : " ORDER BY sort_ms, id";
    std::string key = where(q) + order;
    for (const auto& id : q.ids) key += "\x1f" + id;
    for (const auto& s : q.states) key += "\x1e" + s;
    for (const auto& [f, v] : q.doc_equals) key += "\x1d" + f + "=" + v;
    key += "\x1c" + (q.account_id ? *q.account_id : "-") + "\x1c" + (q.parent_id ? *q.parent_id : "-");
    key += "\x1c" + std::to_string(q.sort_from_ms.value_or(-1)) + "\x1c" + std::to_string(q.sort_to_ms.value_or(-1));
    store_.note_generation();
    if (const auto* hit = store_.cached_ids(key)) return hit;
    Statement st(db_, "SELECT id FROM records" + where(q) + order);
    bind_where(st, q);
    std::vector<std::string> ids;
    for (;;) {
      OPENDBS_ASSIGN(bool row, st.step());
      if (!row) break;
      ids.push_back(st.column_text(0));
    }
    store_.cache_ids(key, std::move(ids));
    return store_.cached_ids(key);
  }

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
    // json_extract fails the whole statement on a document that is not JSON: such a row matches nothing.
    for (size_t i = 0; i < q.doc_equals.size(); ++i) w += " AND CASE WHEN json_valid(doc) THEN json_extract(doc, ?) END = ?";
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

  core::Result<Record> read_record(Kind kind, Statement& st) {
    Record r;
    r.id = st.column_text(0);
    r.account_id = st.column_text(1);
    r.parent_id = st.column_text(2);
    r.state = st.column_text(3);
    r.sort_ms = st.column_int64(4);
    auto doc = parse_document(st.column_text(5));
    if (!doc.ok()) {
      store_.note_unreadable(kind, "records", r.id, doc.error().message);
      return core::errors::corrupt(std::string("catalog record ") + kind_name(kind) + " " + r.id + " (table records) " +
                                   doc.error().message + "; listings leave it out until the row is repaired or deleted");
    }
    r.doc = std::move(*doc);
    return r;
  }

  // The JSON text stored for a record: always valid UTF-8 (core/utf8.h). Serialising copies bytes
  // through, so checking the text once is enough; only a document holding a bad string is copied.
  static std::string document_text(const Record& r) {
    std::string text = boost::json::serialize(r.doc);
    if (core::is_valid_utf8(text)) return text;
    boost::json::object repaired = r.doc;
    core::make_valid_utf8(repaired);
    return boost::json::serialize(repaired);
  }

  // Reads what document_text wrote, and also what versions before it stored: raw bytes that are not
  // UTF-8 inside strings. Those are parsed tolerantly and escaped, so such a record is readable again
  // and the next write of it stores it repaired.
  static core::Result<boost::json::object> parse_document(const std::string& text) {
    const bool valid = core::is_valid_utf8(text);
    boost::json::parse_options options;
    options.allow_invalid_utf8 = !valid;
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec, {}, options);
    if (ec) return core::errors::corrupt("is not a JSON document (" + ec.message() + ")");
    if (!v.is_object()) return core::errors::corrupt("holds JSON that is not an object");
    if (!valid) core::make_valid_utf8(v);
    return std::move(v.as_object());
  }

  static bool is_unreadable(const core::Error& e) { return e.code == "Corrupt"; }

  void mark(Kind kind) {
    dirty_ = true;
    written_.at(static_cast<size_t>(kind)) = true;
  }

  SqliteStore& store_;
  StatementCache& db_;
  bool dirty_ = false;
  std::vector<bool> written_ = std::vector<bool>(16, false);
};

namespace {

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
  OPENDBS_TRY(exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                      "PRAGMA temp_store=MEMORY;"));
  OPENDBS_TRY(store->migrate());
  return store;
}

core::Status SqliteStore::migrate() {
  std::lock_guard lock(mu_);
  OPENDBS_TRY(exec(db_, "BEGIN IMMEDIATE"));
  auto status = [&]() -> core::Status {
    OPENDBS_TRY(exec(db_, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
    Statement read(statements_, "SELECT version FROM schema_version");
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

const std::vector<std::string>* SqliteStore::cached_ids(const std::string& key) {
  auto it = id_cache_.find(key);
  return it == id_cache_.end() ? nullptr : &it->second;
}

void SqliteStore::cache_ids(const std::string& key, std::vector<std::string> ids) {
  if (id_cache_.size() >= 64) id_cache_.clear();  // bounded: filters vary, the common ones come back
  id_cache_[key] = std::move(ids);
}

// Drops the cached listings when this store wrote or another connection (opendbs admin) committed.
void SqliteStore::note_generation() {
  Statement st(statements_, "PRAGMA data_version");
  const int64_t version = st.step().ok() ? st.column_int64(0) : -2;
  const uint64_t plan_writes = local_writes_[static_cast<size_t>(Kind::plan)];
  if (version != data_version_ || plan_writes != cached_writes_) {
    id_cache_.clear();
    data_version_ = version;
    cached_writes_ = plan_writes;
  }
}

uint64_t SqliteStore::change_counter(Kind kind) {
  std::lock_guard lock(mu_);
  note_generation();
  return (static_cast<uint64_t>(data_version_) << 40) ^ local_writes_[static_cast<size_t>(kind)];
}

void SqliteStore::count_writes(const std::vector<bool>& kinds) {
  for (size_t k = 0; k < kinds.size() && k < kKinds; ++k)
    if (kinds[k]) ++local_writes_[k];
}

core::Status SqliteStore::transact(const std::function<core::Status(Tx&)>& fn) {
  return run_in_transaction("BEGIN IMMEDIATE", fn);
}

core::Status SqliteStore::read(const std::function<core::Status(Tx&)>& fn) {
  return run_in_transaction("BEGIN DEFERRED", fn);
}

core::Status SqliteStore::run_in_transaction(const char* begin, const std::function<core::Status(Tx&)>& fn) {
  std::lock_guard lock(mu_);
  OPENDBS_TRY(Statement(statements_, begin).run());
  SqliteTx tx(*this);
  core::Status status = fn(tx);
  if (!status.ok()) {
    (void)Statement(statements_, "ROLLBACK").run();
    count_writes(tx.written_kinds());
    return status;
  }
  auto commit = Statement(statements_, "COMMIT").run();
  if (!commit.ok()) (void)Statement(statements_, "ROLLBACK").run();
  count_writes(tx.written_kinds());
  return commit;
}

core::Result<std::optional<Record>> SqliteStore::claim_next_task(const std::string& owner, int64_t now_ms,
                                                                 int64_t lease_ms, const Claimable& claimable) {
  std::optional<Record> claimed;
  OPENDBS_TRY(transact([&](Tx& tx) -> core::Status {
    // A task whose document is not JSON cannot be run: it is passed over (and reported), not claimed,
    // so it does not stop the queue behind it. A running one's lease is unreadable: never expired.
    // No LIMIT: the tasks `claimable` refuses are passed over the same way, however many come first.
    Statement st(statements_, "SELECT id FROM records WHERE kind='task' AND (state='queued' OR (state='running' AND "
                      "CASE WHEN json_valid(doc) THEN json_extract(doc,'$._LeaseExpiresMs') END < ?)) "
                      "ORDER BY sort_ms");
    st.bind(1, now_ms);
    std::optional<Record> rec;
    for (;;) {
      OPENDBS_ASSIGN(bool row, st.step());
      if (!row) return {};
      auto candidate = tx.get(Kind::task, st.column_text(0));
      if (!candidate.ok() && candidate.error().code == "Corrupt") continue;
      if (!candidate.ok()) return candidate.error();
      rec = std::move(*candidate);
      if (rec && (!claimable || claimable(*rec))) break;
    }
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
