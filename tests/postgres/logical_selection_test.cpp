// Logical sets whose BackupObjects choose tables by name, restored into a fresh server: a partitioned
// table brings its partitions (sub-partitions too) and their rows, or leaves them out with it; a
// partition named alone comes with the DDL of its partitioned ancestors; and the sequences set are
// those the set's schema creates, so that a table left out with an identity column does not stop the
// restore and a kept table's identity and serial columns continue where the source was.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

class PostgresLogicalSelection : public EngineTest {
 protected:
  // Database "sel": meas (LIST on k, identity id) with meas_1 (k 1) and meas_2 (k 2, 3), itself
  // partitioned into meas_2a and meas_2b, 100 rows each k; other; t1 (serial id, identity n) and
  // t2 (identity id); the free-standing sequence free_seq at 42.
  void SetUp() override {
    EngineTest::SetUp();
    auto sel = new_database("sel");
    sel("CREATE TABLE meas (id int GENERATED ALWAYS AS IDENTITY, k int, v text, PRIMARY KEY (k, id))"
        " PARTITION BY LIST (k)");
    sel("CREATE TABLE meas_1 PARTITION OF meas FOR VALUES IN (1)");
    sel("CREATE TABLE meas_2 PARTITION OF meas FOR VALUES IN (2, 3) PARTITION BY LIST (k)");
    sel("CREATE TABLE meas_2a PARTITION OF meas_2 FOR VALUES IN (2)");
    sel("CREATE TABLE meas_2b PARTITION OF meas_2 FOR VALUES IN (3)");
    sel("INSERT INTO meas (k, v) SELECT 1 + g % 3, 'v' || g FROM generate_series(1, 300) g");
    sel("CREATE TABLE other (id int PRIMARY KEY)");
    sel("INSERT INTO other SELECT generate_series(1, 10)");
    sel("CREATE TABLE t1 (id serial PRIMARY KEY, n int GENERATED ALWAYS AS IDENTITY (START WITH 1000), v text)");
    sel("INSERT INTO t1 (v) SELECT 'a' || g FROM generate_series(1, 20) g");
    sel("CREATE TABLE t2 (x int, id int GENERATED ALWAYS AS IDENTITY)");
    sel("INSERT INTO t2 (x) SELECT generate_series(1, 5)");
    sel("CREATE SEQUENCE free_seq");
    sel("SELECT setval('free_seq', 42)");
    meas_ = sel("SELECT md5(string_agg(t::text, '|' ORDER BY k, id)) FROM meas t");
    dst_ = new_server();
    ASSERT_TRUE(dst_);
  }

  // Backs database sel up with `objects` as set `set_id` and restores it into dst_: sel there.
  PgServer::Query backup_and_restore(const std::string& objects, const std::string& set_id) {
    const auto p = logical(plan("logical-" + set_id), objects);
    const int64_t consistent_ms = backed_up(p, set_id);
    Control control;
    auto st = restore_into(*dst_, p, set_id, consistent_ms, control);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return PgServer::Query{*dst_, "sel"};
  }

  // The public tables of `copy`, with each partition as "name<parent".
  static std::string tables(const PgServer::Query& copy) {
    return copy("SELECT string_agg(c.relname || coalesce('<' || p.relname, ''), ',' ORDER BY c.relname)"
                " FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid"
                " LEFT JOIN pg_class p ON p.oid = i.inhparent"
                " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')");
  }

  std::string meas_;
  std::unique_ptr<PgServer> dst_;
};

TEST_F(PostgresLogicalSelection, APartitionedTableIncludedByNameBringsEveryPartitionAndItsRows) {
  auto copy = backup_and_restore(R"([{"DBName":"sel","TableIncludes":[{"TableName":"meas"}]}])", "sel-meas");
  EXPECT_EQ(tables(copy), "meas,meas_1<meas,meas_2<meas,meas_2a<meas_2,meas_2b<meas_2");
  EXPECT_EQ(copy("SELECT count(*) FROM meas"), "300");
  EXPECT_EQ(copy("SELECT count(*) FROM meas_2b"), "100");
  EXPECT_EQ(copy("SELECT md5(string_agg(t::text, '|' ORDER BY k, id)) FROM meas t"), meas_);
  // The identity continues after the restored rows.
  EXPECT_EQ(copy("INSERT INTO meas (k, v) VALUES (3, 'new') RETURNING id"), "301");
}

TEST_F(PostgresLogicalSelection, APartitionedTableExcludedByNameLeavesOutItsPartitions) {
  auto copy = backup_and_restore(R"([{"DBName":"sel","TableExcludes":[{"TableName":"meas"}]}])", "sel-nomeas");
  EXPECT_EQ(tables(copy), "other,t1,t2");
  EXPECT_EQ(copy("SELECT count(*) FROM other"), "10");
}

TEST_F(PostgresLogicalSelection, ASubPartitionIncludedAloneComesWithTheDdlOfItsAncestorsOnly) {
  auto copy = backup_and_restore(R"([{"DBName":"sel","TableIncludes":[{"TableName":"meas_2a"}]}])", "sel-2a");
  EXPECT_EQ(tables(copy), "meas,meas_2<meas,meas_2a<meas_2");
  EXPECT_EQ(copy("SELECT count(*) FROM meas"), "100");
  EXPECT_EQ(copy("SELECT min(k) || '-' || max(k) FROM meas"), "2-2");
}

TEST_F(PostgresLogicalSelection, ATableLeftOutWithAnIdentityColumnDoesNotStopTheRestore) {
  auto copy = backup_and_restore(R"([{"DBName":"sel","TableIncludes":[{"TableName":"t1"}]}])", "sel-t1");
  EXPECT_EQ(tables(copy), "t1");
  EXPECT_EQ(copy("SELECT to_regclass('public.t2_id_seq') IS NULL"), "t");
  // The kept table's serial and identity continue where the source left them.
  EXPECT_EQ(copy("INSERT INTO t1 (v) VALUES ('new') RETURNING id || '/' || n"), "21/1020");
  EXPECT_EQ(copy("SELECT nextval('free_seq')"), "43");
}

// A TableIncludes pattern that matches no table (a misspelt name, a quoted one) is named by the precheck;
// beside patterns that match, the set holds their tables and the backup says what matched nothing;
// alone, the backup fails as pg_dump -t does, instead of finishing a set without the table.
TEST_F(PostgresLogicalSelection, IncludePatternsThatMatchNoTableAreNamedAndFailTheBackupWhenNothingMatches) {
  auto item = [&](const engines::PlanSpec& p) {
    for (const auto& i : engine_.precheck(p))
      if (i.name == "CHECK_TABLE_INCLUDES") return i;
    return engines::PrecheckItem{"CHECK_TABLE_INCLUDES", "absent", ""};
  };
  const auto some = logical(plan("logical-sel-some"),
                            R"([{"DBName":"sel","TableIncludes":[{"TableName":"other"},{"TableName":"ohter"}]}])");
  const auto warned = item(some);
  EXPECT_EQ(warned.state, "warning") << warned.message;
  EXPECT_NE(warned.message.find("in database \"sel\": ohter"), std::string::npos) << warned.message;
  Control control;
  auto full = full_backup(some, "sel-some", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  ASSERT_EQ(control.warnings.size(), 1u);
  EXPECT_NE(control.warnings[0].find("TableIncludes ohter match no table"), std::string::npos) << control.warnings[0];
  EXPECT_EQ(full->metadata.at("databases").as_array().at(0).at("tables").as_array().size(), 1u);

  const auto none = logical(plan("logical-sel-none"), R"([{"DBName":"sel","TableIncludes":[{"TableName":"\"other\""}]}])");
  const auto failed = item(none);
  EXPECT_EQ(failed.state, "failed") << failed.message;
  EXPECT_NE(failed.message.find("\"other\""), std::string::npos) << failed.message;
  auto refused = full_backup(none, "sel-none", control);
  ASSERT_FALSE(refused.ok()) << "a set without the table asked for";
  EXPECT_EQ(refused.error().code, "InvalidParameterValid") << refused.error().message;
  EXPECT_NE(refused.error().message.find("\"other\""), std::string::npos) << refused.error().message;

  EXPECT_EQ(item(logical(plan("logical-sel-all"), R"([{"DBName":"sel"}])")).state, "finish");
}

TEST_F(PostgresLogicalSelection, ThePrecheckAsksForSelectOnThePartitionsAnIncludedPartitionedTableBrings) {
  auto& src = shared_source();
  src.query("DROP ROLE IF EXISTS sel_reader");
  src.query("CREATE ROLE sel_reader LOGIN");
  auto p = logical(plan("logical-sel-precheck"), R"([{"DBName":"sel","TableIncludes":[{"TableName":"meas"}]}])");
  p.source = src.endpoint("sel_reader");
  auto privileges = [&] {
    for (const auto& i : engine_.precheck(p))
      if (i.name == "CHECK_PRIVILEGES") return i;
    return engines::PrecheckItem{"CHECK_PRIVILEGES", "absent", ""};
  };
  // meas and its four partitions, and the five sequences; not other, t1 or t2.
  const auto denied = privileges();
  EXPECT_EQ(denied.state, "failed");
  EXPECT_NE(denied.message.find("cannot read 10 "), std::string::npos) << denied.message;
  PgServer::Query{src, "sel"}("GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO sel_reader");
  PgServer::Query{src, "sel"}("GRANT SELECT ON meas, meas_1, meas_2, meas_2a TO sel_reader");
  const auto one_left = privileges();
  EXPECT_NE(one_left.message.find("GRANT SELECT ON \"public\".\"meas_2b\" TO"), std::string::npos) << one_left.message;
  PgServer::Query{src, "sel"}("GRANT SELECT ON meas_2b TO sel_reader");
  const auto granted = privileges();
  EXPECT_EQ(granted.state, "finish") << granted.message;
  PgServer::Query{src, "sel"}("DROP OWNED BY sel_reader");
  src.query("DROP ROLE sel_reader");
}

}  // namespace
}  // namespace opendbs::testing
