// Materialized views after a logical restore and in the SQL download: the ones populated at the backup
// are populated again, in an order that refreshes a view after the views it reads; one the source
// kept WITH NO DATA stays so (docs/POSTGRES.md, "Logical backups").
#include <gtest/gtest.h>

#include <cstdlib>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

class PostgresLogicalMatviews : public EngineTest {
 protected:
  // Database "mvshop": sales; mv_top reads mv_rows through the view v_source, which was redefined to
  // read mv_rows after mv_top existed (so mv_top is the older of the two: oid order is not refresh
  // order); mv_lazy was created WITH NO DATA. Backed up logically as set "mv-full".
  void SetUp() override {
    EngineTest::SetUp();
    auto& src = shared_source();
    src.query("DROP DATABASE IF EXISTS mvshop");
    src.query("CREATE DATABASE mvshop");
    PgServer::Query shop{src, "mvshop"};
    shop("CREATE TABLE sales (id int PRIMARY KEY, region text, amount int)");
    shop("INSERT INTO sales SELECT g, 'r' || g % 7, g * 3 % 101 FROM generate_series(1, 2000) g");
    shop("CREATE VIEW v_source AS SELECT region, amount FROM sales");
    shop("CREATE MATERIALIZED VIEW mv_top AS SELECT region, sum(amount) AS total FROM v_source GROUP BY region");
    shop("CREATE MATERIALIZED VIEW mv_rows AS SELECT region, amount FROM sales WHERE amount > 50");
    shop("CREATE OR REPLACE VIEW v_source AS SELECT region, amount FROM mv_rows");
    shop("REFRESH MATERIALIZED VIEW mv_top");
    shop("CREATE MATERIALIZED VIEW mv_lazy AS SELECT count(*) AS n FROM sales WITH NO DATA");
    top_ = top(shop);
    rows_ = rows(shop);

    plan_ = plan("logical-mv");
    plan_.backup_method = "logical";
    plan_.backup_objects = R"([{"DBName":"mvshop"}])";
    Control control;
    auto full = full_backup(plan_, "mv-full", control);
    ASSERT_TRUE(full.ok()) << full.error().message;
    consistent_ms_ = full->consistent_ms;
    std::string error;
    dst_ = PgServer::create(&error);
    ASSERT_TRUE(dst_) << error;
  }

  static std::string top(const PgServer::Query& db) {
    return db("SELECT md5(string_agg(t::text, '|' ORDER BY region)) FROM mv_top t");
  }
  static std::string rows(const PgServer::Query& db) {
    return db("SELECT md5(string_agg(r::text, '|' ORDER BY region, amount)) FROM mv_rows r");
  }
  static std::string populated(const PgServer::Query& db) {
    return db("SELECT string_agg(matviewname || '=' || ispopulated, ',' ORDER BY matviewname) FROM pg_matviews");
  }

  engines::PlanSpec plan_;
  int64_t consistent_ms_ = 0;
  std::string top_, rows_;
  std::unique_ptr<PgServer> dst_;
};

TEST_F(PostgresLogicalMatviews, ARestoreRefreshesTheViewsPopulatedAtTheBackupAndLeavesAViewWithNoDataSo) {
  engines::RestoreRequest request;
  request.set_id = "mv-full";
  request.target_ms = consistent_ms_;
  request.destination = dst_->endpoint();
  request.restore_objects = R"([{"DBName":"mvshop","NewDBName":"mvcopy",
                                 "TableIncludes":[{"TableName":"sales","NewTableName":"sales_then"}]}])";
  Control control;
  auto st = engine_.restore(plan_, *repo_, request, control);
  ASSERT_TRUE(st.ok()) << st.error().message;
  PgServer::Query copy{*dst_, "mvcopy"};
  EXPECT_EQ(populated(copy), "mv_lazy=false,mv_rows=true,mv_top=true");
  EXPECT_EQ(top(copy), top_);
  EXPECT_EQ(rows(copy), rows_);
  // The views read the renamed table.
  copy("INSERT INTO sales_then VALUES (5000, 'new', 99)");
  copy("REFRESH MATERIALIZED VIEW mv_rows");
  EXPECT_EQ(copy("SELECT count(*) FROM mv_rows WHERE region = 'new'"), "1");
}

TEST_F(PostgresLogicalMatviews, TheSqlDownloadEndsWithTheRefreshesSoThatPsqlPopulatesTheViews) {
  engines::DownloadRequest download;
  download.set_id = "mv-full";
  download.format = "SQL";
  download.out_path = dir_ + "/mv.sql";
  Control control;
  auto result = engine_.download(plan_, *repo_, download, control);
  ASSERT_TRUE(result.ok()) << result.error().message;
  dst_->query("CREATE DATABASE fresh");
  // ON_ERROR_STOP: a refresh out of order (mv_top before mv_rows) would stop the script.
  ASSERT_EQ(std::system(("/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " +
                         std::to_string(dst_->port()) + " -U postgres -d fresh -f " + download.out_path + " > /dev/null")
                            .c_str()),
            0);
  PgServer::Query fresh{*dst_, "fresh"};
  EXPECT_EQ(populated(fresh), "mv_lazy=false,mv_rows=true,mv_top=true");
  EXPECT_EQ(top(fresh), top_);
  EXPECT_EQ(rows(fresh), rows_);
}

}  // namespace
}  // namespace opendbs::testing
