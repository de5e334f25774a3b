// A database guarded by event triggers that refuse DDL (a common production guard): pg_dump puts
// CREATE EVENT TRIGGER at the end of post-data, so the restore's own DDL after it — RestoreObjects'
// table renames, the materialized views' refreshes — and the SQL download's refreshes run with the
// database's event triggers disabled, each given back its own state afterwards (docs/POSTGRES.md,
// "Logical backups").
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

class PostgresLogicalEventTriggers : public EngineTest {
 protected:
  // Database "evtguard": t (100 rows), the materialized view mv over it, the view v_t; the event
  // triggers block_ddl (enabled), block_always (ENABLE ALWAYS) refuse every DDL command, and
  // block_off is disabled. Backed up logically as set "evt-full".
  void SetUp() override {
    EngineTest::SetUp();
    auto db = new_database("evtguard");
    db("CREATE TABLE t (id int PRIMARY KEY, v text)");
    db("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
    db("CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t");
    db("CREATE VIEW v_t AS SELECT id FROM t");
    db("CREATE FUNCTION noddl() RETURNS event_trigger LANGUAGE plpgsql AS"
       " $$BEGIN RAISE EXCEPTION 'DDL blocked: %', tg_tag; END$$");
    db("CREATE EVENT TRIGGER block_ddl ON ddl_command_start EXECUTE FUNCTION noddl()");
    db("CREATE EVENT TRIGGER block_always ON ddl_command_start EXECUTE FUNCTION noddl()");
    db("ALTER EVENT TRIGGER block_always ENABLE ALWAYS");
    db("CREATE EVENT TRIGGER block_off ON sql_drop EXECUTE FUNCTION noddl()");
    db("ALTER EVENT TRIGGER block_off DISABLE");
    plan_ = logical(plan("logical-evt"), R"([{"DBName":"evtguard"}])");
    consistent_ms_ = backed_up(plan_, "evt-full");
    dst_ = new_server();
    ASSERT_TRUE(dst_);
  }

  static std::string trigger_states(const PgServer::Query& db) {
    return db("SELECT string_agg(evtname || '=' || evtenabled::text, ',' ORDER BY evtname) FROM pg_event_trigger");
  }
  static constexpr const char* kStates = "block_always=A,block_ddl=O,block_off=D";

  engines::PlanSpec plan_;
  int64_t consistent_ms_ = 0;
  std::unique_ptr<PgServer> dst_;
};

TEST_F(PostgresLogicalEventTriggers, ARestoreRenamesTablesAndRefreshesViewsAndLeavesTheTriggersAsTheSourceHadThem) {
  Control control;
  auto st = restore_into(*dst_, plan_, "evt-full", consistent_ms_, control,
                         R"([{"DBName":"evtguard","NewDBName":"evt_r","TableIncludes":[{"TableName":"t","NewTableName":"t2"}]}])");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(control.warnings.empty()) << control.warnings[0];
  PgServer::Query restored{*dst_, "evt_r"};
  EXPECT_EQ(restored("SELECT count(*) FROM t2"), "100");
  EXPECT_EQ(restored("SELECT n FROM mv"), "100");
  EXPECT_EQ(trigger_states(restored), kStates);
  // The guard guards again.
  EXPECT_NE(psql(*dst_, "evt_r", "-c 'CREATE TABLE after_restore (a int)' 2>/dev/null"), 0);
}

// A step that fails after the triggers were disabled gives them back their states too: here the
// rename meets the view v_t in an existing database, which the restore leaves as it is.
TEST_F(PostgresLogicalEventTriggers, AFailingRenameStillGivesTheTriggersBackTheirStates) {
  dst_->query("CREATE DATABASE evt_used");
  Control control;
  auto st = restore_into(*dst_, plan_, "evt-full", consistent_ms_, control,
                         R"([{"DBName":"evtguard","NewDBName":"evt_used","TableIncludes":[{"TableName":"t","NewTableName":"v_t"}]}])");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("v_t"), std::string::npos) << st.error().message;
  EXPECT_EQ(trigger_states(PgServer::Query{*dst_, "evt_used"}), kStates);
}

TEST_F(PostgresLogicalEventTriggers, TheSqlDownloadLoadsWithOnErrorStopAndLeavesTheTriggersAsTheSourceHadThem) {
  ASSERT_EQ(load_sql_download(plan_, "evt-full", *dst_, "fresh"), 0);
  PgServer::Query fresh{*dst_, "fresh"};
  EXPECT_EQ(fresh("SELECT n FROM mv"), "100");
  EXPECT_EQ(trigger_states(fresh), kStates);
}

}  // namespace
}  // namespace opendbs::testing
