// What the WAL scanner reads from real segments, and the times of WAL without transactions: the
// first segment a new plan's slot streams was often finished by the server before the stream began
// and holds no commit, only a checkpoint. Its StartTime/EndTime are that checkpoint's start (nothing
// later precedes it), not 0, which showed in DescribeIncrementBackupList and made retention expire
// the file at once.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engines/postgres/wal_names.h"
#include "engines/postgres/wal_scanner.h"
#include "own_source.h"

namespace opendbs::testing {
namespace {

// A checkpoint in a segment the server then finishes: {segment, the checkpoint's start in ms}.
std::pair<std::string, int64_t> checkpoint_and_switch(const PgServer& server) {
  server.query("CHECKPOINT");
  const std::string segment = server.query("SELECT pg_walfile_name(checkpoint_lsn) FROM pg_control_checkpoint()");
  const int64_t ms =
      std::stoll(server.query("SELECT extract(epoch FROM checkpoint_time)::bigint FROM pg_control_checkpoint()")) * 1000;
  server.query("SELECT pg_switch_wal()");
  return {segment, ms};
}

// CheckPoint's layout up to `time` is the same on 12-17; each installed major is read here.
TEST(WalScannerCheckpoints, TheScannerReadsTheStartOfTheCheckpointsInARealSegmentOfEveryMajor) {
  int tried = 0;
  for (int major : {12, 13, 14, 15, 16, 17}) {
    const std::string bin = server_bin_dir(major);
    if (bin.empty()) continue;
    std::string error;
    auto server = PgServer::create(&error, "", bin);
    ASSERT_TRUE(server) << major << ": " << error;
    const auto [segment, checkpoint_ms] = checkpoint_and_switch(*server);
    std::ifstream in(server->data_dir() + "/pg_wal/" + segment, std::ios::binary);
    ASSERT_TRUE(in) << segment;
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string wal = bytes.str();
    engines::postgres::WalScanner scanner(0, wal.size());
    scanner.feed(wal);
    EXPECT_EQ(scanner.checkpoint_ms(), checkpoint_ms) << "PostgreSQL " << major;
    scanner.reset_times();
    EXPECT_EQ(scanner.checkpoint_ms(), -1);
    ++tried;
  }
  EXPECT_GE(tried, 1);
}

std::string read_segment(const PgServer& server, const std::string& name) {
  std::ifstream in(server.data_dir() + "/pg_wal/" + name, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A segment that begins inside a record (the long page header's XLP_FIRST_IS_CONTRECORD and
// xlp_rem_len): the scanner skips the record's rest and finds the transactions after it. It used to
// parse the rest as a record (it read the flag only from a header it never had, and xlp_rem_len at
// the wrong offset), found no transaction in the whole segment, and point-in-time restores then
// stopped in the wrong place.
TEST(WalScannerCheckpoints, ASegmentBeginningInsideARecordStillYieldsItsTransactions) {
  std::string error;
  auto server = PgServer::create(&error);
  ASSERT_TRUE(server) << error;
  // CREATE DATABASE logs the template's pages as ~8 KiB records: one of them soon spans a boundary.
  std::string segment;
  for (int i = 0; i < 40 && segment.empty(); ++i) {
    const std::string before = server->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
    server->query("CREATE DATABASE spans_" + std::to_string(i));
    const std::string after = server->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
    if (after == before) continue;
    const std::string head = read_segment(*server, after).substr(0, 4);
    if (head.size() == 4 && (static_cast<unsigned char>(head[2]) & 0x01)) segment = after;  // xlp_info
  }
  ASSERT_FALSE(segment.empty()) << "no segment began inside a record";
  const int64_t before_commits = now_ms();
  server->query("CREATE TABLE t (x int)");
  server->query("INSERT INTO t VALUES (1)");
  ASSERT_EQ(server->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())"), segment);
  server->query("SELECT pg_switch_wal()");
  const std::string wal = read_segment(*server, segment);
  engines::postgres::WalScanner scanner(0, wal.size());
  scanner.feed(wal);
  EXPECT_GT(scanner.first_xact_ms(), 0);
  EXPECT_GE(scanner.last_xact_ms(), before_commits - 5);
  EXPECT_LE(scanner.last_xact_ms(), now_ms() + 1);  // the last commit's millisecond, rounded up
}

class WalWithoutTransactions : public OwnSourceTest {};

TEST_F(WalWithoutTransactions, TheFirstSegmentANewSlotStreamsIsTimedByItsCheckpointNotZero) {
  const auto p = source_plan("firstseg");
  // The slot reserves WAL from the checkpoint's redo; the server finishes that segment before the
  // log backup starts streaming it.
  source_->query("CHECKPOINT");
  source_->query("SELECT pg_create_physical_replication_slot('" + engines::postgres::slot_name(p.plan_id) + "', true)");
  const std::string segment = source_->query("SELECT pg_walfile_name(restart_lsn) FROM pg_replication_slots");
  const int64_t checkpoint_ms =
      std::stoll(source_->query("SELECT extract(epoch FROM checkpoint_time)::bigint FROM pg_control_checkpoint()")) * 1000;
  source_->query("SELECT pg_switch_wal()");
  // The server has moved past it when it is sent: what it sends then says nothing of its time.
  source_->query("CREATE TABLE after_first (x int)");

  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(runner.completed(segment, 30000)) << segment;
  for (const auto& f : runner.files()) {
    if (f.name != segment || f.status != "COMPLETED") continue;
    EXPECT_GE(f.end_ms, checkpoint_ms) << "EndTime";
    EXPECT_LE(f.end_ms, now_ms());
    EXPECT_GE(f.start_ms, checkpoint_ms) << "StartTime";
    EXPECT_LE(f.start_ms, f.end_ms);
  }
  // The next segment starts where it ended.
  const std::string next = switch_wal();
  ASSERT_TRUE(runner.completed(next, 30000)) << next;
  for (const auto& f : runner.files()) {
    if (f.name == next && f.status == "COMPLETED") {
      EXPECT_GE(f.start_ms, checkpoint_ms);
    }
  }
  const auto stopped = runner.stop();
  EXPECT_EQ(stopped.ok() ? "" : stopped.error().code, "Cancelled");
}

}  // namespace
}  // namespace opendbs::testing
