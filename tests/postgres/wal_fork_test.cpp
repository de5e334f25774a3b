// The source is restored to an earlier moment (a point-in-time recovery of the source itself, with
// opendbs, into its own data directory) and carries on as the plan's source: its new timeline forks
// from WAL the log backup had already stored beyond that point. The repository then holds the old
// timeline's abandoned WAL and the new timeline from the fork, and a restore to any moment returns
// what the source held then.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "own_source.h"

namespace opendbs::testing {
namespace {

class PostgresWalFork : public OwnSourceTest {
 protected:
  void SetUp() override {
    OwnSourceTest::SetUp();
    if (source_) source_->query("CREATE TABLE marks (at timestamptz)");  // written to close segments
  }
  void TearDown() override {
    runner_.reset();  // stops a log backup a failed test left running, before its repository goes
    OwnSourceTest::TearDown();
  }
  // The accounts table, a log backup streaming from the source (runner_) and the full set
  // "<plan>-full" taken while it runs.
  void begin_backups(const engines::PlanSpec& p) {
    source_->query("CREATE TABLE accounts (id int PRIMARY KEY, balance int)");
    source_->query("INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 1000) g");
    runner_ = std::make_unique<LogBackupRunner>(engine_, p, *repo_);
    ASSERT_TRUE(runner_->wait_for([](const auto& files) { return !files.empty(); }, 20000));
    Control control;
    auto full = full_backup(p, p.plan_id + "-full", control);
    ASSERT_TRUE(full.ok()) << full.error().message;
  }
  // Runs `sql` and records the moment after it, with the table's checksum then.
  void change(const std::string& sql, const std::string& moment) {
    source_->query(sql);
    sleep_ms(50);
    moments_[moment] = {now_ms(), source_->checksum("accounts")};
    sleep_ms(50);
  }
  void remember(const std::string& moment) { moments_[moment] = {now_ms(), source_->checksum("accounts")}; }

  // What an operator does to take the source back to `target_ms`: stop it, restore the plan's full
  // set into its own data directory (a delta restore) and start it there. Recovery promotes it to a
  // new timeline; it keeps its port, system identifier and the plan.
  // `down`: a moment to remember while the source is stopped, holding what it held last.
  void restore_source_to(const engines::PlanSpec& p, const std::string& set_id, int64_t target_ms,
                         const std::string& down = "") {
    const std::string last_state = source_->checksum("accounts");
    source_->stop();
    if (!down.empty()) {
      sleep_ms(500);
      moments_[down] = {now_ms(), last_state};
      sleep_ms(1000);
    }
    engines::RestoreRequest request;
    request.set_id = set_id;
    request.target_ms = target_ms;
    request.target_dir = source_->data_dir();
    request.log_fetch = log_fetch();
    Control control;
    auto st = engine_.restore(p, *repo_, request, control);
    ASSERT_TRUE(st.ok()) << st.error().message;
    share_repository_with_server();
    if (::geteuid() == 0) {
      ASSERT_EQ(std::system(("chown -R postgres: " + source_->data_dir()).c_str()), 0);
    }
    std::string error;
    ASSERT_TRUE(source_->start(&error)) << error;
    for (int i = 0; i < 400 && source_->query("SELECT pg_is_in_recovery()") == "t"; ++i) sleep_ms(50);
    ASSERT_EQ(source_->query("SELECT pg_is_in_recovery()"), "f") << source_->log_tail();
  }
  // Closes the segment being written (after writing something, so that there is one) and waits
  // until the log backup stored it whole.
  void store_segment() {
    source_->query("INSERT INTO marks VALUES (now())");
    const std::string name = switch_wal();
    ASSERT_TRUE(runner_->completed(name, 60000)) << name << " never completed";
  }
  // Restores `set_id` to each moment and compares the table with the source's checksum then.
  void expect_restores(const engines::PlanSpec& p, const std::string& set_id, const std::vector<std::string>& names) {
    for (const auto& name : names) {
      SCOPED_TRACE("restore to moment " + name);
      auto restored = restore_and_start(p, set_id, moments_.at(name).first);
      ASSERT_TRUE(restored);
      EXPECT_EQ(restored->checksum("accounts"), moments_.at(name).second);
    }
  }
  std::unique_ptr<LogBackupRunner> runner_;
  std::map<std::string, std::pair<int64_t, std::string>> moments_;  // name → (unix ms, checksum)
};

// Timeline 1 goes on for two more segments after the moment the source is taken back to; timeline 2
// forks there. Every moment: before the fork, on the abandoned branch of timeline 1, while the source
// was down, after the promotion (before and after timeline 2's first transaction).
TEST_F(PostgresWalFork, ASourceRestoredToAnEarlierMomentForksAndEveryMomentRestoresWhatTheSourceHeld) {
  const auto p = source_plan("fork1");
  ASSERT_NO_FATAL_FAILURE(begin_backups(p));

  change("UPDATE accounts SET balance = balance + 1 WHERE id <= 100", "before-fork");
  change("UPDATE accounts SET balance = balance + 2 WHERE id <= 200", "fork");  // the source returns here
  change("UPDATE accounts SET balance = 0 WHERE id > 900", "abandoned-1");
  const std::string fork_segment = source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  change("DELETE FROM accounts WHERE id % 3 = 0", "abandoned-2");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  // Timeline 1's last change is durable only in a partial set of the segment still filling.
  change("INSERT INTO accounts SELECT g, 5 FROM generate_series(1001, 1100) g", "abandoned-end");
  const std::string abandoned_end = source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
  sleep_ms(1000);
  remember("idle");  // timeline 1's last state, while the source still runs

  ASSERT_NO_FATAL_FAILURE(restore_source_to(p, "fork1-full", moments_.at("fork").first, "down"));
  ASSERT_EQ(timeline_of(*source_), "00000002");
  ASSERT_EQ(source_->checksum("accounts"), moments_.at("fork").second);
  sleep_ms(1100);  // the promotion's own record may carry whole seconds
  remember("promoted");
  change("UPDATE accounts SET balance = balance * 10 WHERE id <= 50", "timeline-2");
  ASSERT_NO_FATAL_FAILURE(store_segment());
  change("DELETE FROM accounts WHERE id > 800", "timeline-2-later");
  // Timeline 2 reaches and passes the segment number of timeline 1's last, partial, segment.
  while (source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())").substr(8) <= abandoned_end.substr(8))
    ASSERT_NO_FATAL_FAILURE(store_segment());
  ASSERT_NO_FATAL_FAILURE(store_segment());
  ASSERT_EQ(runner_->stop().error().code, "Cancelled");

  // The stream followed the fork: the history file as the source has it, timeline 2 from the fork
  // point's segment, and timeline 1's WAL past the fork is still stored.
  EXPECT_EQ(stored("log-fork1-00000002.history"), source_->query("SELECT pg_read_file('pg_wal/00000002.history')"));
  const std::string tl2_first = "00000002" + fork_segment.substr(8);
  EXPECT_TRUE(repo_->load_manifest("log-fork1-" + tl2_first).ok()) << tl2_first;
  EXPECT_TRUE(repo_->load_manifest("log-fork1-" + fork_segment).ok()) << fork_segment;

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
