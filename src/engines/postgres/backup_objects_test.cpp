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

TEST(BackupObjects, APartitionedTableIsKeptForTheDdlOfAChosenPartitionEvenWhenNotChosenItself) {
  auto o = BackupObjects::parse(R"([{"DBName":"shop","TableIncludes":[{"TableName":"meas_2a"}]}])");
  ASSERT_TRUE(o.ok());
  // meas; meas_1 and meas_2 of meas; meas_2a and meas_2b of meas_2; other.
  const std::vector<BackupObjects::Table> tables{{"public", "meas", {}},     {"public", "meas_1", 0},
                                                 {"public", "meas_2", 0},    {"public", "meas_2a", 2},
                                                 {"public", "meas_2b", 2},   {"public", "other", {}}};
  EXPECT_EQ(o->kept_tables("shop", tables), (std::vector<bool>{true, false, true, true, false, false}));
  auto all_but = BackupObjects::parse(R"([{"DBName":"shop","TableExcludes":[{"TableName":"meas_2"}]}])");
  ASSERT_TRUE(all_but.ok());
  EXPECT_EQ(all_but->kept_tables("shop", tables), (std::vector<bool>{true, true, false, false, false, true}));
}

TEST(BackupObjects, IncludePatternsThatMatchNoTableOfTheDatabaseAreNamed) {
  auto o = BackupObjects::parse(
      R"([{"DBName":"shop","TableIncludes":[{"TableName":"orders"},{"TableName":"ordres"},{"TableName":"s?.item*"},)"
      R"({"TableName":"\"a.b\""}]},{"DBName":"wiki","TableIncludes":[{"TableName":"pages"}]}])");
  ASSERT_TRUE(o.ok());
  const std::vector<BackupObjects::Table> tables{{"public", "orders", {}}, {"s1", "items", {}}, {"a", "b", {}}};
  EXPECT_EQ(o->unmatched_includes("shop", tables), (std::vector<std::string>{"ordres", "\"a.b\""}));
  EXPECT_EQ(o->unmatched_includes("wiki", tables), (std::vector<std::string>{"pages"}));
  EXPECT_TRUE(o->unmatched_includes("other", tables).empty());
  auto whole = BackupObjects::parse(R"([{"DBName":"shop"}])");
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->unmatched_includes("shop", {}).empty());
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
