// A prepared SQLite statement with RAII finalisation and Result-returning steps.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "core/errors.h"

namespace opendbs::catalog {

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &st_, nullptr) != SQLITE_OK)
      prepare_error_ = sqlite3_errmsg(db);
  }
  ~Statement() { sqlite3_finalize(st_); }
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
  std::string prepare_error_;
};

}  // namespace opendbs::catalog
