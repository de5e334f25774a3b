// A logical backup reads its tables on an exported snapshot, but TRUNCATE and the table-rewriting forms
// of ALTER TABLE are not MVCC-safe: once one commits, a transaction on an older snapshot finds the table
// empty. And COPY formats rows with the table's columns of now, not of the snapshot, which pg_dump's
// schema follows. So the transaction holding the snapshot locks every table it copies (ACCESS SHARE, as
// pg_dump does: such DDL then waits for the backup to end), and since DDL may have committed between
// the snapshot and the lock, each table's file and columns as the snapshot saw them are compared with
// the catalog's once the locks are held: a table that differs makes the snapshot unusable.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {

// What identifies a table's contents and shape: its oid, its file (TRUNCATE and rewrites give it a new
// one) and its columns ("attnum:name,..."; dropped ones left out).
struct TableIdentity {
  std::string qualified;  // "schema"."name", quoted
  std::string oid, relfilenode, attributes;
};

// The select-list items (over pg_class c) giving oid, relfilenode and attributes, as TableIdentity names them.
extern const char* const kTableIdentityColumns;

// Locks the tables in ACCESS SHARE mode in the current transaction of `conn`: waiting at most wait_ms
// for a lock another session holds (then an error naming the wait), or with wait_ms = 0 not at all
// (NOWAIT). Returns "" when every table is locked, or why not — a table dropped or renamed since the
// snapshot, or with NOWAIT a lock another session holds or waits for — and the transaction is then
// aborted: the caller starts over with a new snapshot.
core::Result<std::string> lock_tables(PgConnection& conn, const std::vector<TableIdentity>& tables, int wait_ms);

// The tables whose identity the catalog now (a query on `now`, outside the snapshot) no longer
// matches: dropped, truncated, rewritten, or columns added, dropped or renamed.
core::Result<std::vector<std::string>> changed_tables(PgConnection& now, const std::vector<TableIdentity>& seen);

}  // namespace opendbs::engines::postgres
