#include "engines/postgres/backup_objects.h"

#include <gtest/gtest.h>

namespace opendbs::engines::postgres {
namespace {

TEST(BackupObjects, EmptyTakesEverything) {
  auto o = BackupObjects::parse("");
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->selects_database("anything"));
  EXPECT_TRUE(o->selects_table("anything", "public", "t"));
}

TEST(BackupObjects, DatabasesAreChosenByPattern) {
  auto o = BackupObjects::parse(R"([{"DBName":"shop_*"},{"DBName":"crm"}])");
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->selects_database("shop_eu"));
  EXPECT_TRUE(o->selects_database("crm"));
  EXPECT_FALSE(o->selects_database("postgres"));
  EXPECT_TRUE(o->selects_table("crm", "public", "contacts"));
}

TEST(BackupObjects, TableIncludesAndExcludesMatchTheNameOrSchemaDotName) {
  auto o = BackupObjects::parse(
      R"([{"DBName":"shop","TableIncludes":[{"TableName":"order*"},{"TableName":"audit.log_[0-9]"}],)"
      R"("TableExcludes":[{"TableName":"orders_tmp"}]}])");
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->selects_table("shop", "public", "orders"));
  EXPECT_TRUE(o->selects_table("shop", "audit", "log_7"));
  EXPECT_FALSE(o->selects_table("shop", "public", "log_7"));
  EXPECT_FALSE(o->selects_table("shop", "public", "orders_tmp"));
  EXPECT_FALSE(o->selects_table("shop", "public", "customers"));
  EXPECT_FALSE(o->selects_table("other", "public", "orders"));
}

TEST(BackupObjects, APartitionFollowsItsAncestorsUnlessItOrOneOfThemIsExcluded) {
  auto o = BackupObjects::parse(
      R"([{"DBName":"shop","TableIncludes":[{"TableName":"meas"},{"TableName":"log_1"}],)"
      R"("TableExcludes":[{"TableName":"meas_old"}]}])");
  ASSERT_TRUE(o.ok());
  const BackupObjects::Lineage sub{{"public", "meas_2a"}, {"public", "meas_2"}, {"public", "meas"}};
  EXPECT_TRUE(o->selects_table("shop", sub));
  EXPECT_FALSE(o->selects_table("shop", "public", "meas_2a"));  // by its own name alone
  EXPECT_FALSE(o->selects_table("shop", {{"public", "meas_old_1"}, {"public", "meas_old"}, {"public", "meas"}}));
  EXPECT_TRUE(o->selects_table("shop", {{"public", "log_1"}, {"public", "log"}}));  // named directly
  EXPECT_FALSE(o->selects_table("shop", {{"public", "log_2"}, {"public", "log"}}));
}

TEST(BackupObjects, MalformedJsonIsAnInvalidParameter) {
  for (const char* bad : {"{", R"({"DBName":"x"})", R"([{"Name":"x"}])", R"([{"DBName":"x","TableIncludes":"t"}])"}) {
    auto o = BackupObjects::parse(bad);
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_EQ(o.error().code, "InvalidParameterValid") << bad;
  }
}

}  // namespace
}  // namespace opendbs::engines::postgres
