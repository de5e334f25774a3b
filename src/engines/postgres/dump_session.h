// The settings of every session that copies table data out of or into PostgreSQL, as pg_dump and
// pg_restore set them. COPY's text is written and parsed with the session's styles, which a database
// or role may set (ALTER DATABASE ... SET datestyle = 'SQL, DMY'): without fixed ones a date taken
// under DMY is read back under MDY with day and month swapped, an sql_standard interval changes sign,
// extra_float_digits = 0 rounds floats, and row-level security silently leaves rows out.
#pragma once

#include <string>

#include "core/result.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {

// The connected database's encoding and libc locale (pg_database).
struct DatabaseEncoding {
  std::string encoding, collate, ctype;
};

// Sets DateStyle = ISO, IntervalStyle = postgres, extra_float_digits = 3, row_security = off (a query
// that RLS would filter fails instead: SQLSTATE 42501), no statement, lock or idle-in-transaction
// timeouts, and client_encoding = `client_encoding`, or the database's own when empty (COPY's bytes
// are then the stored ones, unconverted). Returns the database's encoding and locale.
core::Result<DatabaseEncoding> use_dump_settings(PgConnection& conn, const std::string& client_encoding = "");

// Begins a read-only REPEATABLE READ transaction on `snapshot` (pg_export_snapshot() of another session).
core::Status join_snapshot(PgConnection& conn, const std::string& snapshot);

}  // namespace opendbs::engines::postgres
