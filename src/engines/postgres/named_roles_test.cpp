#include "engines/postgres/named_roles.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "engines/postgres/event_triggers.h"

namespace opendbs::engines::postgres {
namespace {

const boost::json::object kDb = boost::json::parse(R"({"name": "rich", "roles_named": [
  {"object": "policy p_own on table app.sec", "roles": ["app_reader", "App Writer"]},
  {"object": "policy p_mine on table app.sec", "roles": ["app_admin"]},
  {"object": "user mapping for server files", "roles": ["etl"]}]})").as_object();

TEST(NamedRoles, OnlyTheObjectsNamingARoleTheDestinationLacksAreMissingWithThoseRoles) {
  const auto missing = missing_roles(kDb, {"app_reader", "app_admin", "postgres"});
  EXPECT_EQ(missing.objects, (std::vector<std::string>{"policy p_own on table app.sec (role \"App Writer\")",
                                                       "user mapping for server files (role etl)"}));
  EXPECT_EQ(missing.roles, (std::set<std::string>{"App Writer", "etl"}));
  EXPECT_TRUE(missing_roles(kDb, {"app_reader", "App Writer", "app_admin", "etl"}).objects.empty());
}

TEST(NamedRoles, ASetFromBeforeTheRecordNamesNone) {
  EXPECT_TRUE(missing_roles(boost::json::object{{"name", "old"}}, {}).roles.empty());
  EXPECT_EQ(roles_named_comment(boost::json::object{{"name", "old"}}), "");
}

TEST(NamedRoles, TheDownloadNamesEveryObjectAndItsRolesInComments) {
  EXPECT_EQ(roles_named_comment(kDb),
            "\n-- Roles this database's schema names: create them first where the script is loaded\n"
            "--   policy p_own on table app.sec (role app_reader, \"App Writer\")\n"
            "--   policy p_mine on table app.sec (role app_admin)\n"
            "--   user mapping for server files (role etl)\n");
}

TEST(EventTriggers, EachStateIsGivenBackWithItsOwnEnable) {
  EXPECT_EQ(enable_statement({"guard", 'O'}), "ALTER EVENT TRIGGER \"guard\" ENABLE");
  EXPECT_EQ(enable_statement({"Guard", 'R'}), "ALTER EVENT TRIGGER \"Guard\" ENABLE REPLICA");
  EXPECT_EQ(enable_statement({"guard", 'A'}), "ALTER EVENT TRIGGER \"guard\" ENABLE ALWAYS");
}

TEST(EventTriggers, TheDownloadFramesOnlyADatabaseWhosePostDataCreatesOne) {
  EXPECT_EQ(event_trigger_frame_sql("CREATE INDEX i ON t (a);\n").disable, "");
  const auto frame = event_trigger_frame_sql("SET x = 1;\nCREATE EVENT TRIGGER g ON ddl_command_start\n");
  EXPECT_NE(frame.disable.find("DISABLE"), std::string::npos);
  EXPECT_NE(frame.enable.find("ENABLE%s"), std::string::npos);
}

}  // namespace
}  // namespace opendbs::engines::postgres
