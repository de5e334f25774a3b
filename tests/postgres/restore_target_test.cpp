// The moment a physical restore is asked for against the set it starts from: a set holds nothing
// older than its consistent point, so a moment before it is refused before anything is written
// (PostgreSQL would otherwise stop at the set's end, a later moment than asked for).
#include <gtest/gtest.h>

#include <filesystem>

#include "core/file.h"
#include "engine_harness.h"
#include "engines/postgres/wal_names.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

class PostgresRestoreTarget : public EngineTest {
 protected:
  core::Status restore(const std::string& set_id, int64_t target_ms, const std::string& dir) {
    engines::RestoreRequest request;
    request.set_id = set_id;
    request.target_ms = target_ms;
    request.target_dir = dir;
    request.log_fetch = log_fetch();
    Control control;
    return engine_.restore(plan("target1"), *repo_, request, control);
  }
  std::string file(const std::string& path) {
    auto text = core::read_file(path);
    EXPECT_TRUE(text.ok()) << path;
    return text.ok() ? *text : "";
  }
};

TEST_F(PostgresRestoreTarget, AMomentBeforeTheSetsConsistentPointIsRefusedAndNothingIsWritten) {
  auto& src = shared_source();
  src.query("CREATE TABLE moments (id int)");
  src.query("INSERT INTO moments SELECT generate_series(1, 10)");
  const auto p = plan("target1");
  Control control;
  auto early = full_backup(p, "early", control);
  ASSERT_TRUE(early.ok()) << early.error().message;
  src.query("INSERT INTO moments VALUES (11)");
  sleep_ms(50);
  const int64_t between = now_ms();  // 11 rows: only "early" and its WAL restore this moment
  sleep_ms(50);
  src.query("INSERT INTO moments VALUES (99)");
  auto late = full_backup(p, "late", control);
  ASSERT_TRUE(late.ok()) << late.error().message;
  ASSERT_LT(between, late->consistent_ms);

  const std::string fresh = dir_ + "/fresh";
  const auto refused = restore("late", between, fresh);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "InvalidParameter");
  for (const std::string& part : {std::string("late"), engines::postgres::pg_timestamp_literal(between),
                                  engines::postgres::pg_timestamp_literal(late->consistent_ms)})
    EXPECT_NE(refused.error().message.find(part), std::string::npos) << part << " not in: " << refused.error().message;
  EXPECT_FALSE(fs::exists(fresh));

  // A directory restored before keeps what it holds: neither its files nor its recovery settings change.
  const std::string used = dir_ + "/used";
  ASSERT_TRUE(restore("early", early->consistent_ms, used).ok());
  const std::string label = file(used + "/backup_label"), conf = file(used + "/postgresql.auto.conf");
  ASSERT_FALSE(restore("late", between, used).ok());
  EXPECT_EQ(file(used + "/backup_label"), label);
  EXPECT_EQ(file(used + "/postgresql.auto.conf"), conf);

  // The set's own consistent point is a moment it restores to.
  EXPECT_TRUE(restore("late", late->consistent_ms, dir_ + "/at-late").ok());
}

}  // namespace
}  // namespace opendbs::testing
