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

TEST(DatabasePropertiesSql, EachPropertyRunsOnTheDatabasePsqlIsInAndAFailureIsAWarningNamingIt) {
  auto entry = boost::json::parse(R"({"comment": "it's", "connection_limit": 3, "settings": [
      {"role": "app", "name": "work_mem", "value": "8MB"}]})").as_object();
  const std::string sql = database_properties_sql(entry);
  EXPECT_NE(sql.find("-- ALTER ROLE app IN DATABASE: the setting work_mem (needs role app on this server)\n"
                     "DO 'BEGIN EXECUTE ''ALTER ROLE \"app\" IN DATABASE '' || pg_catalog.quote_ident("
                     "pg_catalog.current_database()) || '' SET \"work_mem\" = ''''8MB''''''; EXCEPTION WHEN OTHERS THEN "
                     "RAISE WARNING ''% was not restored: %'', ''ALTER ROLE app IN DATABASE: the setting work_mem'', "
                     "SQLERRM; END';\n"),
            std::string::npos) << sql;
  EXPECT_NE(sql.find("-- CONNECTION LIMIT\n"), std::string::npos) << sql;
  EXPECT_LT(sql.find("CONNECTION LIMIT 3"), sql.find("COMMENT ON DATABASE"));  // the comment last
  EXPECT_NE(sql.find("'' IS ''''it''''''''s''''"), std::string::npos) << sql;
  EXPECT_EQ(database_properties_sql(boost::json::object{}), "");
}

}  // namespace
}  // namespace opendbs::engines::postgres
