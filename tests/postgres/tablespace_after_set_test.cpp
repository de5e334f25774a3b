// A CREATE TABLESPACE after the full set: replaying it, PostgreSQL empties the directory at the path
// the source used and links the tablespace there — on the node, possibly the source's own live
// tablespace (checker G20). The restore refuses such a moment before writing anything; a moment
// before the CREATE restores.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

class PostgresTablespaceAfterSet : public EngineTest {
 protected:
  core::Status restore(const std::string& set_id, int64_t target_ms, const std::string& dir) {
    engines::RestoreRequest request;
    request.set_id = set_id;
    request.target_ms = target_ms;
    request.target_dir = dir;
    request.log_fetch = log_fetch();
    Control control;
    return engine_.restore(plan("tsafter"), *repo_, request, control);
  }
  std::string switch_wal() {
    const std::string name = shared_source().query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
    shared_source().query("SELECT pg_switch_wal()");
    return name;
  }
};

TEST_F(PostgresTablespaceAfterSet, AMomentAfterACreateTablespaceMadeAfterTheSetIsRefusedAndTheSourceKeepsItsFiles) {
  auto& src = shared_source();
  src.query("CREATE TABLE before_ts (id int)");
  src.query("INSERT INTO before_ts SELECT generate_series(1, 10)");
  const auto p = plan("tsafter");
  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));
  Control control;
  auto full = full_backup(p, "tsafter-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;

  src.query("INSERT INTO before_ts VALUES (11)");
  sleep_ms(50);
  const int64_t before = now_ms();  // 11 rows, no tablespace yet
  sleep_ms(50);
  // Recovery to `before` stops at this commit, before it reaches the CREATE TABLESPACE (which takes
  // effect when replayed, ahead of its own commit).
  src.query("INSERT INTO before_ts VALUES (12)");
  const std::string location = dir_ + "/source-ts";
  ASSERT_EQ(run_as_server_user("mkdir " + location), 0);
  src.query("CREATE TABLESPACE ts_after LOCATION '" + location + "'");
  src.query("CREATE TABLE in_ts (id int) TABLESPACE ts_after");
  src.query("INSERT INTO in_ts SELECT generate_series(1, 1000)");
  sleep_ms(50);
  const int64_t after = now_ms();
  const std::string last = switch_wal();
  ASSERT_TRUE(runner.completed(last, 20000)) << "segment " << last << " never completed";
  ASSERT_FALSE(runner.stop().ok());

  const std::string refused_dir = dir_ + "/refused";
  const auto refused = restore("tsafter-full", after, refused_dir);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "InvalidParameter");
  EXPECT_NE(refused.error().message.find("CREATE TABLESPACE"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("a moment before"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find(location), std::string::npos) << refused.error().message;
  EXPECT_FALSE(fs::exists(refused_dir));
  EXPECT_EQ(src.query("SELECT count(*) FROM in_ts"), "1000");

  auto restored = restore_and_start(p, "tsafter-full", before);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->query("SELECT count(*) FROM before_ts"), "11");
  EXPECT_EQ(restored->query("SELECT count(*) FROM pg_tablespace WHERE spcname = 'ts_after'"), "0");
  restored->stop();
  src.query("DROP TABLE in_ts");
  src.query("DROP TABLESPACE ts_after");
  EXPECT_EQ(src.query("SELECT count(*) FROM before_ts"), "12");
}

}  // namespace
}  // namespace opendbs::testing
