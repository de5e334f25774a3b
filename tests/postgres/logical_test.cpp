#include <gtest/gtest.h>

#include "builtin_types.h"
#include "engine_harness.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::testing {
namespace {

class PostgresLogicalBackup : public EngineTest {};

TEST_F(PostgresLogicalBackup, RoundTripsEveryBuiltInTypeOfTheChosenObjectsIntoAnotherServer) {
  auto& src = shared_source();
  src.query("DROP DATABASE IF EXISTS shop");
  src.query("CREATE DATABASE shop");
  auto shop = [&](const std::string& sql) {
    PgServer::Query q{src, "shop"};
    return q(sql);
  };
  shop(kTypesTable);
  shop(kTypesRows);
  shop("CREATE SCHEMA \"Odd Schema\"");
  shop("CREATE TABLE \"Odd Schema\".\"Mixed Case\" (k int PRIMARY KEY, v text UNIQUE)");
  shop("INSERT INTO \"Odd Schema\".\"Mixed Case\" SELECT g, 'v' || g FROM generate_series(1, 3000) g");
  shop("CREATE INDEX kinds_t ON kinds (t)");
  shop("CREATE VIEW kinds_view AS SELECT id, t FROM kinds");
  shop("CREATE TABLE scratch_1 (x int)");
  src.query("CREATE TABLE IF NOT EXISTS not_chosen (x int)");
  const std::string kinds = shop("SELECT md5(string_agg(k::text, '|' ORDER BY id)) FROM kinds k");
  const std::string mixed = shop("SELECT md5(string_agg(m::text, '|' ORDER BY k)) FROM \"Odd Schema\".\"Mixed Case\" m");

  auto p = logical(plan("logical1"), R"([{"DBName":"sh?p","TableExcludes":[{"TableName":"public.scratch_*"}]}])");
  Control control;
  auto full = full_backup(p, "logical-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->log_start_seq, -1);
  EXPECT_EQ(full->metadata.at("method"), "logical");
  shop("INSERT INTO kinds (t) VALUES ('after the backup')");

  auto dst = restore_logically(p, "logical-full", full->consistent_ms);
  ASSERT_TRUE(dst);

  PgServer::Query restored{*dst, "shop"};
  EXPECT_EQ(restored("SELECT md5(string_agg(k::text, '|' ORDER BY id)) FROM kinds k"), kinds);
  EXPECT_EQ(restored("SELECT md5(string_agg(m::text, '|' ORDER BY k)) FROM \"Odd Schema\".\"Mixed Case\" m"), mixed);
  EXPECT_EQ(restored("SELECT count(*) FROM pg_indexes WHERE indexname = 'kinds_t'"), "1");
  EXPECT_EQ(restored("SELECT count(*) FROM kinds_view"), "4");
  EXPECT_EQ(restored("SELECT count(*) FROM pg_tables WHERE tablename = 'scratch_1'"), "0");
  EXPECT_EQ(dst->query("SELECT count(*) FROM pg_tables WHERE tablename = 'not_chosen'"), "0");
  // The sequence continues after the restored rows.
  EXPECT_EQ(restored("INSERT INTO kinds (t) VALUES ('new') RETURNING id"), "5");

  // A second restore into the same server finds the tables there and refuses.
  engines::RestoreRequest again;
  again.set_id = "logical-full";
  again.target_ms = full->consistent_ms;
  again.destination = dst->endpoint();
  auto st = engine_.restore(p, *repo_, again, control);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("already has tables"), std::string::npos) << st.error().message;
}

// pg_dump took a database name holding "=" for a connection string: one such database failed the
// backup of every database of the instance, and "dbname=postgres" dumped the schema of another.
TEST_F(PostgresLogicalBackup, DatabaseNamesThatLookLikeConnectionOptionsAreBackedUpAndRestored) {
  auto& src = shared_source();
  // name → the same name quoted for the test's own conninfo
  const std::vector<std::pair<std::string, std::string>> names{
      {"a=b", "'a=b'"}, {"dbname=postgres", "'dbname=postgres'"}, {"it's ü", "'it\\'s ü'"}};
  std::vector<std::string> sums;
  for (const auto& [name, quoted] : names) {
    src.query("DROP DATABASE IF EXISTS " + engines::postgres::quote_ident(name));
    src.query("CREATE DATABASE " + engines::postgres::quote_ident(name));
    PgServer::Query db{src, quoted};
    db("CREATE TABLE t (k int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text || " +
       engines::postgres::quote_literal(name) + ") FROM generate_series(1, 100) g");
    sums.push_back(db("SELECT md5(string_agg(v, ',' ORDER BY k)) FROM t"));
  }
  auto p = logical(plan("logical-names"), R"([{"DBName":"a=b"},{"DBName":"dbname=postgres"},{"DBName":"it's ü"}])");
  Control control;
  auto full = full_backup(p, "logical-names-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->metadata.at("databases").as_array().size(), 3u);

  auto dst = restore_logically(p, "logical-names-full", full->consistent_ms);
  ASSERT_TRUE(dst);
  for (size_t i = 0; i < names.size(); ++i) {
    PgServer::Query restored{*dst, names[i].second};
    EXPECT_EQ(restored("SELECT md5(string_agg(v, ',' ORDER BY k)) FROM t"), sums[i]) << names[i].first;
  }
}

// A table the plan's role may not read fails the backup as a refusal (SourcePermissionDenied), not as an
// unreachable source: the fix is a GRANT, which CHECK_PRIVILEGES names.
TEST_F(PostgresLogicalBackup, ATableTheRoleCannotReadFailsTheBackupAsForbiddenNotUnreachable) {
  auto& src = shared_source();
  src.query("DROP DATABASE IF EXISTS lbperm");
  src.query("DROP ROLE IF EXISTS lb_reader");
  src.query("CREATE ROLE lb_reader LOGIN");
  src.query("CREATE DATABASE lbperm");
  PgServer::Query lbperm{src, "lbperm"};
  lbperm("CREATE TABLE open_rows (x int); CREATE TABLE secret_rows (x int); INSERT INTO secret_rows VALUES (1)");
  lbperm("GRANT SELECT ON open_rows TO lb_reader");
  auto p = logical(plan("logical-denied"), R"([{"DBName":"lbperm"}])");
  p.source = src.endpoint("lb_reader");
  Control control;
  auto full = full_backup(p, "logical-denied-full", control);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, "SourcePermissionDenied") << full.error().message;
  EXPECT_NE(full.error().message.find("permission denied"), std::string::npos) << full.error().message;
  EXPECT_NE(full.error().message.find("secret_rows"), std::string::npos) << full.error().message;
  src.query("DROP DATABASE lbperm");
  src.query("DROP ROLE lb_reader");
}

}  // namespace
}  // namespace opendbs::testing
