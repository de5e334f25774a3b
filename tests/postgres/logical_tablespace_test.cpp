// A logical set of a database whose tables and indexes live in a user tablespace restores into a
// server without that tablespace (into the default one) and, where the server has a tablespace of
// the same name, into that one; so does its SQL download run by psql (docs/POSTGRES.md, "Logical
// backups").
#include <gtest/gtest.h>

#include "own_source.h"

namespace opendbs::testing {
namespace {

class PostgresLogicalTablespaces : public OwnSourceTest {
 protected:
  // Database "placed" on the own source: a table with its primary key and an index, and a partitioned
  // table with an index, all in tablespace ts1; backed up logically as set "ts-full".
  void SetUp() override {
    OwnSourceTest::SetUp();
    source_->query("CREATE TABLESPACE ts1 LOCATION '" + tablespace_dir("src") + "'");
    source_->query("CREATE DATABASE placed");
    PgServer::Query placed{*source_, "placed"};
    placed("CREATE TABLE items (id int PRIMARY KEY USING INDEX TABLESPACE ts1, v text) TABLESPACE ts1");
    placed("CREATE INDEX items_v ON items (v) TABLESPACE ts1");
    placed("CREATE TABLE events (id int, at int) PARTITION BY RANGE (at) TABLESPACE ts1");
    placed("CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (1000)");
    placed("CREATE INDEX events_at ON events (at) TABLESPACE ts1");
    placed("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 500) g");
    placed("INSERT INTO events SELECT g, g % 1000 FROM generate_series(1, 300) g");
    items_ = checksum(placed);
    in_ts1_ = in_ts1(placed);
    ASSERT_EQ(in_ts1_, "events,events_1,events_1_at_idx,events_at,items,items_pkey,items_v");

    plan_ = logical(source_plan("logical-ts"), R"([{"DBName":"placed"}])");
    consistent_ms_ = backed_up(plan_, "ts-full");
    dst_ = new_server();
    ASSERT_TRUE(dst_);
  }

  // An empty directory the server user owns, for a tablespace.
  std::string tablespace_dir(const std::string& name) {
    const std::string dir = dir_ + "/tablespace-" + name;
    EXPECT_EQ(run_as_server_user("mkdir " + dir), 0);
    return dir;
  }

  static std::string checksum(const PgServer::Query& db) {
    return db("SELECT md5(string_agg(i::text, '|' ORDER BY id)) FROM items i") + "/" +
           db("SELECT md5(string_agg(e::text, '|' ORDER BY id)) FROM events e");
  }
  // The relations of schema public in tablespace ts1, by name.
  static std::string in_ts1(const PgServer::Query& db) {
    return db("SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c"
              " JOIN pg_tablespace s ON s.oid = c.reltablespace"
              " WHERE s.spcname = 'ts1' AND c.relnamespace = 'public'::regnamespace");
  }

  core::Status restore() { return restore_into(*dst_, plan_, "ts-full", consistent_ms_, restore_control_); }
  Control restore_control_;

  engines::PlanSpec plan_;
  int64_t consistent_ms_ = 0;
  std::string items_, in_ts1_;
  std::unique_ptr<PgServer> dst_;
};

TEST_F(PostgresLogicalTablespaces, AServerWithoutTheTablespaceGetsTheObjectsInItsDefaultTablespace) {
  auto st = restore();
  ASSERT_TRUE(st.ok()) << st.error().message;
  PgServer::Query placed{*dst_, "placed"};
  EXPECT_EQ(checksum(placed), items_);
  EXPECT_EQ(placed("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                   " WHERE n.nspname = 'public' AND c.reltablespace <> 0"),
            "0")
      << "every relation is in the database's default tablespace";
  EXPECT_EQ(placed("SELECT count(*) FROM pg_indexes WHERE tablename IN ('items', 'events', 'events_1')"), "4");
  // The restore task says so when it finishes (its ErrMessage).
  ASSERT_EQ(restore_control_.warnings.size(), 1u);
  EXPECT_NE(restore_control_.warnings[0].find("tablespace ts1 does not exist on the destination"), std::string::npos)
      << restore_control_.warnings[0];
}

TEST_F(PostgresLogicalTablespaces, AServerWithATablespaceOfTheSameNameGetsTheObjectsThere) {
  dst_->query("CREATE TABLESPACE ts1 LOCATION '" + tablespace_dir("dst") + "'");
  auto st = restore();
  ASSERT_TRUE(st.ok()) << st.error().message;
  PgServer::Query placed{*dst_, "placed"};
  EXPECT_EQ(checksum(placed), items_);
  EXPECT_EQ(in_ts1(placed), in_ts1_);
  EXPECT_TRUE(restore_control_.warnings.empty());
}

// The SQL download chooses when psql runs it: ts1 where the server has it, the default elsewhere.
TEST_F(PostgresLogicalTablespaces, TheSqlDownloadLoadsWithOnErrorStopIntoServersWithAndWithoutTheTablespace) {
  ASSERT_EQ(load_sql_download(plan_, "ts-full", *dst_, "placed"), 0);
  PgServer::Query without{*dst_, "placed"};
  EXPECT_EQ(checksum(without), items_);
  EXPECT_EQ(in_ts1(without), "");

  auto with_ts1 = new_server();
  ASSERT_TRUE(with_ts1);
  with_ts1->query("CREATE TABLESPACE ts1 LOCATION '" + tablespace_dir("dst") + "'");
  ASSERT_EQ(load_sql_download(plan_, "ts-full", *with_ts1, "placed"), 0);
  PgServer::Query with{*with_ts1, "placed"};
  EXPECT_EQ(checksum(with), items_);
  EXPECT_EQ(in_ts1(with), in_ts1_);
}

}  // namespace
}  // namespace opendbs::testing
