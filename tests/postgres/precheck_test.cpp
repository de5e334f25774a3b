#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

const engines::PrecheckItem* item(const std::vector<engines::PrecheckItem>& items, const std::string& name) {
  for (const auto& i : items)
    if (i.name == name) return &i;
  return nullptr;
}

engines::PlanSpec physical_plan(const engines::Endpoint& source) {
  engines::PlanSpec p;
  p.plan_id = "precheck";
  p.database_type = "PostgreSQL";
  p.backup_method = "physical";
  p.source = source;
  return p;
}

TEST(PostgresPrecheck, PassesEveryItemOnAServerReadyForPhysicalBackups) {
  engines::PostgresEngine engine;
  const auto items = engine.precheck(physical_plan(shared_source().endpoint()));
  for (const char* name : {"CHECK_CONNECTION", "CHECK_VERSION", "CHECK_PRIVILEGES", "CHECK_WAL_LEVEL",
                           "CHECK_WAL_SENDERS", "CHECK_REPLICATION_SLOTS", "CHECK_SYNC_STANDBY"}) {
    const auto* i = item(items, name);
    ASSERT_NE(i, nullptr) << name;
    EXPECT_EQ(i->state, "finish") << name << ": " << i->message;
  }
}

TEST(PostgresPrecheck, AnUnreachableServerFailsTheConnectionItemWithWhatToCheck) {
  engines::PostgresEngine engine;
  auto source = shared_source().endpoint();
  source.port = 1;  // nothing listens there
  const auto items = engine.precheck(physical_plan(source));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].name, "CHECK_CONNECTION");
  EXPECT_EQ(items[0].state, "failed");
  EXPECT_NE(items[0].message.find("pg_hba.conf"), std::string::npos) << items[0].message;
  EXPECT_NE(items[0].message.find("listen_addresses"), std::string::npos) << items[0].message;
}

TEST(PostgresPrecheck, ARoleWithoutReplicationFailsThePrivilegesItemNamingTheFix) {
  shared_source().query("DROP ROLE IF EXISTS plain_reader");
  shared_source().query("CREATE ROLE plain_reader LOGIN");
  engines::PostgresEngine engine;
  const auto items = engine.precheck(physical_plan(shared_source().endpoint("plain_reader")));
  const auto* privileges = item(items, "CHECK_PRIVILEGES");
  ASSERT_NE(privileges, nullptr);
  EXPECT_EQ(privileges->state, "failed");
  EXPECT_NE(privileges->message.find("ALTER ROLE \"plain_reader\" REPLICATION"), std::string::npos) << privileges->message;
  EXPECT_EQ(item(items, "CHECK_CONNECTION")->state, "finish");
}

// The WAL stream reports what is durable as flushed: a server whose synchronous_standby_names match it
// would make every commit wait for the log backup. (synchronous_commit = off here, so that this
// lone server's own writes do not wait for a standby.)
TEST(PostgresPrecheck, SynchronousStandbyNamesMatchingTheWalStreamWarnAndNamedStandbysPass) {
  for (const auto& [names, state] : std::vector<std::pair<std::string, std::string>>{
           {"*", "warning"}, {"ANY 1 (standby1, OPENDBS)", "warning"}, {"FIRST 1 (standby1, \"standby2\")", "finish"}}) {
    std::string error;
    auto server = PgServer::create(&error, "synchronous_standby_names = '" + names + "'\nsynchronous_commit = off\n");
    ASSERT_TRUE(server) << error;
    engines::PostgresEngine engine;
    const auto items = engine.precheck(physical_plan(server->endpoint()));
    const auto* sync = item(items, "CHECK_SYNC_STANDBY");
    ASSERT_NE(sync, nullptr);
    EXPECT_EQ(sync->state, state) << names << ": " << sync->message;
    if (state == "warning") {
      EXPECT_NE(sync->message.find("synchronous_standby_names = '" + names + "'"), std::string::npos) << sync->message;
    }
  }
}

TEST(PostgresPrecheck, MinimalWalAndNoWalSendersFailWithTheSettingsToChange) {
  std::string error;
  auto server = PgServer::create(&error, "wal_level = minimal\nmax_wal_senders = 0\nmax_replication_slots = 0\n");
  ASSERT_TRUE(server) << error;
  engines::PostgresEngine engine;
  const auto items = engine.precheck(physical_plan(server->endpoint()));
  const auto* wal_level = item(items, "CHECK_WAL_LEVEL");
  ASSERT_NE(wal_level, nullptr);
  EXPECT_EQ(wal_level->state, "failed");
  EXPECT_NE(wal_level->message.find("wal_level = replica"), std::string::npos) << wal_level->message;
  const auto* senders = item(items, "CHECK_WAL_SENDERS");
  ASSERT_NE(senders, nullptr);
  EXPECT_EQ(senders->state, "failed");
  EXPECT_NE(senders->message.find("max_wal_senders"), std::string::npos);
  const auto* slots = item(items, "CHECK_REPLICATION_SLOTS");
  ASSERT_NE(slots, nullptr);
  EXPECT_EQ(slots->state, "failed");
  EXPECT_NE(slots->message.find("max_replication_slots"), std::string::npos);
  // The replication connection is refused for want of a WAL sender, not by pg_hba.conf.
  const auto* privileges = item(items, "CHECK_PRIVILEGES");
  ASSERT_NE(privileges, nullptr);
  EXPECT_EQ(privileges->state, "failed");
  EXPECT_NE(privileges->message.find("raise max_wal_senders"), std::string::npos) << privileges->message;
  EXPECT_EQ(privileges->message.find("pg_hba.conf"), std::string::npos) << privileges->message;
}

engines::PlanSpec logical_plan(const engines::Endpoint& source, const std::string& objects) {
  engines::PlanSpec p = physical_plan(source);
  p.backup_method = "logical";
  p.backup_objects = objects;
  return p;
}

void expect_in(const std::string& message, std::initializer_list<const char*> words, bool present) {
  for (const char* w : words)
    EXPECT_EQ(message.find(w) != std::string::npos, present) << (present ? "missing " : "unexpected ") << w << " in: " << message;
}

// Databases prk_shop1, prk_shop2 and prk_other, whose tables a role without privileges cannot read,
// and one in `postgres` that no plan here selects.
class LogicalPrivileges : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& pg = shared_source();
    for (const char* db : {"prk_shop1", "prk_shop2", "prk_other"}) pg.query(std::string("DROP DATABASE IF EXISTS ") + db);
    pg.query("DROP TABLE IF EXISTS prk_unselected");
    pg.query("DROP ROLE IF EXISTS prk_reader");
    pg.query("CREATE ROLE prk_reader LOGIN");
    pg.query("CREATE TABLE prk_unselected (id int)");
    for (const char* db : {"prk_shop1", "prk_shop2", "prk_other"}) pg.query(std::string("CREATE DATABASE ") + db);
    shop1_("CREATE TABLE orders_a (id int); CREATE SCHEMA audit; CREATE TABLE audit.tmp_1 (id int);"
           " CREATE SEQUENCE ticket_seq");
    shop2_("CREATE TABLE orders_b (id int)");
    other_("CREATE TABLE orders_c (id int); CREATE TABLE misc_d (id int)");
  }
  void TearDown() override {
    auto& pg = shared_source();
    for (const char* db : {"prk_shop1", "prk_shop2", "prk_other"}) pg.query(std::string("DROP DATABASE IF EXISTS ") + db);
    pg.query("DROP TABLE IF EXISTS prk_unselected");
    pg.query("DROP ROLE IF EXISTS prk_reader");
  }
  engines::PrecheckItem privileges(const std::string& objects) { return check("CHECK_PRIVILEGES", objects); }
  engines::PrecheckItem check(const char* name, const std::string& objects) {
    engines::PostgresEngine engine;
    const auto items = engine.precheck(logical_plan(shared_source().endpoint("prk_reader"), objects));
    const auto* i = item(items, name);
    return i ? *i : engines::PrecheckItem{name, "absent", ""};
  }
  const std::string objects_ = R"([{"DBName":"prk_shop*","TableExcludes":[{"TableName":"audit.tmp_?"}]},)"
                               R"({"DBName":"prk_oth?r","TableIncludes":[{"TableName":"orders_*"}]}])";
  PgServer::Query shop1_{shared_source(), "prk_shop1"}, shop2_{shared_source(), "prk_shop2"},
      other_{shared_source(), "prk_other"};
};

TEST_F(LogicalPrivileges, TheRoleMustReadEveryTableBackupObjectsSelectInEveryDatabaseAndNoOther) {
  const auto denied = privileges(objects_);
  EXPECT_EQ(denied.state, "failed");
  // Named with their databases, with the GRANT that fixes each database.
  expect_in(denied.message, {"cannot read 4 ", "in database \"prk_shop1\": GRANT SELECT ON \"public\".\"orders_a\"",
                             "\"public\".\"ticket_seq\"", "in database \"prk_shop2\": GRANT SELECT ON \"public\".\"orders_b\"",
                             "in database \"prk_other\": GRANT SELECT ON \"public\".\"orders_c\" TO \"prk_reader\"",
                             "pg_read_all_data"}, true);
  // Excluded, not included, or in a database BackupObjects leave out: not the plan's concern.
  expect_in(denied.message, {"tmp_1", "misc_d", "prk_unselected"}, false);

  shop1_("GRANT SELECT ON orders_a, ticket_seq TO prk_reader");
  shop2_("GRANT SELECT ON orders_b TO prk_reader");
  const auto one_left = privileges(objects_);
  EXPECT_EQ(one_left.state, "failed");
  expect_in(one_left.message, {"cannot read 1 ", "prk_other", "orders_c"}, true);
  expect_in(one_left.message, {"prk_shop1", "prk_shop2"}, false);

  other_("GRANT SELECT ON orders_c TO prk_reader");
  const auto granted = privileges(objects_);
  EXPECT_EQ(granted.state, "finish") << granted.message;
  // Everything (no BackupObjects) includes audit.tmp_1 and misc_d.
  const auto everything = privileges("");
  EXPECT_EQ(everything.state, "failed");
  expect_in(everything.message, {"tmp_1", "misc_d"}, true);
}

TEST_F(LogicalPrivileges, ADatabaseTheRoleCannotConnectToIsNamedWithTheGrant) {
  other_("REVOKE CONNECT ON DATABASE prk_other FROM PUBLIC");
  const auto refused = privileges(objects_);
  EXPECT_EQ(refused.state, "failed");
  expect_in(refused.message, {"prk_other", "GRANT CONNECT ON DATABASE"}, true);
}

TEST_F(LogicalPrivileges, BackupObjectsSelectingNoDatabaseFailWithTheDatabasesThereAre) {
  const auto none = privileges(R"([{"DBName":"prk_nosuch*"}])");
  EXPECT_EQ(none.state, "failed");
  expect_in(none.message, {"select none", "prk_shop1", "DBName"}, true);
}

// The backup reads with row_security = off, so a chosen table whose row-level security applies to the
// role would fail it (SourcePermissionDenied): the precheck fails first, naming the tables and the
// ways out. Not the role's concern: a table it owns (unless FORCE ROW LEVEL SECURITY), one excluded.
TEST_F(LogicalPrivileges, TablesWhoseRowLevelSecurityAppliesToTheRoleFailNamingWhatToChange) {
  shop1_("GRANT SELECT ON orders_a, ticket_seq TO prk_reader; ALTER TABLE orders_a ENABLE ROW LEVEL SECURITY;"
         " GRANT SELECT ON audit.tmp_1 TO prk_reader; ALTER TABLE audit.tmp_1 ENABLE ROW LEVEL SECURITY");
  shop2_("CREATE TABLE mine (id int); ALTER TABLE mine OWNER TO prk_reader; ALTER TABLE mine ENABLE ROW LEVEL SECURITY;"
         " GRANT SELECT ON orders_b TO prk_reader");
  other_("GRANT SELECT ON orders_c TO prk_reader");
  const auto secured = check("CHECK_ROW_SECURITY", objects_);
  EXPECT_EQ(secured.state, "failed");
  expect_in(secured.message, {"on 1 of the tables", "in database \"prk_shop1\": \"public\".\"orders_a\"",
                              "ALTER ROLE \"prk_reader\" BYPASSRLS", "superuser", "owner", "exclude"}, true);
  expect_in(secured.message, {"tmp_1", "mine", "prk_shop2"}, false);
  EXPECT_EQ(privileges(objects_).state, "finish") << "the role reads the tables: a matter of rows, not of GRANTs";

  shop2_("ALTER TABLE mine FORCE ROW LEVEL SECURITY");
  expect_in(check("CHECK_ROW_SECURITY", objects_).message, {"on 2 of the tables", "\"public\".\"mine\""}, true);

  shared_source().query("ALTER ROLE prk_reader BYPASSRLS");
  const auto bypassing = check("CHECK_ROW_SECURITY", objects_);
  EXPECT_EQ(bypassing.state, "finish") << bypassing.message;
}

// CHECK_PRIVILEGES, CHECK_EXCLUDED_TABLES and CHECK_TABLE_INCLUDES each read every selected database:
// they share one connection to each (a source with many databases, or a connection limit, felt three).
TEST_F(LogicalPrivileges, TheLogicalItemsOpenOneConnectionPerSelectedDatabase) {
  // Sessions counted when they end (pg_stat_database.sessions, PostgreSQL 14+).
  auto sessions = [] {
    return shared_source().query("SELECT pg_stat_clear_snapshot(); SELECT string_agg(datname || '=' || sessions, ','"
                                 " ORDER BY datname) FROM pg_stat_database WHERE datname LIKE 'prk\\_%'");
  };
  auto settled = [&](const std::string& before) {  // the precheck's backends may still be exiting
    std::string now = sessions();
    for (int i = 0; i < 20; ++i, sleep_ms(100)) {
      const std::string again = sessions();
      if (again == now && again != before) break;
      now = again;
    }
    return now;
  };
  const std::string before = settled("");
  engines::PostgresEngine engine;
  const auto items = engine.precheck(logical_plan(shared_source().endpoint(), objects_));
  ASSERT_NE(item(items, "CHECK_TABLE_INCLUDES"), nullptr);
  ASSERT_NE(item(items, "CHECK_EXCLUDED_TABLES"), nullptr);
  const std::string after = settled(before);
  auto count_of = [](const std::string& list, const std::string& db) {
    const size_t at = list.find(db + "=");
    return at == std::string::npos ? -1 : std::stoi(list.substr(at + db.size() + 1));
  };
  for (const char* db : {"prk_other", "prk_shop1", "prk_shop2"})
    EXPECT_EQ(count_of(after, db) - count_of(before, db), 1) << db << ": " << before << " -> " << after;
}

}  // namespace
}  // namespace opendbs::testing
