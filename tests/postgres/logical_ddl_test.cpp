// DDL racing a logical backup: TRUNCATE and rewriting ALTER TABLE are not MVCC-safe, so the backup
// locks what it copies and checks that nothing changed between its snapshot and its locks
// (src/engines/postgres/table_locks.h).
#include <gtest/gtest.h>

#include <thread>

#include "engine_harness.h"
#include "engines/postgres/table_locks.h"

namespace opendbs::testing {
namespace {

using engines::postgres::ConnectionKind;
using engines::postgres::PgConnection;
using engines::postgres::TableIdentity;

std::unique_ptr<PgConnection> connect(const PgServer& server, const std::string& db) {
  auto ep = server.endpoint();
  ep.database = db;
  auto conn = PgConnection::open(ep, ConnectionKind::sql);
  EXPECT_TRUE(conn.ok()) << conn.error().message;
  return conn.ok() ? std::move(*conn) : nullptr;
}

// The identities of `tables` (public schema) as the transaction open on `conn` sees them.
std::vector<TableIdentity> identities(PgConnection& conn, const std::vector<std::string>& tables) {
  std::vector<TableIdentity> out;
  for (const auto& name : tables) {
    auto rows = conn.query(std::string("SELECT ") + engines::postgres::kTableIdentityColumns +
                           " FROM pg_class c WHERE c.oid = 'public." + name + "'::regclass");
    EXPECT_TRUE(rows.ok() && rows->rows.size() == 1) << name;
    if (!rows.ok() || rows->rows.size() != 1) continue;
    out.push_back({"public." + name, *rows->value(0, "oid"), *rows->value(0, "relfilenode"),
                   *rows->value(0, "attributes")});
  }
  return out;
}

class TableLocks : public EngineTest {};

TEST_F(TableLocks, TablesTruncatedRewrittenOrWithOtherColumnsSinceTheSnapshotAreNamedOthersNot) {
  auto& src = shared_source();
  auto db = new_database("tlocks");
  for (const char* t : {"same", "emptied", "retyped", "widened", "renamed_col", "narrowed"})
    db(std::string("CREATE TABLE ") + t + " (k int, v int); INSERT INTO " + t + " VALUES (1, 2)");

  auto holder = connect(src, "tlocks");
  ASSERT_TRUE(holder);
  ASSERT_TRUE(holder->query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").ok());
  const auto seen = identities(*holder, {"same", "emptied", "retyped", "widened", "renamed_col", "narrowed"});
  ASSERT_EQ(seen.size(), 6u);

  db("TRUNCATE emptied");
  db("ALTER TABLE retyped ALTER COLUMN v TYPE bigint");
  db("ALTER TABLE widened ADD COLUMN extra int DEFAULT 7");
  db("ALTER TABLE renamed_col RENAME COLUMN v TO w");
  db("ALTER TABLE narrowed DROP COLUMN v");

  auto locked = engines::postgres::lock_tables(*holder, seen, 5000);
  ASSERT_TRUE(locked.ok()) << locked.error().message;
  EXPECT_EQ(*locked, "");
  auto now = connect(src, "tlocks");
  ASSERT_TRUE(now);
  auto changed = engines::postgres::changed_tables(*now, seen);
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(*changed, (std::vector<std::string>{"public.emptied", "public.retyped", "public.widened",
                                                "public.renamed_col", "public.narrowed"}));

  // The locks hold: a TRUNCATE now waits for the transaction (here it gives up after 200 ms).
  EXPECT_THROW(db("SET lock_timeout = 200; TRUNCATE same"), std::runtime_error);
  ASSERT_TRUE(holder->query("COMMIT").ok());
  EXPECT_EQ(db("SELECT count(*) FROM same"), "1");
}

TEST_F(TableLocks, ATableRenamedSinceTheSnapshotCannotBeLockedAndIsReported) {
  auto& src = shared_source();
  auto db = new_database("tlocks2");
  db("CREATE TABLE before_name (k int)");
  auto holder = connect(src, "tlocks2");
  ASSERT_TRUE(holder);
  ASSERT_TRUE(holder->query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").ok());
  const auto seen = identities(*holder, {"before_name"});
  db("ALTER TABLE before_name RENAME TO after_name");
  auto locked = engines::postgres::lock_tables(*holder, seen, 5000);
  ASSERT_TRUE(locked.ok()) << locked.error().message;
  EXPECT_NE(locked->find("before_name"), std::string::npos) << *locked;
}

// A worker that locked only when it began to copy would queue behind a TRUNCATE waiting for the
// holder's lock, and the holder waits for the worker: without waiting, the worker learns it at once.
TEST_F(TableLocks, WithoutWaitingALockBehindAWaitingDdlStatementIsRefusedAtOnce) {
  auto& src = shared_source();
  auto db = new_database("tlocks3");
  db("CREATE TABLE queued (k int)");
  auto holder = connect(src, "tlocks3");
  ASSERT_TRUE(holder);
  ASSERT_TRUE(holder->query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").ok());
  const auto seen = identities(*holder, {"queued"});
  auto held = engines::postgres::lock_tables(*holder, seen, 5000);
  ASSERT_TRUE(held.ok() && held->empty());
  std::thread truncate([&] { db("TRUNCATE queued"); });
  for (int i = 0; i < 500 && db("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                " AND query LIKE 'TRUNCATE%'") == "0"; ++i)
    sleep_ms(10);

  auto worker = connect(src, "tlocks3");
  ASSERT_TRUE(worker);
  ASSERT_TRUE(worker->query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").ok());
  const auto started = now_ms();
  auto refused = engines::postgres::lock_tables(*worker, seen, /*wait_ms=*/0);
  EXPECT_LT(now_ms() - started, 2000);
  ASSERT_TRUE(refused.ok()) << refused.error().message;
  EXPECT_NE(*refused, "");
  ASSERT_TRUE(holder->query("ROLLBACK").ok());  // the holder gives way; the TRUNCATE runs
  truncate.join();
}

class PostgresLogicalBackupDdl : public EngineTest {
 protected:
  // A database with a table large enough that copying it takes a while, and a small one DDL races.
  PgServer::Query database(const std::string& name) {
    auto db = new_database(name);
    db("CREATE TABLE big (k int, pad text);"
       " INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 300000) g");
    db("CREATE TABLE victim (k int PRIMARY KEY, v text);"
       " INSERT INTO victim SELECT g, 'v' || g FROM generate_series(1, 1000) g");
    return db;
  }
  engines::PlanSpec logical_plan(const std::string& db) {
    return logical(plan("logical-ddl-" + db), R"([{"DBName":")" + db + R"("}])");
  }
  // Waits until `sql` (a count) is not "0"; false after 10 s.
  static bool until_nonzero(const PgServer::Query& db, const std::string& sql) {
    for (int i = 0; i < 1000; ++i) {
      if (db(sql) != "0") return true;
      sleep_ms(10);
    }
    return false;
  }
  // Runs `sql` in a thread (it may wait for a lock); the error it ended with, "" when none.
  static std::thread in_thread(const PgServer::Query& db, const std::string& sql, std::string& error) {
    return std::thread([db, sql, &error] {
      try {
        db(sql);
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
  }
};

// The checker's case: a TRUNCATE while the tables were copied emptied the table in the set. Now the
// TRUNCATE waits for the backup, and the set holds the rows of its snapshot.
TEST_F(PostgresLogicalBackupDdl, ATruncateWhileTheTablesAreCopiedWaitsForTheBackupAndTheSetKeepsTheRows) {
  auto db = database("ltrunc");
  const std::string victim = db("SELECT md5(string_agg(v, ',' ORDER BY k)) FROM victim");
  auto p = logical_plan("ltrunc");
  Control control;
  std::optional<core::Result<engines::FullBackupResult>> full;
  std::thread backup([&] { full = full_backup(p, "ltrunc-full", control); });
  const bool copying = until_nonzero(db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'opendbs'"
                                         " AND query LIKE 'COPY%big%' AND state = 'active'");
  std::string ddl_error;
  auto ddl = in_thread(db, "TRUNCATE victim", ddl_error);
  backup.join();
  ddl.join();
  ASSERT_TRUE(copying) << "the backup never copied big";
  EXPECT_EQ(ddl_error, "");
  ASSERT_TRUE(full && full->ok()) << (full ? full->error().message : "no result");
  EXPECT_EQ(db("SELECT count(*) FROM victim"), "0");  // the TRUNCATE ran once the backup was done

  auto dst = restore_logically(p, "ltrunc-full", (*full)->consistent_ms);
  ASSERT_TRUE(dst);
  PgServer::Query restored{*dst, "ltrunc"};
  EXPECT_EQ(restored("SELECT md5(string_agg(v, ',' ORDER BY k)) FROM victim"), victim);
  EXPECT_EQ(restored("SELECT count(*) FROM big"), "300000");
}

// A DROP COLUMN that commits between the backup's snapshot and its locks (here: it waited for another
// session, and the backup, listing the tables on its snapshot, waited behind it) leaves the snapshot's schema naming a column the
// table no longer has. The backup notices, takes a new snapshot, and the set restores.
TEST_F(PostgresLogicalBackupDdl, DdlCommittedBetweenTheSnapshotAndItsLocksMakesTheBackupTakeANewSnapshot) {
  auto db = database("lalter");
  auto& src = shared_source();
  auto blocker = connect(src, "lalter");
  ASSERT_TRUE(blocker);
  ASSERT_TRUE(blocker->query("BEGIN").ok());
  ASSERT_TRUE(blocker->query("LOCK TABLE victim IN ACCESS SHARE MODE").ok());
  std::string ddl_error;
  auto ddl = in_thread(db, "ALTER TABLE victim DROP COLUMN v", ddl_error);
  ASSERT_TRUE(until_nonzero(db, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                " AND query LIKE 'ALTER TABLE victim%'"));

  auto p = logical_plan("lalter");
  Control control;
  std::optional<core::Result<engines::FullBackupResult>> full;
  std::thread backup([&] { full = full_backup(p, "lalter-full", control); });
  const bool queued = until_nonzero(db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'opendbs'"
                                        " AND wait_event_type = 'Lock'");
  ASSERT_TRUE(blocker->query("COMMIT").ok());  // the ALTER goes first, then the backup's lock
  ddl.join();
  backup.join();
  ASSERT_TRUE(queued) << "the backup never waited behind the ALTER";
  EXPECT_EQ(ddl_error, "");
  ASSERT_TRUE(full && full->ok()) << (full ? full->error().message : "no result");

  auto dst = restore_logically(p, "lalter-full", (*full)->consistent_ms);
  ASSERT_TRUE(dst);
  PgServer::Query restored{*dst, "lalter"};
  EXPECT_EQ(restored("SELECT count(*) FROM victim"), "1000");
  EXPECT_EQ(restored("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute"
                     " WHERE attrelid = 'victim'::regclass AND attnum > 0 AND NOT attisdropped"), "k");
}

}  // namespace
}  // namespace opendbs::testing
