// A logical set whose BackupObjects exclude a table that included objects need: the set holds and
// restores everything else; the objects that cannot exist without the excluded table (a foreign key
// referencing it, views reading it and views on those, a materialized view and its index, a rule, a
// policy, a function of SQL-standard body, a table inheriting from it) are left out and named in the
// database's manifest entry ("left_out"), by the restore and by the SQL download alike; the precheck
// names them beforehand (CHECK_EXCLUDED_TABLES).
#include <gtest/gtest.h>

#include <set>

#include <boost/json.hpp>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

class PostgresLogicalExcludes : public EngineTest {
 protected:
  // Database "exshop": fk_a and fk_b reference each other; fk_b and the partition pt1 are excluded.
  // Set "ex-full".
  void SetUp() override {
    EngineTest::SetUp();
    auto shop = new_database("exshop");
    shop("CREATE TABLE fk_a (id int PRIMARY KEY, b_id int, note text)");
    shop("CREATE TABLE fk_b (id serial PRIMARY KEY, a_id int REFERENCES fk_a)");
    shop("ALTER TABLE fk_a ADD FOREIGN KEY (b_id) REFERENCES fk_b");
    shop("INSERT INTO fk_a SELECT g, NULL, 'a' || g FROM generate_series(1, 500) g");
    shop("INSERT INTO fk_b (a_id) SELECT g FROM generate_series(1, 500) g");
    shop("UPDATE fk_a SET b_id = id");
    shop("CREATE TABLE keep (id int PRIMARY KEY, a_id int REFERENCES fk_a, next_b int DEFAULT nextval('fk_b_id_seq'))");
    shop("INSERT INTO keep (id, a_id) SELECT g, g FROM generate_series(1, 50) g");
    shop("CREATE VIEW v_b AS SELECT * FROM fk_b");
    shop("COMMENT ON VIEW v_b IS 'reads the excluded table'");
    shop("CREATE VIEW v_vb AS SELECT id FROM v_b");
    shop("CREATE VIEW v_a AS SELECT id, note FROM fk_a");
    shop("CREATE MATERIALIZED VIEW mv_b AS SELECT count(*) AS n FROM fk_b");
    shop("CREATE INDEX mv_b_n ON mv_b (n)");
    shop("CREATE MATERIALIZED VIEW mv_a AS SELECT count(*) AS n FROM fk_a");
    shop("CREATE RULE r_a AS ON DELETE TO fk_a DO ALSO DELETE FROM fk_b WHERE a_id = old.id");
    shop("CREATE POLICY p_a ON fk_a USING (EXISTS (SELECT 1 FROM fk_b WHERE fk_b.a_id = fk_a.id))");
    shop("CREATE FUNCTION count_b() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM fk_b; END");
    shop("CREATE FUNCTION rows_b() RETURNS SETOF fk_b LANGUAGE sql AS 'SELECT * FROM fk_b'");
    shop("CREATE TABLE child_b (extra int) INHERITS (fk_b)");
    // A partition excluded: a foreign key to the partitioned table stays, one to the partition goes.
    shop("CREATE TABLE pt (id int, k int, PRIMARY KEY (id, k)) PARTITION BY LIST (k)");
    shop("CREATE TABLE pt1 PARTITION OF pt FOR VALUES IN (1)");
    shop("CREATE TABLE pt2 PARTITION OF pt FOR VALUES IN (2)");
    shop("INSERT INTO pt SELECT g, 1 + g % 2 FROM generate_series(1, 100) g");
    shop("CREATE TABLE ref_pt (id int, k int, FOREIGN KEY (id, k) REFERENCES pt)");
    shop("CREATE TABLE ref_pt1 (id int, k int, FOREIGN KEY (id, k) REFERENCES pt1)");
    shop("INSERT INTO ref_pt SELECT id, k FROM pt WHERE k = 2");
    // An excluded table's identity sequence goes with it (pg_dump leaves it out).
    shop("CREATE TABLE gone_ident (id int GENERATED ALWAYS AS IDENTITY, v text)");
    shop("INSERT INTO gone_ident (v) SELECT 'x' FROM generate_series(1, 7)");
    a_ = shop("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM fk_a t");
    keep_ = shop("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM keep t");

    plan_ = logical(plan("logical-ex"), R"([{"DBName":"exshop","TableExcludes":[{"TableName":"fk_b"},)"
                                        R"({"TableName":"pt1"},{"TableName":"gone_ident"}]}])");
    consistent_ms_ = backed_up(plan_, "ex-full");
    dst_ = new_server();
    ASSERT_TRUE(dst_);
  }

  // "TYPE schema.name" of each object the manifest's entry of exshop lists as left out.
  std::set<std::string> left_out() {
    auto manifest = repo_->load_manifest("ex-full");
    EXPECT_TRUE(manifest.ok());
    std::set<std::string> out;
    if (!manifest.ok()) return out;
    const auto& db = manifest->engine_metadata.at("databases").as_array().at(0).as_object();
    if (!db.contains("left_out")) return out;
    for (const auto& o : db.at("left_out").as_array()) {
      const auto& e = o.as_object();
      out.insert(std::string(e.at("type").as_string()) + " " + std::string(e.at("schema").as_string()) + "." +
                 std::string(e.at("name").as_string()));
      EXPECT_FALSE(e.at("because").as_string().empty());
    }
    return out;
  }

  // What a restored copy holds, as one text per aspect checked.
  void expect_everything_else(const PgServer::Query& copy) {
    EXPECT_EQ(copy("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM fk_a t"), a_);
    EXPECT_EQ(copy("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM keep t"), keep_);
    EXPECT_EQ(copy("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class"
                   " WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v', 'm')"),
              "fk_a,keep,mv_a,pt2,ref_pt,ref_pt1,v_a");
    // No foreign key to a missing table; keep's reference to fk_a is there.
    EXPECT_EQ(copy("SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE contype = 'f'"
                   " AND conparentid = 0"),
              "keep_a_id_fkey,ref_pt_id_k_fkey");
    EXPECT_EQ(copy("SELECT count(*) FROM ref_pt"), "50");
    EXPECT_EQ(copy("SELECT count(*) FROM pt"), "50");
    EXPECT_EQ(copy("SELECT count(*) FROM pg_policy"), "0");
    EXPECT_EQ(copy("SELECT count(*) FROM pg_rules WHERE schemaname = 'public'"), "0");
    EXPECT_EQ(copy("SELECT n FROM mv_a"), "500");
    EXPECT_EQ(copy("SELECT count(*) FROM v_a"), "500");
    // The sequence the excluded table owned stays: keep's default uses it.
    EXPECT_EQ(copy("SELECT last_value FROM fk_b_id_seq"), "550");  // 500 for fk_b, 50 for keep
  }

  engines::PlanSpec plan_;
  int64_t consistent_ms_ = 0;
  std::string a_, keep_;
  std::unique_ptr<PgServer> dst_;
};

TEST_F(PostgresLogicalExcludes, TheManifestNamesEveryObjectThatNeedsTheExcludedTable) {
  EXPECT_EQ(left_out(), (std::set<std::string>{
                            "FK CONSTRAINT public.fk_a fk_a_b_id_fkey", "VIEW public.v_b", "VIEW public.v_vb",
                            "MATERIALIZED VIEW public.mv_b", "INDEX public.mv_b_n", "RULE public.fk_a r_a",
                            "POLICY public.fk_a p_a", "FUNCTION public.count_b()", "FUNCTION public.rows_b()",
                            "TABLE public.child_b", "FK CONSTRAINT public.ref_pt1 ref_pt1_id_k_fkey"}));
}

TEST_F(PostgresLogicalExcludes, ARestoreFinishesWithEverythingElseAndNoForeignKeyToTheMissingTable) {
  Control control;
  auto st = restore_into(*dst_, plan_, "ex-full", consistent_ms_, control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  expect_everything_else(PgServer::Query{*dst_, "exshop"});
}

TEST_F(PostgresLogicalExcludes, TheSqlDownloadLoadsWithOnErrorStop) {
  ASSERT_EQ(load_sql_download(plan_, "ex-full", *dst_, "fresh"), 0);
  expect_everything_else(PgServer::Query{*dst_, "fresh"});
}

TEST_F(PostgresLogicalExcludes, ThePrecheckWarnsNamingWhatTheBackupsWillLeaveOut) {
  const auto items = engine_.precheck(plan_);
  const engines::PrecheckItem* excluded = nullptr;
  for (const auto& i : items)
    if (i.name == "CHECK_EXCLUDED_TABLES") excluded = &i;
  ASSERT_NE(excluded, nullptr);
  EXPECT_EQ(excluded->state, "warning");
  for (const char* named : {"in database \"exshop\": ", "FK CONSTRAINT public.fk_a fk_a_b_id_fkey (needs public.fk_b)",
                            "VIEW public.v_vb (needs public.v_b)", "TABLE public.child_b"})
    EXPECT_NE(excluded->message.find(named), std::string::npos) << named << " in " << excluded->message;

  auto whole = plan_;
  whole.backup_objects = R"([{"DBName":"exshop"}])";
  size_t passed = 0;
  for (const auto& i : engine_.precheck(whole)) passed += i.name == "CHECK_EXCLUDED_TABLES" && i.state == "finish";
  EXPECT_EQ(passed, 1u);
}

}  // namespace
}  // namespace opendbs::testing
