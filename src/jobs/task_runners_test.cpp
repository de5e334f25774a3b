// run_log_backup's records of log files (what DescribeIncrementBackupList shows) against a real SQLite
// catalog, with an engine that reports a scripted sequence of files per session: the file filling when
// a session ends, a resumed session reopening it, a segment a session skipped over and one a timeline
// fork left (its partial set kept); and
// run_release_log when log backup was enabled again before it ran.
#include "engines/unscripted_engine.h"
#include "jobs/task_runners.h"
#include "jobs/log_barriers.h"
#include "jobs/slot_release.h"
#include "jobs/plan_spec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/clock.h"
#include "core/errors.h"
#include "core/ids.h"
#include "jobs/restore_dir_lock.h"
#include "repo/backend/local_backend.h"
#include "repo/test_support.h"

namespace opendbs::jobs {
namespace {

namespace fs = std::filesystem;
using catalog::Kind;

constexpr int64_t kSegment = 16 << 20;

// Each log_backup call reports the next session's files in order, then returns as if stopped.
class ScriptedLogEngine final : public engines::testing::UnscriptedEngine {
 public:
  std::vector<std::vector<engines::LogFile>> sessions;
  std::function<void(const engines::LogFile&)> before_report = [](const engines::LogFile&) {};

  core::Status log_backup(const engines::PlanSpec&, repo::Repository&, engines::TaskControl&,
                          const std::function<core::Status(const engines::LogFile&)>& on_file) override {
    const bool fails = failing_sessions.contains(next_);
    const auto files = sessions.at(next_++);
    for (const auto& f : files) {
      before_report(f);
      OPENDBS_TRY(on_file(f));
    }
    if (fails) return core::errors::io("gave up after 6 attempts: GET http://127.0.0.1:18890/ Couldn't connect");
    return {};
  }
  std::set<size_t> failing_sessions;  // the sessions that end failing, after reporting their files
  // A full backup that stores nothing and reports this result.
  engines::FullBackupResult full_result;
  core::Result<engines::FullBackupResult> full_backup(const engines::PlanSpec&, repo::SetWriter&,
                                                      engines::TaskControl&) override {
    return full_result;
  }
  // Refuses the sets in `unreachable` as the PostgreSQL engine refuses a set a fork abandoned.
  core::Status restore(const engines::PlanSpec&, repo::Repository&, const engines::RestoreRequest& request,
                       engines::TaskControl& control) override {
    restored_from.push_back(request.set_id);
    if (!cleanup_when_stopped.empty()) {  // stopped part way, as by StopBackupPlan ALL
      dynamic_cast<LocalTask&>(control).cancel("StopBackupPlan");
      return core::make_error("Cancelled", "cancelled; " + cleanup_when_stopped);
    }
    if (unreachable.contains(request.set_id))
      return engines::base_set_cannot_reach("at RestoreTime 2026-11-28 10:00:00+00 the source was on timeline 3");
    if (request.set_id == failing) return core::errors::io("disk full");
    for (const auto& w : warnings) control.warning(w);
    return {};
  }
  std::vector<std::string> warnings;
  std::set<std::string> unreachable;
  std::string failing;
  std::string cleanup_when_stopped;
  std::vector<std::string> restored_from;
  core::Status release_log(const engines::PlanSpec&) override {
    ++releases;
    return {};
  }
  int releases = 0;

 private:
  size_t next_ = 0;
};

engines::LogFile segment(int64_t seq, const std::string& status, int64_t start_ms, int64_t end_ms, uint64_t size,
                         int timeline = 1, const std::string& suffix = "") {
  return {"0000000" + std::to_string(timeline) + "00000000000000" + std::to_string(seq) + suffix, seq, start_ms, end_ms,
          size, status};
}

class LogFileRecords : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("opendbs-logrec-" + core::random_alnum(8));
    fs::create_directories(dir_);
    store_ = std::move(catalog::open_store((dir_ / "catalog.db").string()).value());
    repository_ = repo::testing::init_test_repository((dir_ / "repo").string());
    engines_.add("Scripted", engine_);
    plan_ = catalog::Record{"dbsplan1", "A", "", "running", 1, {}};
    plan_.doc = {{"BackupPlanId", plan_.id}, {"DatabaseType", "Scripted"}, {"BackupRetentionPeriod", 7},
                 {"SourceEndpointIpPort", "127.0.0.1:5432"}};
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::plan, plan_); }).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  // One log backup session (a task of its own) running the engine's next script.
  void run_session(const std::string& task_id, Outcome expected = Outcome::succeeded) {
    TaskEnv env{*store_, box_, *repository_, engines_, clock_};
    catalog::Record task{task_id, "A", plan_.id, "running", 1, {}};
    LocalTask control(task_id, "log_backup", plan_.id);
    const auto result = run_log_backup(env, task, control);
    ASSERT_EQ(result.outcome, expected) << result.err_message;
  }
  // A full backup of the plan finishing with the engine's full_result.
  void run_full_backup_task(const std::string& set_id) {
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) {
      return tx.put(Kind::backup_set, catalog::Record{set_id, "A", plan_.id, "init", 1, {{"BackupSetId", set_id}}});
    }).ok());
    TaskEnv env{*store_, box_, *repository_, engines_, clock_};
    catalog::Record task{set_id, "A", plan_.id, "running", 1, {}};
    LocalTask control(set_id, "full_backup", plan_.id);
    const auto result = run_full_backup(env, task, control);
    ASSERT_EQ(result.outcome, Outcome::succeeded) << result.err_message;
  }
  std::string plan_message() {
    std::string out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto p, tx.get(Kind::plan, plan_.id));
      if (p && p->doc.contains("ErrMessage")) out = std::string(p->doc.at("ErrMessage").as_string());
      return {};
    }).ok());
    return out;
  }

  boost::json::object file(int64_t seq, int timeline = 1, const std::string& suffix = "") {
    return named_file(segment(seq, "", 0, 0, 0, timeline, suffix).name);
  }
  boost::json::object named_file(const std::string& name) {
    boost::json::object out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto r, tx.get(Kind::log_file, plan_.id + "-" + name));
      if (r) out = r->doc;
      return {};
    }).ok());
    return out;
  }

  // The file of segment `seq` ended UNCOMPLETED claiming nothing: no bytes, EndTime 0.
  void expect_holds_nothing(int64_t seq, int timeline = 1) {
    const auto f = file(seq, timeline);
    EXPECT_EQ(f.at("BackupStatus"), "UNCOMPLETED");
    EXPECT_EQ(f.at("EndTime").as_int64(), 0);
    EXPECT_EQ(f.at("BackupSize").as_int64(), 0);
  }

  // A partial set of segment `seq` (timeline 1) holding `bytes`, as the engine stores one; returns its id.
  std::string store_partial(int64_t seq, int bytes) {
    const std::string id = engines::log_partial_prefix(plan_.id, segment(seq, "", 0, 0, 0).name) + std::to_string(bytes);
    auto set = repository_->begin_set(id).value();
    auto stream = set->add_stream("segment", repo::FileMeta{static_cast<uint64_t>(bytes), 0600, 0}).value();
    EXPECT_TRUE(stream->write(std::string(bytes, 'w')).ok());
    EXPECT_TRUE(stream->close().ok());
    EXPECT_TRUE(set->commit({{"engine", "scripted"}}).ok());
    return id;
  }

  fs::path dir_;
  core::ManualClock clock_{1700000000000};
  std::unique_ptr<catalog::Store> store_;
  iam::SecretBox box_ = iam::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<repo::Repository> repository_;
  std::shared_ptr<ScriptedLogEngine> engine_ = std::make_shared<ScriptedLogEngine>();
  engines::EngineRegistry engines_;
  catalog::Record plan_;
};

// A session that completes segment 10 and stores segment 11 up to 200 bytes (ending at 1800) before it ends.
const std::vector<engines::LogFile> kFirstSession = {
    segment(10, "COMPLETED", 500, 1000, kSegment), segment(11, "FILLING", 1000, 1000, 0),
    segment(11, "FILLING", 1000, 1500, 100), segment(11, "FILLING", 1000, 1800, 200)};

TEST_F(LogFileRecords, TheFileFillingWhenASessionEndsIsUncompletedWithWhatItsLastPartialHolds) {
  engine_->sessions = {kFirstSession};
  run_session("task1");
  EXPECT_EQ(file(10).at("BackupStatus"), "COMPLETED");
  const auto last = file(11);
  EXPECT_EQ(last.at("BackupStatus"), "UNCOMPLETED");
  EXPECT_EQ(last.at("EndTime").as_int64(), 1800);
  EXPECT_EQ(last.at("BackupSize").as_int64(), 200);
  EXPECT_EQ(last.at("BackupSetJobId"), "task1");
}

TEST_F(LogFileRecords, AResumedSessionKeepsClaimingTheEarlierPartialUntilItStoresMore) {
  engine_->sessions = {kFirstSession,
                       // reopens 11 and ends before anything new arrives
                       {segment(10, "COMPLETED", 500, 1000, kSegment), segment(11, "FILLING", 1000, 1000, 0)},
                       // reopens 11 again, stores more of it and completes it
                       {segment(11, "FILLING", 1000, 1000, 0), segment(11, "FILLING", 1000, 2500, 300),
                        segment(11, "COMPLETED", 1000, 3000, kSegment), segment(12, "FILLING", 3000, 3000, 0)}};
  run_session("task1");
  run_session("task2");
  auto reopened = file(11);
  EXPECT_EQ(reopened.at("BackupStatus"), "UNCOMPLETED");
  EXPECT_EQ(reopened.at("EndTime").as_int64(), 1800);
  EXPECT_EQ(reopened.at("BackupSize").as_int64(), 200);
  EXPECT_EQ(reopened.at("BackupSetJobId"), "task2");
  run_session("task3");
  const auto completed = file(11);
  EXPECT_EQ(completed.at("BackupStatus"), "COMPLETED");
  EXPECT_EQ(completed.at("EndTime").as_int64(), 3000);
  EXPECT_EQ(completed.at("BackupSize").as_int64(), kSegment);
  EXPECT_EQ(file(12).at("BackupStatus"), "UNCOMPLETED");
}

// A log barrier (a CREATE TABLESPACE, engine.h) is kept in the file's record for the restore ranges,
// also while a resumed session has not received the part of the segment that holds it.
TEST_F(LogFileRecords, AFilesLogBarriersAreRecordedAndKeptByAResumedSessionUntilItStoresMore) {
  const auto with_barrier = [](engines::LogFile f) {
    f.barriers = {{11 * kSegment + 50, 1400, "CREATE TABLESPACE (oid 16390, location /ts)"}};
    return f;
  };
  engine_->sessions = {{segment(10, "COMPLETED", 500, 1000, kSegment), segment(11, "FILLING", 1000, 1000, 0),
                        with_barrier(segment(11, "FILLING", 1000, 1500, 100))},
                       {segment(11, "FILLING", 1000, 1000, 0)},
                       {segment(11, "FILLING", 1000, 1000, 0), with_barrier(segment(11, "COMPLETED", 1000, 3000, kSegment))}};
  const auto expect_barrier = [&](const char* when) {
    const auto barriers = log_barriers_of(file(11));
    ASSERT_EQ(barriers.size(), 1u) << when;
    EXPECT_EQ(barriers[0].position, 11 * kSegment + 50) << when;
    EXPECT_EQ(barriers[0].latest_ms, 1400) << when;
    EXPECT_EQ(barriers[0].what, "CREATE TABLESPACE (oid 16390, location /ts)") << when;
  };
  run_session("task1");
  expect_barrier("after the first session");
  EXPECT_TRUE(log_barriers_of(file(10)).empty());
  run_session("task2");
  expect_barrier("after a session that received nothing of it");
  run_session("task3");
  expect_barrier("once completed");
  EXPECT_EQ(file(11).at(kHasLogBarrier), "yes");
}

TEST_F(LogFileRecords, AFileRecordedAfterTheRetentionChangedExpiresByTheNewRetention) {
  // ModifyStorageStrategy (7 -> 30 days) while the session streams: the session loaded the plan before.
  engine_->sessions = {{segment(10, "COMPLETED", 500, 1000, kSegment), segment(11, "COMPLETED", 1000, 2000, kSegment)}};
  engine_->before_report = [&](const engines::LogFile& f) {
    if (f.seq != 11) return;
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) {
      plan_.doc["BackupRetentionPeriod"] = 30;
      return tx.put(Kind::plan, plan_);
    }).ok());
  };
  run_session("task1");
  EXPECT_EQ(file(10).at("BackupSetExpiredTime").as_int64(), 1000 + 7 * 86400000LL);
  EXPECT_EQ(file(11).at("BackupSetExpiredTime").as_int64(), 2000 + 30 * 86400000LL);
}

// A stream that begins on timeline 2 stores its history first, at no known switch moment (the engine
// reports 0): the file is given the moment it was stored, and expires from there.
TEST_F(LogFileRecords, AHistoryFileWithoutASwitchMomentGetsTheMomentItWasStored) {
  engine_->sessions = {{{"00000002.history", 11, 0, 0, 41, "COMPLETED"}, segment(12, "COMPLETED", 9000, 9500, kSegment, 2)}};
  run_session("task1");
  const auto history = named_file("00000002.history");
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.at("StartTime").as_int64(), clock_.now_ms());
  EXPECT_EQ(history.at("EndTime").as_int64(), clock_.now_ms());
  EXPECT_EQ(history.at("BackupSetExpiredTime").as_int64(), clock_.now_ms() + 7 * 86400000LL);
}

// At a switch inside the chain the history file takes the moment the old timeline's stored log ends,
// when the engine reports none.
TEST_F(LogFileRecords, AHistoryFileWithoutASwitchMomentInsideTheChainTakesTheOldTimelinesEnd) {
  engine_->sessions = {{segment(10, "COMPLETED", 500, 1000, kSegment), segment(11, "COMPLETED", 1000, 1500, 150, 1, ".partial"),
                        {"00000002.history", 11, 0, 0, 41, "COMPLETED"}}};
  run_session("task1");
  const auto history = named_file("00000002.history");
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.at("StartTime").as_int64(), 1500);
  EXPECT_EQ(history.at("EndTime").as_int64(), 1500);
  EXPECT_EQ(history.at("BackupSetExpiredTime").as_int64(), 1500 + 7 * 86400000LL);
}

TEST_F(LogFileRecords, ASegmentASessionSkippedOverEndsHoldingNothing) {
  // The second session finds the source's WAL gone and continues at segment 15.
  engine_->sessions = {kFirstSession, {segment(15, "FILLING", 9000, 9000, 0), segment(15, "FILLING", 9000, 9400, 50)}};
  run_session("task1");
  run_session("task2");
  expect_holds_nothing(11);
  EXPECT_EQ(file(10).at("EndTime").as_int64(), 1000);  // completed segments are kept as they are
  EXPECT_EQ(file(15).at("EndTime").as_int64(), 9400);
}

// full1 is rolled forward from segment 10; log backup ends inside 11, and when it runs again the
// source has removed the rest: the stream goes on at 15. Nothing after 11's end can be restored until a
// full set taken after the gap finished, and the plan's ErrMessage says so for that long.
TEST_F(LogFileRecords, AGapInTheLogChainStaysInThePlansMessageUntilAFullSetTakenAfterItFinished) {
  engine_->full_result = {700, {}, 10, 0};
  run_full_backup_task("full1");
  engine_->sessions = {kFirstSession, {segment(15, "FILLING", 9000, 9000, 0), segment(15, "FILLING", 9000, 9400, 50)},
                       {segment(15, "FILLING", 9000, 9600, 80), segment(15, "COMPLETED", 9000, 9700, kSegment),
                        segment(16, "FILLING", 9700, 9800, 10)}};
  run_session("task1");
  EXPECT_EQ(plan_message(), "");
  run_session("task2");
  const std::string gap = "the log chain has a gap at " + core::format_iso8601(1000);
  EXPECT_NE(plan_message().find(gap), std::string::npos) << plan_message();
  EXPECT_NE(plan_message().find("need a new full backup; StartBackupPlan takes one"), std::string::npos);

  engine_->full_result = {1500, {}, 11, 0};  // taken before the gap: its roll-forward meets it
  run_full_backup_task("full2");
  const std::string gap2 = "the log chain has a gap at " + core::format_iso8601(1500);
  EXPECT_NE(plan_message().find(gap2), std::string::npos) << plan_message();
  run_session("task3");
  EXPECT_NE(plan_message().find(gap2), std::string::npos) << plan_message();

  engine_->full_result = {9750, {}, 16, 0};
  run_full_backup_task("full3");
  EXPECT_EQ(plan_message(), "");
  engine_->sessions.push_back({segment(16, "COMPLETED", 9700, 9900, kSegment), segment(17, "FILLING", 9900, 9950, 10)});
  run_session("task4");
  EXPECT_EQ(plan_message(), "");
}

// A log backup task that gave up leaves why in the plan's ErrMessage; the next task of the plan that
// stores log again takes it out (other parts of the message stay).
TEST_F(LogFileRecords, ALogBackupFailureLeavesThePlansMessageOnceALaterTaskStreamsAgain) {
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto p, tx.get(Kind::plan, plan_.id));
    p->doc["ErrMessage"] = "full backup full9 failed: disk full";
    return tx.put(Kind::plan, *p);
  }).ok());
  engine_->failing_sessions = {0};
  engine_->sessions = {{segment(10, "FILLING", 500, 600, 10)}, {segment(10, "FILLING", 500, 700, 20)}};
  run_session("task1", Outcome::failed);
  EXPECT_EQ(plan_message(), "full backup full9 failed: disk full; log backup failed: gave up after 6 attempts: "
                            "GET http://127.0.0.1:18890/ Couldn't connect");
  run_session("task2");
  EXPECT_EQ(plan_message(), "full backup full9 failed: disk full");
}

TEST_F(LogFileRecords, TheOldTimelinesOpenSegmentGivesWayToItsTimelineEndFile) {
  // The source switches to timeline 2 inside segment 11: the old timeline's part of it becomes the
  // file "<name>.partial" (COMPLETED), and segment 11 of timeline 2 opens.
  engine_->sessions = {{segment(11, "FILLING", 1000, 1000, 0), segment(11, "FILLING", 1000, 1500, 100),
                        segment(11, "COMPLETED", 1000, 1700, 150, 1, ".partial"), segment(11, "FILLING", 1700, 1700, 0, 2),
                        segment(11, "FILLING", 1700, 2000, 400, 2)}};
  run_session("task1");
  expect_holds_nothing(11);
  EXPECT_EQ(file(11, 1, ".partial").at("BackupStatus"), "COMPLETED");
  const auto new_open = file(11, 2);
  EXPECT_EQ(new_open.at("BackupStatus"), "UNCOMPLETED");  // the session ended while it filled
  EXPECT_EQ(new_open.at("EndTime").as_int64(), 2000);
}

TEST_F(LogFileRecords, ASkippedSegmentWhosePartialSetIsForgottenLaterEndsHoldingNothing) {
  // The second session continues at segment 15 on the same timeline; the engine forgets segment 11's
  // partial set only once it has stored some of segment 15, after reporting segment 15 opened.
  const std::string partial = store_partial(11, 200);
  engine_->before_report = [&](const engines::LogFile& f) {
    if (f.seq == 15 && f.size > 0 && f.status == "FILLING") {
      EXPECT_TRUE(repository_->forget_set(partial).ok());
    }
  };
  engine_->sessions = {kFirstSession,
                       {segment(15, "FILLING", 9000, 9000, 0), segment(15, "FILLING", 9000, 9400, 50),
                        segment(15, "COMPLETED", 9000, 9500, kSegment), segment(16, "FILLING", 9500, 9500, 0)}};
  run_session("task1");
  run_session("task2");
  expect_holds_nothing(11);
}

TEST_F(LogFileRecords, ASegmentAForkLeftKeepsWhatItsStoredPartialSetHolds) {
  // The first session stores segment 11 of timeline 1 up to 200 bytes; its partial set stays in the
  // repository. The source is then taken back and promoted: timeline 2 forks off at segment 9 and
  // reaches segment 11 and beyond, while the engine keeps timeline 1's partial set.
  store_partial(11, 200);
  engine_->sessions = {kFirstSession,
                       {segment(9, "FILLING", 900, 900, 0, 2), segment(9, "COMPLETED", 900, 5000, kSegment, 2),
                        segment(10, "COMPLETED", 5000, 5100, kSegment, 2), segment(11, "FILLING", 5100, 5100, 0, 2),
                        segment(11, "COMPLETED", 5100, 5200, kSegment, 2), segment(12, "FILLING", 5200, 5300, 10, 2)}};
  run_session("task1");
  run_session("task2");
  const auto left = file(11);
  EXPECT_EQ(left.at("BackupStatus"), "UNCOMPLETED");
  EXPECT_EQ(left.at("EndTime").as_int64(), 1800);
  EXPECT_EQ(left.at("BackupSize").as_int64(), 200);
  EXPECT_EQ(left.at("BackupSetJobId"), "task1");
  EXPECT_EQ(file(11, 2).at("BackupStatus"), "COMPLETED");
  EXPECT_EQ(file(12, 2).at("EndTime").as_int64(), 5300);
}

}  // namespace
}  // namespace opendbs::jobs

namespace opendbs::jobs {
namespace {

// A restore to a RestoreTime whose newest base set a fork of the source abandoned: the engine refuses
// that set before writing anything, and the task starts from the next older one the API listed.
class RestoreBaseSets : public LogFileRecords {
 protected:
  // Runs a restore task whose record names `base` and the older sets; returns the record afterwards.
  boost::json::object run_restore_of(const std::string& base, boost::json::array older) {
    catalog::Record restore{"restore1", "A", plan_.id, "running", 1, {}};
    restore.doc = {{"BackupSetId", base}, {"RestoreTime", 5000}, {"RestoreDir", (dir_ / "restored").string()},
                   {"_OlderBaseSetIds", std::move(older)}};
    EXPECT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::restore_task, restore); }).ok());
    TaskEnv env{*store_, box_, *repository_, engines_, clock_};
    env.restore_root = restore_root_;
    LocalTask control("restore1", "restore", plan_.id);
    outcome_ = run_restore(env, catalog::Record{"restore1", "A", plan_.id, "running", 1, {}}, control).outcome;
    boost::json::object out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto r, tx.get(Kind::restore_task, "restore1"));
      out = r->doc;
      return {};
    }).ok());
    return out;
  }
  Outcome outcome_ = Outcome::failed;
  std::string restore_root_;
};

// The node's restore root may have changed since CreateRestoreTask checked RestoreDir: the task
// checks again before it creates or locks anything.
TEST_F(RestoreBaseSets, ARestoreDirOutsideTheNodesRestoreRootEndsTheTaskWithoutWriting) {
  restore_root_ = (dir_ / "restores").string();
  const auto record = run_restore_of("full3", {});
  EXPECT_EQ(outcome_, Outcome::failed);
  EXPECT_TRUE(engine_->restored_from.empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "restored"));
  EXPECT_EQ(record.at("RestoreStatus"), "stop");
  EXPECT_NE(std::string(record.at("ErrMessage").as_string()).find("is not inside this node's restore root " + restore_root_),
            std::string::npos) << record.at("ErrMessage");
}

// A restore stopped part way: ErrMessage says what the engine cleaned up.
TEST_F(RestoreBaseSets, AStoppedRestoreSaysWhatTheEngineCleanedUp) {
  engine_->cleanup_when_stopped = "the databases the restore had created were dropped: crm";
  const auto record = run_restore_of("full3", {});
  EXPECT_EQ(outcome_, Outcome::cancelled);
  EXPECT_EQ(record.at("RestoreStatus"), "stop");
  EXPECT_EQ(record.at("ErrMessage"),
            "stopped by request StopBackupPlan; the databases the restore had created were dropped: crm");
}

// A restore that finished but placed objects elsewhere or left some out says so in its ErrMessage.
TEST_F(RestoreBaseSets, AFinishedRestoreShowsTheEnginesWarningsInItsErrMessage) {
  const auto quiet = run_restore_of("full3", {});
  EXPECT_EQ(quiet.at("RestoreStatus"), "finish");
  EXPECT_EQ(quiet.at("ErrMessage"), "");
  engine_->warnings = {"tablespace ts1 does not exist on the destination", "view v stays unpopulated"};
  const auto record = run_restore_of("full3", {});
  EXPECT_EQ(record.at("RestoreStatus"), "finish");
  EXPECT_EQ(record.at("ErrMessage"), "tablespace ts1 does not exist on the destination; view v stays unpopulated");
}

TEST_F(RestoreBaseSets, ASetTheSourcesTimelineDoesNotContinueGivesWayToAnOlderSet) {
  engine_->unreachable = {"full3", "full2"};
  const auto record = run_restore_of("full3", {"full2", "full1", "full0"});
  EXPECT_EQ(outcome_, Outcome::succeeded);
  EXPECT_EQ(engine_->restored_from, (std::vector<std::string>{"full3", "full2", "full1"}));
  EXPECT_EQ(record.at("RestoreStatus"), "finish");
  EXPECT_EQ(record.at("BackupSetId"), "full1");  // DescribeRestoreTaskList names the set used
}

// A restore that did not finish leaves no directory it created (the engine emptied it); one that
// existed before stays.
TEST_F(RestoreBaseSets, AFailedRestoreRemovesTheDirectoryItCreatedOnly) {
  engine_->failing = "full3";
  (void)run_restore_of("full3", {});
  EXPECT_FALSE(std::filesystem::exists(dir_ / "restored"));
  std::filesystem::create_directories(dir_ / "restored");
  (void)run_restore_of("full3", {});
  EXPECT_TRUE(std::filesystem::exists(dir_ / "restored"));
}

TEST_F(RestoreBaseSets, AnyOtherFailureIsTheRestoresOwn) {
  engine_->failing = "full3";
  const auto record = run_restore_of("full3", {"full2"});
  EXPECT_EQ(engine_->restored_from, (std::vector<std::string>{"full3"}));
  EXPECT_EQ(record.at("RestoreStatus"), "stop");
  EXPECT_EQ(record.at("ErrMessage"), "disk full");
  EXPECT_EQ(record.at("BackupSetId"), "full3");
}

TEST_F(RestoreBaseSets, WhenNoSetReachesTheMomentTheRefusalIsReported) {
  engine_->unreachable = {"full3", "full2"};
  const auto record = run_restore_of("full3", {"full2"});
  EXPECT_EQ(engine_->restored_from, (std::vector<std::string>{"full3", "full2"}));
  EXPECT_EQ(record.at("RestoreStatus"), "stop");
  EXPECT_NE(std::string(record.at("ErrMessage").as_string()).find("timeline 3"), std::string::npos);
}

// A second restore into a directory a running restore writes (the API refuses to start it; here it
// got past, as one started by another node would) ends at once, naming the other task, untouched.
TEST_F(RestoreBaseSets, ARestoreIntoADirectoryAnotherRestoreHoldsEndsNamingItWithoutWriting) {
  auto held = RestoreDirLock::acquire((dir_ / "restored").string());
  ASSERT_TRUE(held.ok());
  catalog::Record other{"restore0", "A", plan_.id, "running", 1, {{"RestoreDir", (dir_ / "restored").string()}}};
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::restore_task, other); }).ok());
  const auto record = run_restore_of("full3", {});
  EXPECT_EQ(outcome_, Outcome::failed);
  EXPECT_TRUE(engine_->restored_from.empty());
  EXPECT_EQ(record.at("RestoreStatus"), "stop");
  EXPECT_NE(std::string(record.at("ErrMessage").as_string()).find("being written by restore task restore0"),
            std::string::npos) << record.at("ErrMessage");
}

// After ModifyBackupSourceEndpoint to another server (source generation 1) the new server's WAL files
// are records of their own, whatever their names: the old server's files keep what they said.
TEST_F(LogFileRecords, AfterTheSourceChangedTheNewServersFilesAreRecordsOfTheirOwn) {
  engine_->sessions = {{segment(10, "COMPLETED", 500, 1000, kSegment), segment(11, "FILLING", 1000, 1800, 200)},
                       {segment(11, "FILLING", 5000, 5000, 0), segment(11, "FILLING", 5000, 5200, 100)}};
  run_session("task1");
  plan_.doc["SourceEndpointIpPort"] = "127.0.0.2:5432";
  plan_.doc["_SourceEpoch"] = 1;
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::plan, plan_); }).ok());
  run_session("task2");
  const auto old_file = file(11);
  EXPECT_EQ(old_file.at("BackupStatus"), "UNCOMPLETED");
  EXPECT_EQ(old_file.at("EndTime").as_int64(), 1800) << "not passed over by the new server's segment";
  EXPECT_EQ(old_file.at("BackupSize").as_int64(), 200);
  EXPECT_EQ(old_file.at("SourceEndpointIpPort"), "127.0.0.1:5432");
  std::optional<catalog::Record> fresh;
  ASSERT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(fresh, tx.get(Kind::log_file, log_file_record_id(plan_.id, 1, segment(11, "", 0, 0, 0).name)));
    return {};
  }).ok());
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->doc.at("EndTime").as_int64(), 5200);
  EXPECT_EQ(fresh->doc.at("SourceEndpointIpPort"), "127.0.0.2:5432");
  EXPECT_EQ(fresh->doc.at("_SourceEpoch").as_int64(), 1);
  EXPECT_EQ(log_chain_id(plan_.id, 1), "dbsplan1_g1");
}

// DisableBackupLog queues a release of the plan's slot; EnableBackupLog before that task runs means
// the new log backup needs the slot, so the release does nothing.
TEST_F(LogFileRecords, AReleaseQueuedBeforeLogBackupWasEnabledAgainKeepsTheSlot) {
  TaskEnv env{*store_, box_, *repository_, engines_, clock_};
  const catalog::Record task{"release1", "A", plan_.id, "running", 1, {}};
  auto set_log = [&](bool enabled, const std::string& state) {
    plan_.doc["EnableBackupLog"] = enabled;
    plan_.state = state;
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::plan, plan_); }).ok());
  };
  set_log(true, "running");
  LocalTask again("release1", "release_log", plan_.id);
  EXPECT_EQ(run_release_log(env, task, again).outcome, Outcome::succeeded);
  EXPECT_EQ(engine_->releases, 0);

  set_log(true, "released");  // ReleaseBackupPlan: released whatever the plan said
  LocalTask released("release1", "release_log", plan_.id);
  EXPECT_EQ(run_release_log(env, task, released).outcome, Outcome::succeeded);
  EXPECT_EQ(engine_->releases, 1);

  set_log(false, "running");  // DisableBackupLog
  LocalTask disabled("release1", "release_log", plan_.id);
  EXPECT_EQ(run_release_log(env, task, disabled).outcome, Outcome::succeeded);
  EXPECT_EQ(engine_->releases, 2);
}

}  // namespace
}  // namespace opendbs::jobs
