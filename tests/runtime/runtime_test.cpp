// TaskRuntime with the TestEngine, a real catalog and repository in a temp dir, and a manual clock for
// the scheduler: scheduled runs across the week, one catch-up run after downtime, retention, and a
// dead node's task taken over once its lease expires.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include <sqlite3.h>

#include "catalog/store.h"
#include "core/errors.h"
#include "core/ids.h"
#include "http/server.h"
#include "jobs/notifier.h"
#include "jobs/repo_prune.h"
#include "jobs/runtime.h"
#include "jobs/tasks.h"
#include "jobs/webhook_recorder.h"
#include "repo/backend/local_backend.h"
#include "repo/lock.h"
#include "engines/unscripted_engine.h"
#include "repo/test_support.h"
#include "runtime_fixture.h"

using namespace opendbs;
using catalog::Kind;

using opendbs::testing::RuntimeTest;

TEST_F(RuntimeTest, SchedulesOnTheWeekdayAfterTheWeekendAndCatchesUpOnce) {
  make_runtime("n1");
  auto plan = put_plan("Monday,Wednesday", "02:00", clock_.now_ms());
  ASSERT_TRUE(runtime_->schedule_once().ok());
  EXPECT_EQ(count(Kind::task, plan.id), 0);  // Saturday: nothing due
  clock_.set_ms(*core::parse_iso8601("2024-01-22T02:00:01Z"));  // Monday, just after
  ASSERT_TRUE(runtime_->schedule_once().ok());
  ASSERT_TRUE(runtime_->schedule_once().ok());
  EXPECT_EQ(count(Kind::task, plan.id), 1);  // due once, queued once
  // The node was down through Wednesday's and next Monday's runs: one catch-up run, not two.
  clock_.set_ms(*core::parse_iso8601("2024-01-29T12:00:00Z"));
  ASSERT_TRUE(runtime_->schedule_once().ok());
  EXPECT_EQ(count(Kind::task, plan.id), 2);
  EXPECT_EQ(count(Kind::backup_set, plan.id), 2);
}

TEST_F(RuntimeTest, ManualPlansAreNeverScheduled) {
  make_runtime("n1");
  auto plan = put_plan("Monday", "02:00", clock_.now_ms());
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) {
    plan.doc["BackupStrategyType"] = "manual";
    return tx.put(Kind::plan, plan);
  }).ok());
  clock_.set_ms(*core::parse_iso8601("2024-01-23T00:00:00Z"));
  ASSERT_TRUE(runtime_->schedule_once().ok());
  EXPECT_EQ(count(Kind::task, plan.id), 0);
}

TEST_F(RuntimeTest, RunsQueuedBackupsAndExpiresThemAfterRetention) {
  make_runtime("n1");
  auto plan = put_plan("Monday", "02:00", clock_.now_ms());
  back_up_once(plan);
  EXPECT_EQ(repository_->list_sets()->size(), 1u);
  clock_.advance_ms(2 * 86400000LL);  // past the 1-day retention
  ASSERT_TRUE(runtime_->schedule_once().ok());
  EXPECT_EQ(count(Kind::backup_set, plan.id, {"expired"}), 1);
  EXPECT_TRUE(repository_->list_sets()->empty());
}

TEST_F(RuntimeTest, LogFilesExpireAfterRetentionWithTheirSetsAndPartialCopies) {
  make_runtime("n1");
  auto plan = put_plan("Monday", "02:00", clock_.now_ms());
  const int64_t day = 86400000LL, now = clock_.now_ms();
  auto store_set = [&](const std::string& id) {
    auto set = repository_->begin_set(id);
    ASSERT_TRUE(set.ok()) << set.error().message;
    auto w = (*set)->add_stream("segment", repo::FileMeta{3, 0600, 0});
    ASSERT_TRUE(w.ok() && (*w)->write("wal").ok() && (*w)->close().ok());
    ASSERT_TRUE((*set)->commit({}).ok());
  };
  // (name, status, EndTime): an old completed file, an old file left UNCOMPLETED with only a partial
  // copy, the old timeline's end of the same segment (a file of its own, recent), and a recent file.
  const std::vector<std::tuple<std::string, std::string, int64_t>> files{
      {"000000010000000000000001", "COMPLETED", now - 3 * day},
      {"000000010000000000000002", "UNCOMPLETED", now - 3 * day},
      {"000000010000000000000002.partial", "COMPLETED", now},
      {"000000020000000000000002", "COMPLETED", now},
      {"00000002.history", "COMPLETED", now - 3 * day}};
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
    for (const auto& [name, status, end] : files) {
      catalog::Record r{plan.id + "-" + name, "A", plan.id, status, end - 1000, {}};
      r.doc = {{"BackupSetId", name}, {"BackupStatus", status}, {"EndTime", end},
               {"BackupSetExpiredTime", end + day}, {"_Seq", 1}};
      OPENDBS_TRY(tx.put(Kind::log_file, r));
    }
    // A kept full set whose log starts after these files: it needs none of them but the timeline
    // history (a set on a later timeline may need it to recover across the switch).
    catalog::Record set{"keptset", "A", plan.id, "finish", now, {}};
    set.doc = {{"BackupSetId", set.id}, {"BackupStatus", "finish"}, {"CreateTime", now},
               {"BackupSetExpiredTime", now + day}, {"_LogStartSeq", 2}};
    return tx.put(Kind::backup_set, set);
  }).ok());
  store_set(engines::log_set_id(plan.id, "000000010000000000000001"));
  store_set(engines::log_partial_prefix(plan.id, "000000010000000000000001") + "8192");
  store_set(engines::log_partial_prefix(plan.id, "000000010000000000000002") + "4096");
  store_set(engines::log_set_id(plan.id, "000000010000000000000002.partial"));
  store_set(engines::log_set_id(plan.id, "000000020000000000000002"));
  store_set(engines::log_set_id(plan.id, "00000002.history"));

  ASSERT_TRUE(runtime_->schedule_once().ok());
  EXPECT_EQ(count(Kind::log_file, plan.id, {"expired"}), 2);
  EXPECT_EQ(count(Kind::log_file, plan.id, {"COMPLETED"}), 3) << "recent files and the history a kept set may need stay";
  auto sets = repository_->list_sets();
  ASSERT_TRUE(sets.ok());
  std::sort(sets->begin(), sets->end());
  EXPECT_EQ(*sets, (std::vector<std::string>{engines::log_set_id(plan.id, "000000010000000000000002.partial"),
                                              engines::log_set_id(plan.id, "00000002.history"),
                                              engines::log_set_id(plan.id, "000000020000000000000002")}));
}

TEST_F(RuntimeTest, TakesOverADeadNodesTaskOnlyAfterItsLeaseExpires) {
  auto plan = put_plan("Monday", "02:00", clock_.now_ms());
  std::string task_id;
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(task_id, jobs::queue_full_backup(tx, plan, clock_.now_ms(), "test"));
    return {};
  }).ok());
  // "dead" claims the task and never renews it.
  auto claimed = store_->claim_next_task("dead", clock_.now_ms(), 1000);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  make_runtime("n2");
  runtime_->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(count(Kind::backup_set, plan.id, {"finish"}), 0);  // lease still valid: not taken
  clock_.advance_ms(1500);
  runtime_->wake();
  eventually([&] { return count(Kind::backup_set, plan.id, {"finish"}) > 0; });
  EXPECT_EQ(count(Kind::backup_set, plan.id, {"finish"}), 1);
  // The set is finished a moment before its task is marked succeeded.
  catalog::Record task;
  for (int i = 0; i < 600 && task.state != "succeeded"; ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto t, tx.get(Kind::task, task_id));
      if (t) task = *t;
      return {};
    }).ok());
  }
  EXPECT_EQ(task.state, "succeeded");
  EXPECT_EQ(task.doc.at("Attempts").as_int64(), 2);
}

// /metrics' opendbs_task_bytes_total (cli/node.cpp): a finished task's bytes, and a log backup's
// stored log while it runs (it may run for days), each byte counted once.
TEST_F(RuntimeTest, TaskBytesCountAFullBackupAtItsEndAndALogBackupsStoredLogAsItRunsEachOnce) {
  make_runtime("n1");
  std::mutex mu;
  std::map<std::string, uint64_t> at_end;
  runtime_->set_task_observer([&](const std::string& kind, const std::string&, double, uint64_t bytes) {
    std::lock_guard lock(mu);
    at_end[kind] += bytes;
  });
  auto plan = put_plan("Monday", "02:00", clock_.now_ms());
  plan.doc["SourceEndpointDatabaseName"] = "size=65536;rate=100000000;log_ms=50";
  plan.doc["EnableBackupLog"] = true;
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::plan, plan); }).ok());
  back_up_once(plan);
  auto bytes_at_end = [&](const std::string& kind) {
    std::lock_guard lock(mu);
    return at_end[kind];
  };
  eventually([&] { return bytes_at_end("full_backup") > 0; });
  EXPECT_EQ(bytes_at_end("full_backup"), 65536u);

  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return jobs::ensure_log_backup(tx, plan, clock_.now_ms()); }).ok());
  runtime_->wake();
  uint64_t while_running = 0;  // the test engine stores 1024 bytes a file
  for (int i = 0; i < 1500 && while_running < 3 * 1024; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    while_running += runtime_->take_running_task_bytes()["log_backup"];
  }
  EXPECT_GE(while_running, 3 * 1024u);
  runtime_->stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(while_running + at_end["log_backup"], 1024u * count(Kind::log_file, plan.id, {"COMPLETED"}));
}

// A full backup that finished with the engine's warnings (e.g. TableIncludes that matched no table)
// says so in the set's ErrMessage (DescribeFullBackupList); one without has none.
TEST_F(RuntimeTest, AFinishedFullBackupShowsTheEnginesWarningsInItsErrMessage) {
  make_runtime("n1");
  auto plan = put_plan("Monday", "02:00", clock_.now_ms());
  plan.doc["SourceEndpointDatabaseName"] = "size=4096;rate=100000000;warn=1";
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::plan, plan); }).ok());
  back_up_once(plan);
  std::vector<std::string> messages;
  ASSERT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
    catalog::Query q{Kind::backup_set};
    q.parent_id = plan.id;
    OPENDBS_ASSIGN(auto sets, tx.list(q));
    for (const auto& set : sets) messages.emplace_back(set.doc.at("ErrMessage").as_string());
    return {};
  }).ok());
  EXPECT_EQ(messages, (std::vector<std::string>{"the test engine warns as its plan asks (warn=1)"}));
}

TEST_F(RuntimeTest, APlanWithoutARecentFullBackupRaisesOnePlanStaleWebhook) {
  jobs::testing::WebhookRecorder receiver;
  ASSERT_TRUE(receiver.start().ok());
  jobs::Notifier notifier(receiver.options());
  make_runtime("n1");
  runtime_->set_notifier(&notifier);
  auto plan = put_plan("Monday", "02:00", clock_.now_ms());  // started Saturday, no backup yet
  ASSERT_TRUE(runtime_->schedule_once().ok());              // Saturday: nothing due, not stale
  clock_.set_ms(*core::parse_iso8601("2024-01-23T12:00:00Z"));  // Tuesday: Monday's run never finished
  ASSERT_TRUE(runtime_->schedule_once().ok());
  ASSERT_TRUE(runtime_->schedule_once().ok());  // still stale: no second alert
  eventually([&] { return !receiver.events().empty(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto events = receiver.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("Event").as_string(), "plan.stale");
  EXPECT_EQ(events[0].at("BackupPlanId").as_string(), plan.id);
}

// The node's wiring (cli/node.cpp): retention's hook asks RepoPrune for a pass, which frees the data.
TEST_F(RuntimeTest, RetentionAsksForAPruneThatFreesTheExpiredSetsData) {
  make_runtime("n1");
  std::mutex mu;
  std::vector<jobs::PruneRun> runs;
  jobs::RepoPrune prune(*repository_, {.interval_ms = 3600000, .retry_ms = 50});
  prune.set_observer([&](const jobs::PruneRun& r) {
    std::lock_guard lock(mu);
    runs.push_back(r);
  });
  runtime_->set_sets_forgotten_hook([&] { prune.request_soon(); });
  auto done_passes = [&] {
    std::lock_guard lock(mu);
    return std::count_if(runs.begin(), runs.end(), [](const auto& r) { return r.result == jobs::PruneResult::done; });
  };
  auto plan = put_plan("Monday", "02:00", clock_.now_ms());
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) {
    plan.doc["BackupStrategyType"] = "manual";  // no new backup (of the same data) when the clock jumps
    return tx.put(Kind::plan, plan);
  }).ok());
  back_up_once(plan);
  prune.start();
  eventually([&] { return done_passes() > 0; });
  ASSERT_EQ(done_passes(), 1);  // the first pass after start: nothing to free yet
  const uint64_t stored = repository_->stats()->stored_bytes;
  ASSERT_GT(stored, 0u);

  clock_.advance_ms(2 * 86400000LL);  // past the 1-day retention
  ASSERT_TRUE(runtime_->schedule_once().ok());
  eventually([&] { return done_passes() >= 2; });
  prune.stop();
  ASSERT_EQ(done_passes(), 2);  // long before the hour-long interval
  std::lock_guard lock(mu);
  EXPECT_EQ(runs.back().report.bytes_freed, stored);
  EXPECT_EQ(repository_->stats()->stored_bytes, 0u);
}

// A full backup that starts while a prune holds the repository's exclusive lock waits for it.
TEST_F(RuntimeTest, AFullBackupStartingDuringAPruneWaitsForItInsteadOfFailing) {
  make_runtime("n1");
  repo::LocalBackend backend((dir_ / "repo").string());
  auto prune_lock = repo::RepoLock::acquire(backend, repo::LockKind::kExclusive, "prune", 60000,
                                            core::SystemClock::instance());
  ASSERT_TRUE(prune_lock.ok());
  auto plan = put_plan("Monday", "02:00", clock_.now_ms());
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) {
    return jobs::queue_full_backup(tx, plan, clock_.now_ms(), "test").ok() ? core::Status() : core::errors::internal("x");
  }).ok());
  runtime_->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(count(Kind::backup_set, plan.id, {"running"}), 1);
  prune_lock->reset();  // the prune ends
  eventually([&] { return count(Kind::backup_set, plan.id, {"finish"}) > 0; });
  EXPECT_EQ(count(Kind::backup_set, plan.id, {"finish"}), 1);
  EXPECT_EQ(count(Kind::backup_set, plan.id, {"failed"}), 0);
}

namespace {

// Fails every restore as PostgreSQL did for a NewDBName it clipped inside a character (a lone 0xC3).
class NonUtf8FailureEngine final : public engines::testing::UnscriptedEngine {
 public:
  core::Status restore(const engines::PlanSpec&, repo::Repository&, const engines::RestoreRequest&,
                       engines::TaskControl&) override {
    ++restores;
    return core::make_error("SourceUnreachable", "FATAL:  database \"e_\xC3\xBC\xC3\" does not exist");
  }
  std::atomic<int> restores = 0;
};

// A restore task of a PostgreSQL plan whose engine fails it, run by a runtime until the task ends,
// then given time to run it again should it be left `running` (the lease expired long ago).
class FailingRestore : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    engines_.add("PostgreSQL", engine_);
    plan_ = put_plan("Monday", "02:00", clock_.now_ms());
    plan_.doc["DatabaseType"] = "PostgreSQL";
    task_ = jobs::new_task(jobs::task_kind::restore, plan_, clock_.now_ms(), {});
    catalog::Record restore{task_.id, "A", plan_.id, "running", clock_.now_ms(), {}};
    restore.doc = {{"RestoreTaskId", task_.id}, {"BackupPlanId", plan_.id}, {"BackupSetId", "set1"},
                   {"RestoreTime", clock_.now_ms()}, {"RestoreStatus", "running"}, {"ErrMessage", ""}};
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_TRY(tx.put(Kind::plan, plan_));
      OPENDBS_TRY(tx.put(Kind::restore_task, restore));
      return tx.put(Kind::task, task_);
    }).ok());
  }
  catalog::Record task_record() {
    catalog::Record out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto t, tx.get(Kind::task, task_.id));
      if (t) out = *t;
      return {};
    }).ok());
    return out;
  }
  catalog::Record run_until_ended_and_past_its_lease() {
    make_runtime("n1");
    runtime_->start();
    for (int i = 0; i < 100 && task_record().state != "failed"; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    clock_.advance_ms(5000);  // well past the lease: a task left `running` would be taken again now
    runtime_->wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return task_record();
  }
  std::shared_ptr<NonUtf8FailureEngine> engine_ = std::make_shared<NonUtf8FailureEngine>();
  catalog::Record plan_, task_;
};

}  // namespace

// The failure is recorded once, readable (the stray byte escaped, core/utf8.h), and the task is not
// leased and run again: before, the record could not be read back, the task stayed `running`, and
// every lease expiry ran it again.
TEST_F(FailingRestore, AMessageThatIsNotUtf8EndsTheTaskFailedOnceWithAReadableRecord) {
  const auto ended = run_until_ended_and_past_its_lease();
  EXPECT_EQ(ended.state, "failed");
  EXPECT_EQ(ended.doc.at("Attempts").as_int64(), 1);
  EXPECT_EQ(engine_->restores.load(), 1);
  // DescribeRestoreTaskList reads the plan's restore records: all readable, the message escaped.
  ASSERT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
    catalog::Query q{Kind::restore_task};
    q.parent_id = plan_.id;
    auto list = tx.list(q);
    EXPECT_TRUE(list.ok()) << list.error().message;
    if (!list.ok() || list->size() != 1u) return {};
    EXPECT_EQ(list->front().doc.at("RestoreStatus"), "stop");
    EXPECT_EQ(list->front().doc.at("ErrMessage"), "FATAL:  database \"e_\xC3\xBC\\xC3\" does not exist");
    return {};
  }).ok());
}

// Whatever keeps a task's outcome from being recorded with its restore record (here a document that is
// not JSON at all), the task itself ends `failed` saying so, instead of staying `running` and being
// run again at every lease expiry.
TEST_F(FailingRestore, AnOutcomeThatCannotBeRecordedStillEndsTheTaskInsteadOfRunningItAgainEveryLease) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "catalog.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "UPDATE records SET doc='{not json' WHERE kind='restore_task'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto ended = run_until_ended_and_past_its_lease();
  EXPECT_EQ(ended.state, "failed");
  EXPECT_EQ(ended.doc.at("Attempts").as_int64(), 1);
  const auto* message = ended.doc.if_contains("ErrMessage");
  ASSERT_TRUE(message && message->is_string());
  const std::string text(message->as_string());
  EXPECT_NE(text.find("the outcome could not be recorded: catalog record restore_task"), std::string::npos) << text;
  EXPECT_NE(text.find("is not a JSON document"), std::string::npos) << text;
}
