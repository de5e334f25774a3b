// Test support: damages a record of a SQLite catalog file the way a bad disk page, a broken copy of
// the file or a hand edit would, through a connection of its own (like another process).
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "catalog/store.h"

namespace opendbs::catalog::testing {

// Replaces the document of the record (kind, id) with bytes that are not JSON.
inline void damage_document(const std::string& catalog_path, Kind kind, const std::string& id) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(catalog_path.c_str(), &db), SQLITE_OK);
  const std::string garbage = "\x93\x01garbage{{ not json \xFF";
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE records SET doc=? WHERE id=? AND kind=?", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_text(st, 1, garbage.data(), static_cast<int>(garbage.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, kind_name(kind), -1, SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
  EXPECT_EQ(sqlite3_changes(db), 1) << "no record " << kind_name(kind) << " " << id;
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace opendbs::catalog::testing
