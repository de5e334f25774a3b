#include <gtest/gtest.h>

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
                           "CHECK_WAL_SENDERS", "CHECK_REPLICATION_SLOTS"}) {
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
}

}  // namespace
}  // namespace opendbs::testing
