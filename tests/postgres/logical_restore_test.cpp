// Logical restore into a running server: RestoreObjects renames of databases and tables, and what
// happens when a database of the same name already holds tables (DuplicateConflict).
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

class PostgresLogicalRestore : public EngineTest {
 protected:
  // A logical set of the databases crm (customers, orders referencing them) and wiki (pages).
  void SetUp() override {
    EngineTest::SetUp();
    auto crm = new_database("crm"), wiki = new_database("wiki");
    crm("CREATE TABLE customers (id int PRIMARY KEY, name text)");
    crm("CREATE TABLE orders (id serial PRIMARY KEY, customer int REFERENCES customers, total numeric)");
    crm("INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 200) g");
    crm("INSERT INTO orders (customer, total) SELECT 1 + g % 200, g FROM generate_series(1, 1000) g");
    wiki("CREATE TABLE pages (title text PRIMARY KEY, body text)");
    wiki("INSERT INTO pages SELECT 'p' || g, repeat('x', g) FROM generate_series(1, 300) g");
    orders_ = crm("SELECT md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o");
    pages_ = wiki("SELECT md5(string_agg(p::text, '|' ORDER BY title)) FROM pages p");

    plan_ = logical(plan("logical-restore"), R"([{"DBName":"crm"},{"DBName":"wiki"}])");
    consistent_ms_ = backed_up(plan_, "lr-full");
    dst_ = new_server();
    ASSERT_TRUE(dst_);
  }

  core::Status restore(const std::string& objects, const std::string& duplicate_conflict, Control& control) {
    return restore_into(*dst_, plan_, "lr-full", consistent_ms_, control, objects, duplicate_conflict);
  }

  // The destination's databases but postgres and the templates, by name.
  std::string databases() {
    return dst_->query("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database"
                       " WHERE NOT datistemplate AND datname <> 'postgres'");
  }

  engines::PlanSpec plan_;
  int64_t consistent_ms_ = 0;
  std::string orders_, pages_;
  std::unique_ptr<PgServer> dst_;
};

TEST_F(PostgresLogicalRestore, RestoreObjectsRenameDatabasesAndTablesAndKeepTheOthersUnderTheirNames) {
  Control control;
  std::vector<int> percents;
  control.on_progress = [&](int p, uint64_t) { percents.push_back(p); };
  auto st = restore(R"([{"DBName":"crm","NewDBName":"crm_copy"},
                        {"DBName":"wiki","TableIncludes":[{"TableName":"public.pages","NewTableName":"pages_then"}]}])",
                    "", control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(databases(), "crm_copy,wiki");
  PgServer::Query crm{*dst_, "crm_copy"}, wiki{*dst_, "wiki"};
  EXPECT_EQ(crm("SELECT md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o"), orders_);
  EXPECT_EQ(wiki("SELECT md5(string_agg(p::text, '|' ORDER BY title)) FROM pages_then p"), pages_);
  EXPECT_EQ(wiki("SELECT count(*) FROM pg_tables WHERE tablename = 'pages'"), "0");
  // Constraints came with post-data and still hold on the restored rows.
  EXPECT_EQ(crm("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'orders'::regclass"), "1");
  EXPECT_EQ(wiki("SELECT count(*) FROM pg_indexes WHERE tablename = 'pages_then'"), "1");
  ASSERT_FALSE(percents.empty());
  EXPECT_TRUE(std::is_sorted(percents.begin(), percents.end()));
  EXPECT_GT(std::count_if(percents.begin(), percents.end(), [](int p) { return p > 1 && p < 100; }), 1)
      << "progress moves as tables load";
  EXPECT_EQ(percents.back(), 100);
}

TEST_F(PostgresLogicalRestore, ANameTakenByADatabaseWithTablesStopsTheRestoreBeforeAnythingIsWritten) {
  dst_->query("CREATE DATABASE wiki");
  PgServer::Query{*dst_, "wiki"}("CREATE TABLE mine (x int)");
  for (const char* conflict : {"", "failure"}) {
    Control control;
    auto st = restore("", conflict, control);
    ASSERT_FALSE(st.ok()) << conflict;
    EXPECT_EQ(st.error().code, "InvalidParameter");
    EXPECT_NE(st.error().message.find("destination database wiki already has tables"), std::string::npos)
        << st.error().message;
    EXPECT_EQ(databases(), "wiki") << "crm was created although the restore stopped";
  }
  // A rename that does not name a database of the set is refused too.
  Control control;
  auto st = restore(R"([{"DBName":"crn","NewDBName":"x"}])", "", control);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("names database crn, which the backup set does not hold"), std::string::npos)
      << st.error().message;
  // An existing database without tables is simply used.
  dst_->query("CREATE DATABASE crm");
  st = restore(R"([{"DBName":"wiki","NewDBName":"wiki2"}])", "", control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(PgServer::Query({*dst_, "crm"})("SELECT md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o"), orders_);
}

// Every CREATE DATABASE copies a template database: a set loaded into template1 (or any database marked
// datistemplate) would reappear in each database created afterwards. Refused before anything is written.
TEST_F(PostgresLogicalRestore, ATemplateDatabaseIsNeverARestoreDestination) {
  dst_->query("CREATE DATABASE shop_template IS_TEMPLATE true");
  for (const char* target : {"template1", "template0", "shop_template"}) {
    Control control;
    auto st = restore(R"([{"DBName":"wiki"},{"DBName":"crm","NewDBName":")" + std::string(target) + R"("}])", "", control);
    ASSERT_FALSE(st.ok()) << target;
    EXPECT_EQ(st.error().code, "InvalidParameter");
    EXPECT_NE(st.error().message.find("RestoreObjects"), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find(std::string(target) + ", a template database"), std::string::npos)
        << st.error().message;
    EXPECT_EQ(dst_->query("SELECT count(*) FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'"), "0")
        << "wiki was created although the restore stopped";
  }
  EXPECT_EQ(PgServer::Query({*dst_, "template1"})("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0");
  EXPECT_EQ(PgServer::Query({*dst_, "shop_template"})("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0");
}

// Two tables of one schema renamed onto one name would collide only after every row was loaded.
TEST_F(PostgresLogicalRestore, TwoTablesRenamedOntoOneNameStopTheRestoreBeforeAnythingIsWritten) {
  Control control;
  auto st = restore(R"([{"DBName":"crm","TableIncludes":[{"TableName":"public.orders","NewTableName":"zz"},
                                                          {"TableName":"public.customers","NewTableName":"zz"}]}])",
                    "", control);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidParameter");
  EXPECT_NE(st.error().message.find("renames two tables of schema public of database crm to zz"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(dst_->query("SELECT count(*) FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'"), "0");
}

// The API refuses it when the task is created; the engine, called by anything else, refuses it too.
TEST_F(PostgresLogicalRestore, ANewTableNameWithADotStopsTheRestoreBeforeAnythingIsWritten) {
  Control control;
  auto st = restore(R"([{"DBName":"crm","TableIncludes":[{"TableName":"public.orders","NewTableName":"archive.orders"}]}])",
                    "", control);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidParameter");
  EXPECT_EQ(st.error().message, "RestoreObjects: NewTableName \"archive.orders\" of table public.orders holds a dot; a "
                                "renamed table keeps its schema, so NewTableName is the bare new name");
  EXPECT_EQ(databases(), "");
}

TEST_F(PostgresLogicalRestore, RenameNewRestoresUnderAFreeNameWhenTheNameHoldsTables) {
  dst_->query("CREATE DATABASE wiki");
  PgServer::Query{*dst_, "wiki"}("CREATE TABLE mine (x int)");
  Control control;
  auto st = restore("", "renamenew", control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  const std::time_t secs = static_cast<std::time_t>(consistent_ms_ / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
  const std::string renamed = std::string("wiki_dbs_") + stamp;
  EXPECT_EQ(databases(), "crm,wiki," + renamed);
  EXPECT_EQ(PgServer::Query({*dst_, renamed})("SELECT md5(string_agg(p::text, '|' ORDER BY title)) FROM pages p"), pages_);
  EXPECT_EQ(PgServer::Query({*dst_, "wiki"})("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "1")
      << "the existing database was touched";

  // Again: crm and the first new name are taken now, so both get fresh names.
  st = restore("", "renamenew", control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(databases(), "crm,crm_dbs_" + std::string(stamp) + ",wiki," + renamed + "," + renamed + "_2");
}

// StopBackupPlan ALL while the tables load: no half-loaded database stays behind. One the restore
// created is dropped; an existing database it used (it had no tables) stays, named in the error.
TEST_F(PostgresLogicalRestore, ACancelledRestoreDropsTheDatabasesItCreatedAndNamesAnExistingOneItUsed) {
  auto cancel_after_a_table = [](Control& control) {
    control.on_progress = [&control](int percent, uint64_t) {
      if (percent > 1) control.cancel = true;  // the first table of crm is loaded
    };
  };
  Control control;
  cancel_after_a_table(control);
  auto st = restore("", "", control);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "Cancelled");
  EXPECT_NE(st.error().message.find("the databases the restore had created were dropped: crm"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(databases(), "");
  Control again;  // nothing is left to conflict with the same restore
  ASSERT_TRUE(restore("", "", again).ok());
  EXPECT_EQ(databases(), "crm,wiki");

  dst_->query("CREATE DATABASE crm_then");
  Control third;
  cancel_after_a_table(third);
  st = restore(R"([{"DBName":"crm","NewDBName":"crm_then"},{"DBName":"wiki","NewDBName":"wiki_then"}])", "", third);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("left on the destination, to drop or empty by hand: crm_then (existed before"),
            std::string::npos)
      << st.error().message;
  EXPECT_EQ(databases(), "crm,crm_then,wiki");
}

// A node that died while loading left a database it had created half-loaded (no undo ran). It is
// marked while it loads; the task's next attempt (the same set) drops and loads it again instead of
// taking it for the user's, and another restore does not touch it.
TEST_F(PostgresLogicalRestore, ADatabaseAnInterruptedRestoreLeftIsLoadedAgainByTheSameRestoreOnly) {
  const std::string mark = "opendbs: unfinished restore of backup set lr-full";
  const std::string comment_of_crm =
      "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = 'crm'";
  Control watching;
  std::string seen_while_loading;
  watching.on_progress = [&](int percent, uint64_t) {
    if (percent > 1 && percent < 100 && seen_while_loading.empty()) seen_while_loading = dst_->query(comment_of_crm);
  };
  ASSERT_TRUE(restore("", "", watching).ok());
  EXPECT_EQ(seen_while_loading.rfind(mark, 0), 0u) << seen_while_loading;
  EXPECT_EQ(dst_->query(comment_of_crm), "");  // unmarked once complete

  // What a crash leaves: crm created, marked, half loaded.
  dst_->query("DROP DATABASE crm");
  dst_->query("DROP DATABASE wiki");
  dst_->query("CREATE DATABASE crm");
  dst_->query("COMMENT ON DATABASE crm IS '" + mark + " (dropped and loaded again when the restore runs again)'");
  PgServer::Query half{*dst_, "crm"};
  half("CREATE TABLE customers (id int PRIMARY KEY, name text); INSERT INTO customers VALUES (1, 'partial')");

  Control again;
  const auto st = restore("", "", again);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(databases(), "crm,wiki");
  PgServer::Query crm{*dst_, "crm"};
  EXPECT_EQ(crm("SELECT md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o"), orders_);
  EXPECT_EQ(crm("SELECT count(*) FROM customers"), "200");
  EXPECT_EQ(dst_->query(comment_of_crm), "");

  // Marked by a restore of another set: not this restore's to drop.
  dst_->query("COMMENT ON DATABASE crm IS 'opendbs: unfinished restore of backup set other-set'");
  Control other;
  const auto refused = restore("", "", other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("already has tables"), std::string::npos) << refused.error().message;
  EXPECT_EQ(crm("SELECT count(*) FROM customers"), "200");
}

}  // namespace
}  // namespace opendbs::testing
