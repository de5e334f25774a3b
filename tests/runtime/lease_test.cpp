// A run and its lease (finding K1 of checker round 4): the catalog cannot be written for longer than
// the lease (a full disk), so renewals fail. The run must stop itself before its lease expires; the
// node must never start a task, or a plan's log backup, that it still runs; stopping a plan and the
// node must reach every run, also one whose record is no longer its own; and stop() is bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "catalog/write_failing_store.h"
#include "engines/unscripted_engine.h"
#include "runtime_fixture.h"

using namespace opendbs;
using catalog::Kind;
using namespace std::chrono_literals;

namespace {

// How many runs of one kind the engine has seen, and how many at once.
struct RunCount {
  std::atomic<int> calls = 0, running = 0, most_at_once = 0;
  void begin() {
    ++calls;
    const int now = ++running;
    for (int most = most_at_once.load(); now > most && !most_at_once.compare_exchange_weak(most, now);) {
    }
  }
  void end() { --running; }
};

// Full and log backups that run until cancelled, or until `finish_after` for a full backup; while
// `deaf`, they do not hear the cancellation (an engine stuck in a call that does not poll).
class RunningEngine final : public engines::testing::UnscriptedEngine {
 public:
  core::Result<engines::FullBackupResult> full_backup(const engines::PlanSpec&, repo::SetWriter& set,
                                                      engines::TaskControl& control) override {
    full.begin();
    const auto started = std::chrono::steady_clock::now();
    while (!heard(control) && std::chrono::steady_clock::now() - started < finish_after.load())
      std::this_thread::sleep_for(5ms);
    full.end();
    if (control.cancelled()) return core::make_error("Cancelled", "cancelled");
    auto stream = set.add_stream("data", repo::FileMeta{3, 0644, 0});
    if (!stream.ok()) return stream.error();
    OPENDBS_TRY((*stream)->write("abc"));
    OPENDBS_TRY((*stream)->close());
    engines::FullBackupResult result;
    result.consistent_ms = 1;
    return result;
  }
  core::Status log_backup(const engines::PlanSpec&, repo::Repository&, engines::TaskControl& control,
                          const std::function<core::Status(const engines::LogFile&)>&) override {
    log.begin();
    while (!heard(control)) std::this_thread::sleep_for(5ms);
    log.end();
    return core::make_error("Cancelled", "cancelled");
  }

  RunCount full, log;
  std::atomic<bool> deaf = false;
  std::atomic<std::chrono::milliseconds> finish_after = std::chrono::milliseconds(600000);

 private:
  bool heard(const engines::TaskControl& control) const { return control.cancelled() && !deaf.load(); }
};

class LeaseTest : public opendbs::testing::RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    catalog_ = std::make_unique<catalog::testing::WriteFailingStore>(*store_);
    engines_.add("PostgreSQL", engine_);
    plan_ = put_plan("Monday", "02:00", clock_.now_ms());
    plan_.doc["DatabaseType"] = "PostgreSQL";
    plan_.doc["BackupStrategyType"] = "manual";
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::plan, plan_); }).ok());
    make_runtime("n1", catalog_.get());  // lease 1000 ms on the manual clock, renewed every 100 ms
  }

  std::string queue_full_backup() {
    std::string id;
    EXPECT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(id, jobs::queue_full_backup(tx, plan_, clock_.now_ms(), "test"));
      return {};
    }).ok());
    return id;
  }
  std::string queue_log_backup() {
    auto task = jobs::new_task(jobs::task_kind::log_backup, plan_, clock_.now_ms(), {});
    EXPECT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::task, task); }).ok());
    return task.id;
  }
  catalog::Record task(const std::string& id) {
    catalog::Record out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto t, tx.get(Kind::task, id));
      if (t) out = *t;
      return {};
    }).ok());
    return out;
  }
  void end_record(const std::string& id, const std::string& state) {
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto t, tx.get(Kind::task, id));
      t->state = state;
      return tx.put(Kind::task, *t);
    }).ok());
  }
  // Gives the workers time and reasons to claim whatever they may.
  void let_workers_claim() {
    for (int i = 0; i < 5; ++i) {
      runtime_->wake();
      std::this_thread::sleep_for(100ms);
    }
  }

  std::unique_ptr<catalog::testing::WriteFailingStore> catalog_;  // the runtime's view of store_
  std::shared_ptr<RunningEngine> engine_ = std::make_shared<RunningEngine>();
  catalog::Record plan_;
};

}  // namespace

TEST_F(LeaseTest, ARunWhoseLeaseCannotBeRenewedStopsBeforeItExpiresAndTheTaskRunsAgainLater) {
  const auto id = queue_full_backup();
  runtime_->start();
  ASSERT_TRUE(eventually([&] { return engine_->full.running == 1; }));
  catalog_->fail_writes(true);  // the catalog's disk is full
  clock_.advance_ms(400);      // 600 ms of the lease left: renewals fail, the run goes on
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(engine_->full.running, 1);
  clock_.advance_ms(200);  // 400 ms left, less than half the lease: the run stops and hands the task back
  ASSERT_TRUE(eventually([&] { return engine_->full.running == 0; })) << "the run goes on while its lease expires";
  EXPECT_TRUE(runtime_->running_tasks().empty());
  EXPECT_EQ(task(id).state, "running");  // the outcome could not be recorded: the lease expires as it is

  catalog_->fail_writes(false);
  engine_->finish_after = 0ms;
  clock_.advance_ms(1000);  // past the lease: claimed again like any lapsed task
  runtime_->wake();
  ASSERT_TRUE(eventually([&] { return task(id).state == "succeeded"; }));
  EXPECT_EQ(task(id).doc.at("Attempts").as_int64(), 2);
  EXPECT_EQ(engine_->full.calls, 2);
  EXPECT_EQ(engine_->full.most_at_once, 1);
  EXPECT_EQ(count(Kind::backup_set, plan_.id, {"finish"}), 1);
}

TEST_F(LeaseTest, ANodeNeverStartsASecondRunOfATaskWhoseLeaseLapsedWhileItsRunGoesOn) {
  const auto id = queue_full_backup();
  engine_->deaf = true;  // the run does not stop when told to
  runtime_->start();
  ASSERT_TRUE(eventually([&] { return engine_->full.running == 1; }));
  catalog_->fail_transactions(true);  // renewals fail; claims still get through
  clock_.advance_ms(1500);           // the lease has expired: the catalog offers the task again
  let_workers_claim();
  EXPECT_EQ(engine_->full.calls, 1) << "the node started the task again while its first run goes on";
  EXPECT_EQ(task(id).doc.at("Attempts").as_int64(), 1);

  catalog_->fail_transactions(false);
  engine_->finish_after = 0ms;
  engine_->deaf = false;  // the first run ends; then the task is claimed again, once
  runtime_->wake();
  ASSERT_TRUE(eventually([&] { return task(id).state == "succeeded"; }));
  EXPECT_EQ(engine_->full.calls, 2);
  EXPECT_EQ(engine_->full.most_at_once, 1);
}

// The checker's case: the lapsed log backup's task record ended while its stream went on, and the
// scheduler queued a new log backup task for the plan. The node streams the plan's log once.
TEST_F(LeaseTest, ANodeRunsOneLogBackupPerPlanWhileAnOldRunStillEnds) {
  const auto first = queue_log_backup();
  engine_->deaf = true;
  runtime_->start();
  ASSERT_TRUE(eventually([&] { return engine_->log.running == 1; }));
  end_record(first, "failed");  // recorded by a run that is no longer this one
  const auto second = queue_log_backup();
  let_workers_claim();
  EXPECT_EQ(engine_->log.calls, 1) << "a second log backup of the plan started while the first streams";
  EXPECT_EQ(task(second).state, "queued");

  engine_->deaf = false;  // the old run hears the cancel the node sent when its record ended
  ASSERT_TRUE(eventually([&] { return engine_->log.calls == 2; }));
  EXPECT_EQ(engine_->log.most_at_once, 1);
  EXPECT_EQ(task(first).state, "failed") << "the old run wrote its outcome over a record no longer its own";
  EXPECT_EQ(task(second).state, "running");
}

// StopBackupPlan ALL and ReleaseBackupPlan (api/ops) cancel by plan as well as by task id: a run whose
// record is no longer its own is not among the ids the catalog returns.
TEST_F(LeaseTest, CancellingAPlanStopsItsRunsWhateverTheirTaskRecordsSay) {
  const auto id = queue_log_backup();
  runtime_->start();
  ASSERT_TRUE(eventually([&] { return engine_->log.running == 1; }));
  catalog_->fail_transactions(true);  // the keeper cannot look at the record either
  end_record(id, "failed");
  runtime_->cancel_now({}, "REQ-1");  // what the API sends when no running task of the plan is left
  runtime_->cancel_plan(plan_.id, {jobs::task_kind::full_backup}, "REQ-1");  // another kind: runs on
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(engine_->log.running, 1);
  runtime_->cancel_plan(plan_.id, {jobs::task_kind::log_backup}, "REQ-1");
  ASSERT_TRUE(eventually([&] { return engine_->log.running == 0; }));
  EXPECT_TRUE(eventually([&] { return runtime_->running_tasks().empty(); }));
}

TEST_F(LeaseTest, StopWaitsABoundedTimeForRunsThatDoNotEndAndReportsThem) {
  queue_full_backup();
  engine_->deaf = true;
  runtime_->start();
  ASSERT_TRUE(eventually([&] { return engine_->full.running == 1; }));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(runtime_->stop(300ms));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 5s);
  EXPECT_EQ(engine_->full.running, 1);

  engine_->deaf = false;  // an unbounded stop waits for it and joins every thread
  EXPECT_TRUE(runtime_->stop());
  EXPECT_EQ(engine_->full.running, 0);
  EXPECT_TRUE(runtime_->stop()) << "stopping again changes nothing";
}

// While the node waits for a run to hand its task back, the run keeps its lease: no other node starts
// the task meanwhile.
TEST_F(LeaseTest, ARunThatTakesLongToStopKeepsItsLeaseWhileTheNodeWaitsForIt) {
  const auto id = queue_full_backup();
  engine_->deaf = true;
  runtime_->start();
  ASSERT_TRUE(eventually([&] { return engine_->full.running == 1; }));
  std::thread stopping([&] { EXPECT_TRUE(runtime_->stop(30s)); });
  std::this_thread::sleep_for(200ms);
  clock_.advance_ms(5000);  // five leases later
  EXPECT_TRUE(eventually([&] { return task(id).doc.at("_LeaseExpiresMs").as_int64() > clock_.now_ms(); }))
      << "the lease of a run that is still ending was left to expire";
  engine_->deaf = false;
  stopping.join();
  EXPECT_EQ(task(id).state, "queued");
}

TEST_F(LeaseTest, StopHandsEveryRunBackAndEndsWellWithinItsBound) {
  const auto id = queue_full_backup();
  runtime_->start();
  ASSERT_TRUE(eventually([&] { return engine_->full.running == 1; }));
  EXPECT_TRUE(runtime_->stop(20s));
  EXPECT_EQ(engine_->full.running, 0);
  EXPECT_EQ(task(id).state, "queued");
}
