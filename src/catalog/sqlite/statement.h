// Prepared SQLite statements, kept for reuse: preparing is a fifth of a simple request's CPU, so each
// distinct SQL text is prepared once per connection (SQLITE_PREPARE_PERSISTENT) and reset after use.
// Used only under the store's mutex (one connection).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>

#include "core/errors.h"

namespace opendbs::catalog {

class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() {
    for (auto& [sql, st] : cache_) sqlite3_finalize(st);
  }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  sqlite3* db() const { return db_; }
  // A statement for `sql`, prepared once; nullptr (with `error`) if it does not compile. A statement
  // still in use (a nested use of the same text) gets a private copy, `owned` tells the caller.
  sqlite3_stmt* acquire(const std::string& sql, bool& owned, std::string& error) {
    owned = false;
    auto it = cache_.find(sql);
    if (it != cache_.end() && !sqlite3_stmt_busy(it->second)) return it->second;
    sqlite3_stmt* st = nullptr;
    const bool keep = it == cache_.end() && cache_.size() < kMax;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), keep ? SQLITE_PREPARE_PERSISTENT : 0, &st,
                           nullptr) != SQLITE_OK) {
      error = sqlite3_errmsg(db_);
      return nullptr;
    }
    if (keep) cache_.emplace(sql, st);
    else owned = true;
    return st;
  }

 private:
  static constexpr size_t kMax = 256;  // list queries vary with their filters; the common ones fit
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> cache_;
};

class Statement {
 public:
  Statement(StatementCache& cache, const std::string& sql) : db_(cache.db()) {
    st_ = cache.acquire(sql, owned_, prepare_error_);
  }
  ~Statement() {
    if (!st_) return;
    if (owned_) {
      sqlite3_finalize(st_);
    } else {
      sqlite3_reset(st_);
      sqlite3_clear_bindings(st_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const std::string& v) {
    if (st_) sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, const char* v) { return bind(i, std::string(v)); }
  Statement& bind(int i, int64_t v) {
    if (st_) sqlite3_bind_int64(st_, i, v);
    return *this;
  }

  // True while a row is available.
  core::Result<bool> step() {
    if (!st_) return core::errors::io("catalog: cannot prepare statement: " + prepare_error_);
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return core::errors::io(std::string("catalog: ") + sqlite3_errmsg(db_));
  }
  core::Status run() {
    OPENDBS_ASSIGN(bool row, step());
    (void)row;
    return {};
  }

  std::string column_text(int i) const {
    const auto* p = sqlite3_column_text(st_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(st_, i)) : std::string();
  }
  int64_t column_int64(int i) const { return sqlite3_column_int64(st_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  bool owned_ = false;
  std::string prepare_error_;
};

}  // namespace opendbs::catalog
