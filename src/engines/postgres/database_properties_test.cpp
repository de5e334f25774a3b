#include "engines/postgres/database_properties.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace opendbs::engines::postgres {
namespace {

TEST(UnquoteIdent, ReadsBackWhatQuoteIdentWroteAndStopsAfterTheClosingQuote) {
  const std::string text = quote_ident("My \"odd\" name") + ".rest";
  size_t at = 0;
  EXPECT_EQ(unquote_ident(text, at), "My \"odd\" name");
  EXPECT_EQ(text.substr(at), ".rest");
}

TEST(SettingValueSql, AnOrdinarySettingIsOneLiteral) {
  EXPECT_EQ(setting_value_sql("DateStyle", "SQL, DMY"), "'SQL, DMY'");
  EXPECT_EQ(setting_value_sql("app.tenant", "o'brien"), "'o''brien'");
}

// pg_db_role_setting holds search_path = '"$user", app' as `"$user", app`: one literal of that would
// make a single schema named `"$user", app`.
TEST(SettingValueSql, AListSettingBecomesOneLiteralPerElementAsPgDumpWritesIt) {
  EXPECT_EQ(setting_value_sql("search_path", "\"$user\", public"), "'$user', 'public'");
  EXPECT_EQ(setting_value_sql("Search_Path", "app,\"My \"\"Schema\"\"\" , x"), "'app', 'My \"Schema\"', 'x'");
  EXPECT_EQ(setting_value_sql("temp_tablespaces", "\"\""), "''");
  EXPECT_EQ(setting_value_sql("search_path", ""), "''");
}

TEST(DatabaseSearchPathSql, TheDatabasesOwnSearchPathNotARolesElseTheServersDefault) {
  auto entry = boost::json::parse(R"({"settings": [
      {"role": "app", "name": "search_path", "value": "mine"},
      {"role": "", "name": "search_path", "value": "shop, \"$user\", public"}]})").as_object();
  EXPECT_EQ(database_search_path_sql(entry), "SET search_path = 'shop', '$user', 'public';");
  entry["settings"].as_array().pop_back();
  EXPECT_EQ(database_search_path_sql(entry), "RESET search_path;");
  EXPECT_EQ(database_search_path_sql(boost::json::object{}), "RESET search_path;");
}

}  // namespace
}  // namespace opendbs::engines::postgres
