// SlotWatch against a real SQLite catalog, with an engine whose log retention the test sets (the
// PostgreSQL engine's own answer is tested against real servers in tests/postgres/log_retention_test).
#include "engines/unscripted_engine.h"
#include "jobs/slot_watch.h"
#include "jobs/webhook_recorder.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <mutex>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "http/server.h"
#include "jobs/notifier.h"
#include "jobs/tasks.h"

using namespace opendbs;

namespace {

constexpr uint64_t kMiB = 1 << 20;

class RetentionEngine final : public engines::testing::UnscriptedEngine {
 public:
  core::Result<engines::LogRetention> log_retention(const engines::PlanSpec& plan) override {
    std::lock_guard lock(mu);
    asked.push_back(plan.plan_id);
    if (unreachable) return core::errors::io("connection refused");
    return retention;
  }
  std::mutex mu;
  engines::LogRetention retention{true, 0, std::nullopt, false};
  bool unreachable = false;
  std::vector<std::string> asked;
};

class SlotWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("slot-watch-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto store = catalog::open_store("sqlite:" + (dir_ / "catalog.db").string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    engines_.add("PostgreSQL", engine_);
    options_.warn_bytes = 64 * kMiB;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void put_plan(const std::string& id, bool log_enabled, const std::string& state, const std::string& err = "") {
    catalog::Record plan{id, "1", "", state, 1, {}};
    plan.doc = {{"BackupPlanId", id}, {"DatabaseType", "PostgreSQL"}, {"BackupMethod", "physical"},
                {"EnableBackupLog", log_enabled}, {"BackupPlanStatus", state}, {"ErrMessage", err}};
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(catalog::Kind::plan, plan); }).ok());
  }
  boost::json::object plan_doc(const std::string& id) {
    boost::json::object doc;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto plan, tx.get(catalog::Kind::plan, id));
      doc = plan->doc;
      return {};
    }).ok());
    return doc;
  }
  std::string err_message(const std::string& id) { return std::string(plan_doc(id).at("ErrMessage").as_string()); }
  void set_retention(uint64_t bytes, std::optional<uint64_t> safe = std::nullopt, bool lost = false) {
    std::lock_guard lock(engine_->mu);
    engine_->retention = {true, bytes, safe, lost};
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Store> store_;
  iam::SecretBox secrets_ = iam::SecretBox::from_key(std::string(32, 'k'));
  std::shared_ptr<RetentionEngine> engine_ = std::make_shared<RetentionEngine>();
  engines::EngineRegistry engines_;
  jobs::SlotWatchOptions options_;
};

TEST_F(SlotWatchTest, WarnsInErrMessageOnceRetainedLogReachesTheBoundAndClearsWhenBackUnder) {
  put_plan("p1", true, "pause");
  jobs::SlotWatch watch(*store_, secrets_, engines_, options_);
  set_retention(10 * kMiB);
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_EQ(err_message("p1"), "");
  EXPECT_EQ(watch.retained_bytes().at("p1"), 10 * kMiB);

  set_retention(80 * kMiB);
  ASSERT_TRUE(watch.check_once().ok());
  const std::string warned = err_message("p1");
  EXPECT_NE(warned.find("log backup is not running"), std::string::npos) << warned;
  EXPECT_NE(warned.find("80.0 MiB"), std::string::npos) << warned;
  EXPECT_NE(warned.find("warning at 64.0 MiB"), std::string::npos) << warned;
  EXPECT_EQ(watch.retained_bytes().at("p1"), 80 * kMiB);

  set_retention(1 * kMiB);
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_EQ(err_message("p1"), "");
}

TEST_F(SlotWatchTest, KeepsAnotherErrorInErrMessageAndPutsTheWarningAfterIt) {
  put_plan("p1", true, "running", "full backup j1 failed: disk full");
  jobs::SlotWatch watch(*store_, secrets_, engines_, options_);
  set_retention(100 * kMiB);
  ASSERT_TRUE(watch.check_once().ok());
  const std::string warned = err_message("p1");
  EXPECT_EQ(warned.rfind("full backup j1 failed: disk full; log backup is not running: ", 0), 0u) << warned;
  set_retention(120 * kMiB);  // the warning is replaced, not appended again
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_EQ(err_message("p1").find("100.0 MiB"), std::string::npos);
  EXPECT_NE(err_message("p1").find("120.0 MiB"), std::string::npos);
  EXPECT_EQ(err_message("p1").find("log backup is not running"), err_message("p1").rfind("log backup is not running"));
  set_retention(0);
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_EQ(err_message("p1"), "full backup j1 failed: disk full");
}

TEST_F(SlotWatchTest, WarnsWhenTheSourceMayDropTheLogSoonOrHasDroppedIt) {
  put_plan("p1", true, "pause");
  jobs::SlotWatch watch(*store_, secrets_, engines_, options_);
  set_retention(5 * kMiB, 32 * kMiB);
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_NE(err_message("p1").find("after 32.0 MiB more"), std::string::npos) << err_message("p1");
  set_retention(0, 0, true);
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_NE(err_message("p1").find("the log chain has a gap"), std::string::npos) << err_message("p1");
}

// A source that keeps little log for any plan (max_slot_wal_keep_size 8 MB) is no warning while the
// log backup runs and keeps up; once it falls behind by as much as the source still allows, the warning
// says so without telling to resume a log backup that runs.
TEST_F(SlotWatchTest, ARunningLogBackupIsWarnedAboutOnlyOnceItHasFallenNearTheSourcesLimit) {
  put_plan("p1", true, "running");
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, tx.get(catalog::Kind::plan, "p1"));
    auto task = jobs::new_task(jobs::task_kind::log_backup, *plan, 1, {});
    task.state = "running";
    task.doc["_LeaseExpiresMs"] = core::SystemClock::instance().now_ms() + 600000;
    return tx.put(catalog::Kind::task, task);
  }).ok());
  jobs::SlotWatch watch(*store_, secrets_, engines_, options_);
  set_retention(kMiB / 4, 8 * kMiB);
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_EQ(err_message("p1"), "");
  set_retention(5 * kMiB, 3 * kMiB);
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_EQ(err_message("p1"), "log backup is behind: the source keeps 5.0 MiB of log for this plan, and removes it "
                               "(a gap in the log chain) after 3.0 MiB more");
}

TEST_F(SlotWatchTest, AsksOnlyForPlansWithLogBackupAndClearsItsWarningWhenLogBackupIsDisabled) {
  put_plan("with-log", true, "pause");
  put_plan("without-log", false, "running");
  put_plan("released", true, "released");
  jobs::SlotWatch watch(*store_, secrets_, engines_, options_);
  set_retention(100 * kMiB);
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_EQ(engine_->asked, std::vector<std::string>{"with-log"});
  ASSERT_NE(err_message("with-log"), "");

  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {  // DisableBackupLog
    OPENDBS_ASSIGN(auto plan, tx.get(catalog::Kind::plan, "with-log"));
    plan->doc["EnableBackupLog"] = false;
    return tx.put(catalog::Kind::plan, *plan);
  }).ok());
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_EQ(err_message("with-log"), "");
  EXPECT_EQ(watch.retained_bytes().at("with-log"), 0u);
  EXPECT_EQ(watch.retained_bytes().count("without-log"), 0u);
}

TEST_F(SlotWatchTest, APlanWhoseSourceKeepsNothingHasNoRetainedBytes) {
  put_plan("p1", true, "running");
  jobs::SlotWatch watch(*store_, secrets_, engines_, options_);
  {
    std::lock_guard lock(engine_->mu);
    engine_->retention = {};
  }
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_TRUE(watch.retained_bytes().empty());
  EXPECT_EQ(err_message("p1"), "");
}

TEST_F(SlotWatchTest, AnUnreachableSourceLeavesTheWarningAsItWas) {
  put_plan("p1", true, "pause");
  jobs::SlotWatch watch(*store_, secrets_, engines_, options_);
  set_retention(100 * kMiB);
  ASSERT_TRUE(watch.check_once().ok());
  const std::string warned = err_message("p1");
  engine_->unreachable = true;
  ASSERT_TRUE(watch.check_once().ok());
  EXPECT_EQ(err_message("p1"), warned);
}

TEST_F(SlotWatchTest, RaisesOneRetentionWebhookPerEpisode) {
  jobs::testing::WebhookRecorder receiver;
  ASSERT_TRUE(receiver.start().ok());
  {
    jobs::Notifier notifier(receiver.options());
    put_plan("p1", true, "pause");
    jobs::SlotWatch watch(*store_, secrets_, engines_, options_);
    watch.set_notifier(&notifier);
    for (uint64_t mib : {100, 110, 1, 100}) {  // warned, still warned, cleared, warned again
      set_retention(mib * kMiB);
      ASSERT_TRUE(watch.check_once().ok());
    }
  }  // the notifier delivers what it queued before it goes
  const auto events = receiver.stop();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("Event"), "log_backup.retention");
  EXPECT_EQ(events[0].at("BackupPlanId"), "p1");
  EXPECT_EQ(events[0].at("RetainedBytes").to_number<uint64_t>(), 100 * kMiB);
  EXPECT_EQ(events[0].at("ThresholdBytes").to_number<uint64_t>(), 64 * kMiB);
  EXPECT_EQ(events[0].at("LogBackupRunning"), false);
}

}  // namespace
