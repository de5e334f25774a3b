// PostgresEngine::log_retention against real PostgreSQL 15 servers: what the plan's replication slot
// keeps while no log backup streams, and what max_slot_wal_keep_size still allows.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine_harness.h"

namespace opendbs::testing {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class PostgresLogRetention : public EngineTest {
 protected:
  // Runs a log backup until it has reached the WAL file the source writes now and confirmed it
  // (feedback every second), then stops it: the slot exists and is idle.
  void stream_to_current(const engines::PlanSpec& p, const PgServer& server) {
    const std::string current = server.query("SELECT pg_walfile_name(pg_current_wal_lsn())");
    LogBackupRunner runner(engine_, p, *repo_);
    ASSERT_TRUE(runner.wait_for([&](const auto& files) {
      return std::any_of(files.begin(), files.end(), [&](const engines::LogFile& f) { return f.name == current; });
    }, 30000));
    sleep_ms(1500);
    auto st = runner.stop();
    ASSERT_EQ(st.ok() ? "" : st.error().code, "Cancelled");
  }
  static void write_wal(const PgServer& server, const std::string& table, int rows) {
    server.query("INSERT INTO " + table + " SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, " +
                 std::to_string(rows) + ") g");
  }
};

TEST_F(PostgresLogRetention, APlanWithoutASlotHoldsNothing) {
  auto r = engine_.log_retention(plan("retention-none"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->held);
  EXPECT_EQ(r->retained_bytes, 0u);
  EXPECT_FALSE(r->lost);
}

TEST_F(PostgresLogRetention, TheIdleSlotRetainsWhatIsWrittenAfterTheStreamStoppedUntilItIsReleased) {
  const auto p = plan("retention-idle");
  stream_to_current(p, shared_source());
  auto before = engine_.log_retention(p);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_TRUE(before->held);
  EXPECT_FALSE(before->safe_bytes.has_value()) << "max_slot_wal_keep_size is -1 on this server";

  shared_source().query("CREATE TABLE retention_idle (id int, pad text)");
  write_wal(shared_source(), "retention_idle", 40000);  // ~12 MiB of WAL
  auto after = engine_.log_retention(p);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_GE(after->retained_bytes, before->retained_bytes + 8 * kMiB);

  // Streaming again confirms the WAL, and the slot lets it go.
  stream_to_current(p, shared_source());
  auto drained = engine_.log_retention(p);
  ASSERT_TRUE(drained.ok());
  EXPECT_LT(drained->retained_bytes, after->retained_bytes);

  ASSERT_TRUE(engine_.release_log(p).ok());
  auto released = engine_.log_retention(p);
  ASSERT_TRUE(released.ok());
  EXPECT_FALSE(released->held);
}

TEST_F(PostgresLogRetention, MaxSlotWalKeepSizeShowsHowMuchMayStillBeWrittenAndWhenTheWalIsLost) {
  std::string error;
  auto server = PgServer::create(&error, "max_slot_wal_keep_size = 48MB\nmax_wal_size = 32MB\nmin_wal_size = 32MB\n");
  ASSERT_TRUE(server) << error;
  auto p = plan("retention-bounded");
  p.source = server->endpoint();
  stream_to_current(p, *server);
  auto fresh = engine_.log_retention(p);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  ASSERT_TRUE(fresh->safe_bytes.has_value());
  EXPECT_GT(*fresh->safe_bytes, 16 * kMiB);
  EXPECT_FALSE(fresh->lost);

  // Far more WAL than the slot may keep, then a checkpoint that removes it.
  server->query("CREATE TABLE retention_bounded (id int, pad text)");
  for (int i = 0; i < 4; ++i) write_wal(*server, "retention_bounded", 80000);
  server->query("CHECKPOINT");
  auto gone = engine_.log_retention(p);
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_TRUE(gone->held);
  EXPECT_TRUE(gone->lost);
  EXPECT_EQ(gone->safe_bytes.value_or(1), 0u);
}

}  // namespace
}  // namespace opendbs::testing
