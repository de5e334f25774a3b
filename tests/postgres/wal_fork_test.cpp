// The source is restored to an earlier moment (a point-in-time recovery of the source itself, with
// opendbs, into its own data directory) and carries on as the plan's source: its new timeline forks
// from WAL the log backup had already stored beyond that point. The repository then holds the old
// timeline's abandoned WAL and the new timeline from the fork, and a restore to any moment returns
// what the source held then.
#include <gtest/gtest.h>

#include <map>

#include "fork_scenario.h"

namespace opendbs::testing {
namespace {

using PostgresWalFork = SourceForkTest;

// Every moment restores: before the fork, on the abandoned branch of timeline 1, while the source
// was down, after the promotion (before and after timeline 2's first transaction).
TEST_F(PostgresWalFork, ASourceRestoredToAnEarlierMomentForksAndEveryMomentRestoresWhatTheSourceHeld) {
  const auto p = source_plan("fork1");
  ASSERT_NO_FATAL_FAILURE(fork_and_carry_on(p));
  expect_restores(p, "fork1-full",
                  {"before-fork", "fork", "abandoned-1", "abandoned-2", "abandoned-end", "idle", "down", "promoted",
                   "timeline-2", "timeline-2-later"});
}

// The source is taken back three times: to a moment of timeline 1 (timeline 2), to an earlier
// moment of timeline 2 (timeline 3, a fork of the fork), and to a moment of timeline 1's abandoned
// WAL after the first fork (timeline 4, branching from timeline 1 again). Each restore of the source
// promotes to a number the plan does not hold yet, as wal-fetch serves every stored history file.
TEST_F(PostgresWalFork, ForksOfForksEachGetANewTimelineAndEveryBranchStaysRestorable) {
  const auto p = source_plan("fork2");
  std::map<std::string, std::string> histories;  // as the source had each one after its promotion
  ASSERT_NO_FATAL_FAILURE(begin_backups(p));

  change("UPDATE accounts SET balance = 1 WHERE id <= 100", "t1");
  change("UPDATE accounts SET balance = 2 WHERE id <= 200", "t1-fork");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  change("UPDATE accounts SET balance = 3 WHERE id > 900", "t1-abandoned");
  change("DELETE FROM accounts WHERE id % 7 = 0", "t1-end");
  ASSERT_NO_FATAL_FAILURE(store_segment());

  ASSERT_NO_FATAL_FAILURE(restore_source_to(p, "fork2-full", moments_.at("t1-fork").first));
  ASSERT_EQ(timeline_of(*source_), "00000002");
  histories["00000002.history"] = source_->query("SELECT pg_read_file('pg_wal/00000002.history')");
  sleep_ms(1100);
  change("UPDATE accounts SET balance = 20 WHERE id <= 20", "t2");
  change("UPDATE accounts SET balance = 21 WHERE id > 990", "t2-fork");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  change("DELETE FROM accounts WHERE id % 5 = 0", "t2-abandoned");
  ASSERT_NO_FATAL_FAILURE(store_segment());

  ASSERT_NO_FATAL_FAILURE(restore_source_to(p, "fork2-full", moments_.at("t2-fork").first));
  ASSERT_EQ(timeline_of(*source_), "00000003");
  histories["00000003.history"] = source_->query("SELECT pg_read_file('pg_wal/00000003.history')");
  ASSERT_EQ(source_->checksum("accounts"), moments_.at("t2-fork").second);
  sleep_ms(1100);
  change("UPDATE accounts SET balance = 30 WHERE id <= 30", "t3");
  ASSERT_NO_FATAL_FAILURE(store_segment());

  ASSERT_NO_FATAL_FAILURE(restore_source_to(p, "fork2-full", moments_.at("t1-abandoned").first));
  ASSERT_EQ(timeline_of(*source_), "00000004");
  histories["00000004.history"] = source_->query("SELECT pg_read_file('pg_wal/00000004.history')");
  ASSERT_EQ(source_->checksum("accounts"), moments_.at("t1-abandoned").second);
  sleep_ms(1100);
  change("UPDATE accounts SET balance = 40 WHERE id <= 40", "t4");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  ASSERT_EQ(runner_->stop().error().code, "Cancelled");

  for (const auto& [name, text] : histories)
    EXPECT_EQ(stored("log-fork2-" + name), text) << name;
  const std::string tl3 = histories["00000003.history"], tl4 = histories["00000004.history"];
  EXPECT_NE(tl3.find("\n2\t"), std::string::npos) << "timeline 3 branches off timeline 2: " << tl3;
  EXPECT_EQ(tl4.rfind("1\t", 0), 0u) << "timeline 4 branches off timeline 1: " << tl4;
  EXPECT_EQ(tl4.find("\n2\t"), std::string::npos) << tl4;
  expect_restores(p, "fork2-full",
                  {"t1", "t1-fork", "t1-abandoned", "t1-end", "t2", "t2-fork", "t2-abandoned", "t3", "t4"});
}

// Timeline 1 ends where the source was promoted (its last segment stored as "<segment>.partial"),
// then the source is taken back to a moment of timeline 1 before that end, in the same segment:
// timeline 3 branches off timeline 1 inside the segment whose stored end is the .partial.
TEST_F(PostgresWalFork, AForkFromBeforeAnOldTimelinesEndReadsItsPartialSegmentAndKeepsEveryBranch) {
  const auto p = source_plan("fork3");
  ASSERT_NO_FATAL_FAILURE(begin_backups(p));

  change("UPDATE accounts SET balance = 1 WHERE id <= 100", "t1");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  const std::string end_segment = source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  change("UPDATE accounts SET balance = 2 WHERE id <= 200", "t1-fork");
  change("DELETE FROM accounts WHERE id % 4 = 0", "t1-last");
  ASSERT_NO_FATAL_FAILURE(promote_source(true));
  ASSERT_EQ(timeline_of(*source_), "00000002");
  ASSERT_TRUE(runner_->completed(end_segment + ".partial", 30000)) << "timeline 1's end was not stored";
  sleep_ms(1100);
  change("UPDATE accounts SET balance = 20 WHERE id > 900", "t2");
  ASSERT_NO_FATAL_FAILURE(store_segment());

  ASSERT_NO_FATAL_FAILURE(restore_source_to(p, "fork3-full", moments_.at("t1-fork").first, "t2-down"));
  ASSERT_EQ(timeline_of(*source_), "00000003");
  ASSERT_EQ(source_->checksum("accounts"), moments_.at("t1-fork").second);
  const std::string history = source_->query("SELECT pg_read_file('pg_wal/00000003.history')");
  EXPECT_EQ(history.rfind("1\t", 0), 0u) << history;
  sleep_ms(1100);
  change("UPDATE accounts SET balance = 30 WHERE id <= 30", "t3");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  ASSERT_EQ(runner_->stop().error().code, "Cancelled");

  EXPECT_EQ(stored("log-fork3-00000003.history"), history);
  EXPECT_TRUE(repo_->load_manifest("log-fork3-00000003" + end_segment.substr(8)).ok()) << "timeline 3's first segment";
  expect_restores(p, "fork3-full", {"t1", "t1-fork", "t1-last", "t2", "t2-down", "t3"});
}

}  // namespace
}  // namespace opendbs::testing
