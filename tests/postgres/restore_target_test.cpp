// The moment a physical restore is asked for against the set it starts from: a set holds nothing
// older than its consistent point, so a moment before it is refused before anything is written
// (PostgreSQL would otherwise stop at the set's end, a later moment than asked for).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "api/ops/restore_ranges.h"
#include "catalog/store.h"
#include "core/file.h"
#include "engine_harness.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/wal_names.h"
#include "jobs/log_barriers.h"

namespace opendbs::testing {
namespace {

namespace fs = std::filesystem;

class PostgresRestoreTarget : public EngineTest {
 protected:
  core::Status restore(const std::string& set_id, int64_t target_ms, const std::string& dir,
                       const std::string& plan_id = "target1") {
    engines::RestoreRequest request;
    request.set_id = set_id;
    request.target_ms = target_ms;
    request.target_dir = dir;
    request.log_fetch = log_fetch();
    Control control;
    return engine_.restore(plan(plan_id), *repo_, request, control);
  }
  std::string file(const std::string& path) {
    auto text = core::read_file(path);
    EXPECT_TRUE(text.ok()) << path;
    return text.ok() ? *text : "";
  }
  // The set and the log files in a catalog as the task runners record them (jobs/task_runners.cpp,
  // jobs/log_barriers.h): the latest report of each file wins.
  void record(const std::string& set_id, const engines::FullBackupResult& set, const std::vector<engines::LogFile>& files) {
    if (!catalog_) catalog_ = std::move(catalog::open_store(dir_ + "/catalog.db").value());
    ASSERT_TRUE(catalog_->transact([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_TRY(tx.put(catalog::Kind::backup_set,
                         {set_id, "A", "plan", "finish", set.consistent_ms,
                          {{"EndTime", set.consistent_ms}, {"_LogStartSeq", set.log_start_seq},
                           {jobs::kLogStartPosition, set.log_start_position}}}));
      for (const auto& f : files) {
        catalog::Record r{"plan-" + f.name, "A", "plan", f.status, f.start_ms, {{"_Seq", f.seq}, {"EndTime", f.end_ms}}};
        jobs::put_log_barriers(r.doc, f.barriers);
        OPENDBS_TRY(tx.put(catalog::Kind::log_file, r));
      }
      return {};
    }).ok());
  }
  // The restorable ranges DescribeRestoreRangeInfo answers for what record() holds.
  std::vector<api::ops::RestoreRange> ranges() {
    std::vector<api::ops::RestoreRange> out;
    EXPECT_TRUE(catalog_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(out, api::ops::restore_ranges(tx, "plan"));
      return {};
    }).ok());
    return out;
  }
  std::unique_ptr<catalog::Store> catalog_;
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

namespace opendbs::testing {
namespace {

// The set's own EndTime is a clock reading taken after the backup stopped: commits between the stop
// and that reading were missed when a restore to EndTime stopped where the backup ended (checker
// G14). With the WAL after the set stored, that moment replays like any other.
TEST_F(PostgresRestoreTarget, ARestoreToTheSetsEndTimeHoldsEveryCommitUpToItWhileTheSourceWrites) {
  std::string error;
  auto src = PgServer::create(&error, "track_commit_timestamp = on\n");
  ASSERT_TRUE(src) << error;
  src->query("CREATE TABLE ticks (id serial PRIMARY KEY)");
  auto p = plan("endtime");
  p.source = src->endpoint();
  LogBackupRunner runner(engine_, p, *repo_);
  ASSERT_TRUE(runner.wait_for([](const auto& files) { return !files.empty(); }, 20000));
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    auto conn = engines::postgres::PgConnection::open(src->endpoint(), engines::postgres::ConnectionKind::sql);
    if (!conn.ok()) return;
    while (writing) (void)(*conn)->query("INSERT INTO ticks DEFAULT VALUES");
  });
  Control control;
  auto full = full_backup(p, "endtime-full", control);
  sleep_ms(300);
  writing = false;
  writer.join();
  ASSERT_TRUE(full.ok()) << full.error().message;
  const std::string last = switch_wal(*src);
  ASSERT_TRUE(runner.completed(last, 20000)) << "segment " << last << " never completed";
  ASSERT_FALSE(runner.stop().ok());

  const int64_t end_ms = full->consistent_ms;
  const std::string expected = src->query(
      "SELECT count(*) FROM ticks WHERE pg_xact_commit_timestamp(xmin) <= " +
      engines::postgres::quote_literal(engines::postgres::pg_timestamp_literal(end_ms)) + "::timestamptz");
  ASSERT_NE(expected, "0");
  auto restored = restore_and_start(p, "endtime-full", end_ms);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->query("SELECT count(*) FROM ticks"), expected);
}

// A CREATE TABLESPACE after the full set: replaying it, PostgreSQL empties the directory at the path
// the source used and links the tablespace there — on the node, possibly the source's own live
// tablespace (checker G20). The restore refuses such a moment before writing anything; a moment
// before the CREATE restores. The restorable ranges the API computes from the log backup's reports
// (api/ops/restore_ranges.h) say the same beforehand: the set's range ends at the latest moment the
// engine restores to, one millisecond later is refused, and a full set taken after the CREATE
// starts a range of its own.
TEST_F(PostgresRestoreTarget, AMomentAfterACreateTablespaceMadeAfterTheSetIsRefusedAndTheSourceKeepsItsFiles) {
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
  auto later = full_backup(p, "tsafter-later", control);  // holds the tablespace
  ASSERT_TRUE(later.ok()) << later.error().message;
  src.query("INSERT INTO before_ts VALUES (13)");
  sleep_ms(50);
  const int64_t after_later = now_ms();
  src.query("INSERT INTO before_ts VALUES (14)");
  const std::string last = switch_wal(src);
  ASSERT_TRUE(runner.completed(last, 20000)) << "segment " << last << " never completed";
  ASSERT_FALSE(runner.stop().ok());

  record("tsafter-full", *full, runner.files());
  record("tsafter-later", *later, {});
  const auto r = ranges();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].full_set_ids, std::vector<std::string>{"tsafter-full"});
  EXPECT_EQ(r[0].begin_ms, full->consistent_ms);
  EXPECT_GE(r[0].end_ms, before);
  EXPECT_LT(r[0].end_ms, after);
  EXPECT_NE(r[0].cut_by().find(location), std::string::npos) << r[0].cut_by();
  EXPECT_TRUE(api::ops::base_sets_for(r, after).empty()) << "a moment the engine refuses is offered";
  EXPECT_EQ(r[1].full_set_ids, std::vector<std::string>{"tsafter-later"});
  EXPECT_EQ(r[1].begin_ms, later->consistent_ms);
  EXPECT_EQ(api::ops::base_sets_for(r, after_later), std::vector<std::string>{"tsafter-later"});

  for (const int64_t refused_at : {after, r[0].end_ms + 1}) {
    const std::string refused_dir = dir_ + "/refused";
    const auto refused = restore("tsafter-full", refused_at, refused_dir, "tsafter");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "InvalidParameter");
    for (const std::string& part : {std::string("CREATE TABLESPACE"), std::string("a moment before"), location,
                                    "at the latest " + engines::postgres::pg_timestamp_literal(r[0].end_ms)})
      EXPECT_NE(refused.error().message.find(part), std::string::npos) << part << " not in: " << refused.error().message;
    EXPECT_FALSE(fs::exists(refused_dir));
  }
  EXPECT_EQ(src.query("SELECT count(*) FROM in_ts"), "1000");

  // The range's end, the latest moment offered: 11 rows (the commit of 12 came after it), no tablespace.
  auto restored = restore_and_start(p, "tsafter-full", r[0].end_ms);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->query("SELECT count(*) FROM before_ts"), "11");
  EXPECT_EQ(restored->query("SELECT count(*) FROM pg_tablespace WHERE spcname = 'ts_after'"), "0");
  restored->stop();
  src.query("DROP TABLE in_ts");
  src.query("DROP TABLESPACE ts_after");
  EXPECT_EQ(src.query("SELECT count(*) FROM before_ts"), "14");
}

// Restores are exact to the millisecond asked for: a commit at 12.3455 s is after a RestoreTime of
// 12.345 (and replayed by one of 12.346). The segments' last commit times are rounded up for that:
// rounded down, the segment seemed to hold nothing after 12.345, so recovery got no target and
// replayed the commit (checker round 5).
TEST_F(PostgresRestoreTarget, ACommitLaterInTheMillisecondAskedForIsNotRestoredAndOneAtTheNextIs) {
  std::string error;
  auto src = PgServer::create(&error, "track_commit_timestamp = on\n");
  ASSERT_TRUE(src) << error;
  src->query("CREATE TABLE edge (id int PRIMARY KEY)");
  auto p = plan("msedge");
  p.source = src->endpoint();
  LogBackupRunner log(engine_, p, *repo_);
  ASSERT_TRUE(log.wait_for([](const auto& files) { return !files.empty(); }, 20000));
  Control control;
  auto full = full_backup(p, "edge-full", control);
  ASSERT_TRUE(full.ok()) << full.error().message;
  src->query("INSERT INTO edge VALUES (0)");
  int64_t micros = 0;
  int id = 1;
  for (; id < 50; ++id) {  // a commit that is not on a whole millisecond (999 in 1000 are not)
    src->query("INSERT INTO edge VALUES (" + std::to_string(id) + ")");
    micros = std::stoll(src->query("SELECT (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000000)::bigint "
                                   "FROM edge WHERE id = " + std::to_string(id)));
    if (micros % 1000 != 0) break;
  }
  ASSERT_NE(micros % 1000, 0);
  const int64_t floor_ms = micros / 1000;
  src->query("SELECT pg_switch_wal()");
  ASSERT_TRUE(log.wait_for([&](const auto& files) {
    return std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.end_ms > floor_ms; });
  }, 20000));
  (void)log.stop();

  const std::string count = "SELECT count(*) FROM edge WHERE id = " + std::to_string(id);
  auto before = restore_and_start(p, "edge-full", floor_ms);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->query(count), "0") << "restored to " << floor_ms << ", the commit was at " << micros << " us";
  EXPECT_EQ(before->query("SELECT count(*) FROM edge WHERE id = 0"), "1");
  before.reset();
  auto after = restore_and_start(p, "edge-full", floor_ms + 1);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->query(count), "1");
}

}  // namespace
}  // namespace opendbs::testing
