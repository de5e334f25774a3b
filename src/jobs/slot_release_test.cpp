// The release_log task (slot_release.h) against a real SQLite catalog, with an engine whose release
// fails a scripted number of times (the source unreachable): the release is retried until it succeeds,
// also after the plan was released; every failed attempt shows in the task record, in SlotWatch's
// pending releases and, while the plan exists, in its ErrMessage; the release goes to the endpoint
// recorded when it was queued (ModifyBackupSourceEndpoint's old source), and a node stopping hands it
// back to the queue.
#include "engines/unscripted_engine.h"
#include "jobs/slot_release.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <mutex>
#include <thread>

#include "core/errors.h"
#include "core/ids.h"
#include "http/server.h"
#include "jobs/notifier.h"
#include "jobs/slot_watch.h"
#include "jobs/tasks.h"
#include "jobs/webhook_recorder.h"
#include "repo/test_support.h"

namespace opendbs::jobs {
namespace {

namespace fs = std::filesystem;
using catalog::Kind;

class FlakyReleaseEngine final : public engines::testing::UnscriptedEngine {
 public:
  int failures = 0;  // releases refused before one succeeds
  std::vector<std::string> released_on;  // host:port of every attempt
  std::vector<std::string> chains;       // PlanSpec::plan_id (names the slot) of every attempt
  std::function<void()> on_attempt = [] {};

  core::Status release_log(const engines::PlanSpec& plan) override {
    released_on.push_back(plan.source.host + ":" + std::to_string(plan.source.port));
    chains.push_back(plan.plan_id);
    on_attempt();
    if (failures-- > 0) return core::make_error("SourceUnreachable", "connection refused (slot opendbs_x)");
    return {};
  }
};

class SlotRelease : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("opendbs-release-" + core::random_alnum(8));
    fs::create_directories(dir_);
    store_ = std::move(catalog::open_store((dir_ / "catalog.db").string()).value());
    repository_ = repo::testing::init_test_repository((dir_ / "repo").string());
    engines_.add("Flaky", engine_);
    plan_ = catalog::Record{"dbsplan1", "A", "", "running", 1, {}};
    plan_.doc = {{"BackupPlanId", plan_.id}, {"DatabaseType", "Flaky"}, {"EnableBackupLog", true},
                 {"BackupRetentionPeriod", 7}, {"ErrMessage", "full backup x failed: disk full"}};
    set_source("10.0.0.1", "5432");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void set_source(const std::string& host, const std::string& port) {
    plan_.doc["SourceEndpointHost"] = host;
    plan_.doc["SourceEndpointPort"] = port;
    plan_.doc["SourceEndpointIpPort"] = host + ":" + port;
    put_plan();
  }
  void put_plan() { ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::plan, plan_); }).ok()); }
  // A release queued as the API queues it, with the plan as it is now; claimed ("running").
  catalog::Record queue_release(const std::string& id) {
    auto task = new_release_task(plan_, clock_.now_ms(), {});
    task.id = id;
    task.doc["TaskId"] = id;
    task.state = "running";
    EXPECT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::task, task); }).ok());
    return task;
  }
  catalog::Record get(Kind kind, const std::string& id) {
    std::optional<catalog::Record> out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(out, tx.get(kind, id));
      return {};
    }).ok());
    return out.value();
  }
  std::string plan_message() { return std::string(get(Kind::plan, plan_.id).doc.at("ErrMessage").as_string()); }
  TaskResult run(const catalog::Record& task, LocalTask& control) {
    TaskEnv env{*store_, box_, *repository_, engines_, clock_};
    return run_release_log(env, task, control, ReleaseBackoff{10, 40});
  }

  fs::path dir_;
  core::ManualClock clock_{1700000000000};
  std::unique_ptr<catalog::Store> store_;
  iam::SecretBox box_ = iam::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<repo::Repository> repository_;
  std::shared_ptr<FlakyReleaseEngine> engine_ = std::make_shared<FlakyReleaseEngine>();
  engines::EngineRegistry engines_;
  catalog::Record plan_;
};

TEST_F(SlotRelease, DisableBackupLogWhileTheSourceIsDownRetriesAndWarnsThePlanUntilTheSlotIsDropped) {
  plan_.doc["EnableBackupLog"] = false;
  put_plan();
  const auto task = queue_release("release1");
  std::vector<std::string> seen;  // the plan's ErrMessage at each attempt
  engine_->failures = 3;
  engine_->on_attempt = [&] { seen.push_back(plan_message()); };
  LocalTask control(task.id, "release_log", plan_.id);
  const auto result = run(task, control);
  EXPECT_EQ(result.outcome, Outcome::succeeded) << result.err_message;
  ASSERT_EQ(engine_->released_on.size(), 4u);
  EXPECT_EQ(seen[0], "full backup x failed: disk full");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    EXPECT_NE(seen[attempt].find("could not be released (attempt " + std::to_string(attempt)), std::string::npos)
        << seen[attempt];
    EXPECT_NE(seen[attempt].find("10.0.0.1:5432"), std::string::npos);
    EXPECT_NE(seen[attempt].find("connection refused (slot opendbs_x)"), std::string::npos);
    EXPECT_EQ(seen[attempt].rfind("full backup x failed: disk full; ", 0), 0u) << "the other message stays first";
  }
  EXPECT_EQ(plan_message(), "full backup x failed: disk full") << "the warning goes once the slot is dropped";
  const auto record = get(Kind::task, task.id);
  EXPECT_EQ(record.doc.at("ReleaseAttempts").as_int64(), 3);
  EXPECT_EQ(record.doc.at("ReleaseSource"), "10.0.0.1:5432");
}

TEST_F(SlotRelease, AReleasedPlansSlotIsRetriedAndListedAsPendingUntilItIsDropped) {
  plan_.state = "released";
  put_plan();
  const auto task = queue_release("release1");
  SlotWatch watch(*store_, box_, engines_, SlotWatchOptions{});
  std::vector<std::vector<PendingRelease>> pending;
  engine_->failures = 2;
  engine_->on_attempt = [&] {
    ASSERT_TRUE(watch.check_once().ok());
    pending.push_back(watch.pending_releases());
  };
  LocalTask control(task.id, "release_log", plan_.id);
  EXPECT_EQ(run(task, control).outcome, Outcome::succeeded);
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_TRUE(pending[0].empty()) << "nothing failed yet";
  ASSERT_EQ(pending[2].size(), 1u);
  EXPECT_EQ(pending[2][0].plan_id, plan_.id);
  EXPECT_EQ(pending[2][0].task_id, task.id);
  EXPECT_EQ(pending[2][0].attempts, 2);
  EXPECT_EQ(pending[2][0].source, "10.0.0.1:5432");
  EXPECT_NE(pending[2][0].error.find("connection refused"), std::string::npos);
  EXPECT_EQ(plan_message(), "full backup x failed: disk full") << "a released plan's record is not changed";
}

// With the plan gone nothing else would tell: each pending release raises one webhook.
TEST_F(SlotRelease, APendingReleaseRaisesOneWebhook) {
  testing::WebhookRecorder receiver;
  ASSERT_TRUE(receiver.start().ok());
  plan_.state = "released";
  put_plan();
  {
    Notifier notifier(receiver.options());
    SlotWatch watch(*store_, box_, engines_, SlotWatchOptions{});
    watch.set_notifier(&notifier);
    auto task = queue_release("release1");
    ASSERT_TRUE(watch.check_once().ok());  // not failed yet: not pending
    task.doc["ReleaseAttempts"] = 1;
    task.doc["ReleaseSource"] = "10.0.0.1:5432";
    task.doc["ErrMessage"] = "connection refused";
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::task, task); }).ok());
    for (int pass = 0; pass < 3; ++pass) ASSERT_TRUE(watch.check_once().ok());
    task.state = "succeeded";
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::task, task); }).ok());
    ASSERT_TRUE(watch.check_once().ok());
    EXPECT_TRUE(watch.pending_releases().empty());
  }  // the notifier delivers what it queued before it goes
  const auto events = receiver.stop();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("Event"), "log_backup.release_pending");
  EXPECT_EQ(events[0].at("BackupPlanId").as_string(), plan_.id);
  EXPECT_EQ(events[0].at("Source"), "10.0.0.1:5432");
  EXPECT_EQ(events[0].at("ErrMessage"), "connection refused");
}

// ModifyBackupSourceEndpoint queues the release of the old source's slot with that endpoint; the plan
// (log backup still enabled, now on the new source) does not stop it, and it never touches the new one.
TEST_F(SlotRelease, TheReleaseGoesToTheSourceRecordedWhenItWasQueued) {
  const auto task = queue_release("release-old");
  set_source("10.0.0.2", "6543");
  engine_->failures = 1;
  LocalTask control(task.id, "release_log", plan_.id);
  EXPECT_EQ(run(task, control).outcome, Outcome::succeeded);
  EXPECT_EQ(engine_->released_on, (std::vector<std::string>{"10.0.0.1:5432", "10.0.0.1:5432"}));

  // Back on the first server, a generation later: the first generation's slot there still goes.
  plan_.doc["_SourceEpoch"] = 0;
  set_source("10.0.0.1", "5432");
  const auto first = queue_release("release-first");
  plan_.doc["_SourceEpoch"] = 2;
  put_plan();
  LocalTask back(first.id, "release_log", plan_.id);
  EXPECT_EQ(run(first, back).outcome, Outcome::succeeded);
  ASSERT_EQ(engine_->released_on.size(), 3u);
  EXPECT_EQ(engine_->released_on.back(), "10.0.0.1:5432");
  EXPECT_EQ(engine_->chains.back(), plan_.id) << "the first generation's slot, not the current one's";

  // A release of the current source while log backup is enabled again keeps the slot.
  const auto same = queue_release("release-same");
  LocalTask again(same.id, "release_log", plan_.id);
  EXPECT_EQ(run(same, again).outcome, Outcome::succeeded);
  EXPECT_EQ(engine_->released_on.size(), 3u);
}

TEST_F(SlotRelease, ANodeStoppingDuringTheRetriesHandsTheReleaseBackToTheQueue) {
  plan_.state = "released";
  put_plan();
  const auto task = queue_release("release1");
  engine_->failures = 1000;
  LocalTask control(task.id, "release_log", plan_.id);
  engine_->on_attempt = [&] {
    if (engine_->released_on.size() == 2) control.shut_down();
  };
  EXPECT_EQ(run(task, control).outcome, Outcome::requeue);
  EXPECT_EQ(engine_->released_on.size(), 2u);
}

TEST(SourceServerChanged, HostOrPortNameAnotherServerCredentialsDoNot) {
  catalog::Record a{"p", "A", "", "running", 1, {}};
  a.doc = {{"SourceEndpointHost", "db.example"}, {"SourceEndpointPort", "5432"}, {"SourceEndpointUserName", "u"}};
  auto b = a;
  b.doc["SourceEndpointUserName"] = "v";
  b.doc["SourceEndpointHost"] = "DB.example";
  EXPECT_FALSE(source_server_changed(a, b));
  b.doc["SourceEndpointPort"] = "5433";
  EXPECT_TRUE(source_server_changed(a, b));
  auto c = a;
  c.doc["SourceEndpointHost"] = "db2.example";
  EXPECT_TRUE(source_server_changed(a, c));
}

}  // namespace
}  // namespace opendbs::jobs
