// What a plan's log backup keeps on its source (a PostgreSQL slot) through ModifyBackupSourceEndpoint,
// DisableBackupLog and ReleaseBackupPlan, through the dispatcher with a real TaskRuntime, a real SQLite
// catalog and repository, and an engine that remembers which source each log backup streams from and
// whose release fails while a source is "down". A source change stops the log backup on the old
// source, releases the old slot (retried until it goes) and resumes on the new source; a release while
// the source is down is retried until it comes back, also after the plan is released, and shows in
// the plan's ErrMessage while the plan exists.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "api/dispatcher_fixture.h"
#include "core/errors.h"
#include "core/ids.h"
#include "engines/unscripted_engine.h"
#include "jobs/runtime.h"
#include "repo/test_support.h"

using namespace opendbs;
using boost::json::object;
using api::testing::wait_until;

namespace {

namespace fs = std::filesystem;

std::string where(const engines::PlanSpec& plan) { return plan.source.host + ":" + std::to_string(plan.source.port); }

class SlotKeepingEngine final : public engines::testing::UnscriptedEngine {
 public:
  core::Result<engines::FullBackupResult> full_backup(const engines::PlanSpec&, repo::SetWriter& set,
                                                      engines::TaskControl&) override {
    OPENDBS_ASSIGN(auto stream, set.add_stream("data", repo::FileMeta{4, 0644, 0}));
    OPENDBS_TRY(stream->write("data"));
    OPENDBS_TRY(stream->close());
    return engines::FullBackupResult{core::SystemClock::instance().now_ms(), {{"engine", "slots"}}, -1};
  }
  // Holds a slot on the source while it streams, until cancelled.
  core::Status log_backup(const engines::PlanSpec& plan, repo::Repository&, engines::TaskControl& control,
                          const std::function<core::Status(const engines::LogFile&)>& on_file) override {
    OPENDBS_TRY(on_file({"000000010000000000000005", 5, 1000, 2000, 16 << 20, "COMPLETED"}));
    {
      std::lock_guard lock(mu_);
      chains_.insert(plan.plan_id);
      slots_.insert(where(plan));
      streaming_ = where(plan);
    }
    while (!control.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::lock_guard lock(mu_);
    streaming_.clear();
    return core::make_error("Cancelled", "stopped");
  }
  core::Status restore(const engines::PlanSpec&, repo::Repository&, const engines::RestoreRequest&,
                       engines::TaskControl&) override {
    return {};
  }
  core::Status release_log(const engines::PlanSpec& plan) override {
    std::lock_guard lock(mu_);
    ++release_attempts_;
    if (down_.contains(where(plan))) return core::make_error("SourceUnreachable", "connection refused by " + where(plan));
    slots_.erase(where(plan));
    return {};
  }

  void set_down(const std::string& source, bool down) {
    std::lock_guard lock(mu_);
    if (down) down_.insert(source);
    else down_.erase(source);
  }
  std::set<std::string> slots() {
    std::lock_guard lock(mu_);
    return slots_;
  }
  std::set<std::string> chains() {  // PlanSpec::plan_id of every log backup
    std::lock_guard lock(mu_);
    return chains_;
  }
  std::string streaming() {
    std::lock_guard lock(mu_);
    return streaming_;
  }
  int release_attempts() {
    std::lock_guard lock(mu_);
    return release_attempts_;
  }

 private:
  std::mutex mu_;
  std::set<std::string> slots_, down_, chains_;
  std::string streaming_;
  int release_attempts_ = 0;
};

class LogSourceChange : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("opendbs-logsrc-" + core::random_alnum(8));
    fs::create_directories(dir_);
    store_ = std::move(catalog::open_store((dir_ / "catalog.db").string()).value());
    repository_ = repo::testing::init_test_repository((dir_ / "repo").string());
    engines_.add("PostgreSQL", engine_);
    directory_ = std::make_unique<iam::Directory>(*store_, box_);
    ASSERT_TRUE(directory_->ensure_root(iam::AccessKeyPair{"rootkey", "rootsecret"}).ok());
    jobs::RuntimeOptions o;
    o.node_id = "12345";
    o.node_identifier = "logsrc";
    o.heartbeat_ms = 100;
    o.scheduler_interval_ms = 100;  // restarts the log backup soon after it was stopped
    runtime_ = std::make_unique<jobs::TaskRuntime>(*store_, box_, *repository_, engines_, clock_, o);
    runtime_->start();
    services_.reset(new api::Services{*store_, box_, runtime_.get(), clock_, "12345"});
    dispatcher_ = std::make_unique<api::Dispatcher>(*services_, *directory_);
  }
  void TearDown() override {
    runtime_.reset();
    fs::remove_all(dir_);
  }

  object call(const std::string& action, api::ParamList params) {
    auto answer = api::testing::signed_call(*dispatcher_, clock_, action, std::move(params));
    EXPECT_EQ(answer.status, 200) << action << ": " << boost::json::serialize(answer.body);
    return answer.body;
  }

  static api::ParamList source(const std::string& plan, const std::string& port) {
    return {{"BackupPlanId", plan}, {"SourceEndpointInstanceType", "Other"}, {"SourceEndpointIP", "127.0.0.1"},
            {"SourceEndpointPort", port}, {"SourceEndpointUserName", "u"}, {"SourceEndpointPassword", "pw"},
            {"SourceEndpointDatabaseName", "postgres"}};
  }

  // A running manual plan whose log backup streams from 127.0.0.1:5432.
  std::string plan_streaming() {
    const std::string plan(call("CreateBackupPlan", {{"BackupMethod", "physical"}, {"DatabaseType", "PostgreSQL"},
                                                     {"InstanceClass", "small"}})
                               .at("BackupPlanId")
                               .as_string());
    auto params = source(plan, "5432");
    params.insert(params.end(), {{"BackupPlanName", "p"}, {"BackupStrategyType", "manual"}, {"EnableBackupLog", "true"}});
    call("ConfigureBackupPlan", params);
    EXPECT_TRUE(wait_until([&] { return plan_field(plan, "BackupPlanStatus") == "check_pass"; }));
    call("StartBackupPlan", {{"BackupPlanId", plan}});
    EXPECT_TRUE(wait_until([&] { return engine_->streaming() == "127.0.0.1:5432"; }));
    return plan;
  }

  std::string plan_field(const std::string& plan, const char* field) {
    auto list = call("DescribeBackupPlanList", {{"BackupPlanId", plan}});
    const auto& items = list.at("Items").at("BackupPlanDetail").as_array();
    return items.empty() ? "(gone)" : std::string(items.at(0).at(field).as_string());
  }

  catalog::Record stored(catalog::Kind kind, const std::string& id) {
    std::optional<catalog::Record> out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(out, tx.get(kind, id));
      return {};
    }).ok());
    return out.value();
  }

  fs::path dir_;
  core::ManualClock clock_{core::SystemClock::instance().now_ms()};
  std::unique_ptr<catalog::Store> store_;
  iam::SecretBox box_ = iam::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<repo::Repository> repository_;
  std::shared_ptr<SlotKeepingEngine> engine_ = std::make_shared<SlotKeepingEngine>();
  engines::EngineRegistry engines_;
  std::unique_ptr<iam::Directory> directory_;
  std::unique_ptr<jobs::TaskRuntime> runtime_;
  std::unique_ptr<api::Services> services_;
  std::unique_ptr<api::Dispatcher> dispatcher_;
};

}  // namespace

TEST_F(LogSourceChange, ModifyingTheSourceMovesTheLogBackupAndReleasesTheOldSlot) {
  const auto plan = plan_streaming();
  call("ModifyBackupSourceEndpoint", source(plan, "6543"));
  ASSERT_TRUE(wait_until([&] { return engine_->streaming() == "127.0.0.1:6543"; })) << engine_->streaming();
  ASSERT_TRUE(wait_until([&] { return engine_->slots() == std::set<std::string>{"127.0.0.1:6543"}; }))
      << "the old source's slot is left";
  EXPECT_EQ(plan_field(plan, "BackupPlanStatus"), "running");
  // The new source's WAL is a chain of its own, in records of its own whatever the files' names: the
  // old source's file stays as it was.
  const auto old_file = stored(catalog::Kind::log_file, plan + "-000000010000000000000005");
  EXPECT_EQ(old_file.doc.at("SourceEndpointIpPort"), "127.0.0.1:5432");
  EXPECT_EQ(old_file.doc.at("_SourceEpoch").as_int64(), 0);
  const auto new_file = stored(catalog::Kind::log_file, plan + "_g1-000000010000000000000005");
  EXPECT_EQ(new_file.doc.at("SourceEndpointIpPort"), "127.0.0.1:6543");
  EXPECT_EQ(new_file.doc.at("_SourceEpoch").as_int64(), 1);
  EXPECT_EQ(engine_->chains(), (std::set<std::string>{plan, plan + "_g1"})) << "slot and WAL sets named apart";

  call("ReleaseBackupPlan", {{"BackupPlanId", plan}});
  EXPECT_TRUE(wait_until([&] { return engine_->slots().empty(); })) << "the new source's slot is left";
}

TEST_F(LogSourceChange, ANewPasswordRestartsTheLogBackupOnTheSameSourceAndKeepsItsSlot) {
  const auto plan = plan_streaming();
  auto params = source(plan, "5432");
  params.back() = {"SourceEndpointDatabaseName", "other"};
  call("ModifyBackupSourceEndpoint", params);
  ASSERT_TRUE(wait_until([&] { return engine_->streaming().empty(); }, 3000));
  ASSERT_TRUE(wait_until([&] { return engine_->streaming() == "127.0.0.1:5432"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(engine_->release_attempts(), 0);
  EXPECT_EQ(engine_->slots(), std::set<std::string>{"127.0.0.1:5432"});
}

TEST_F(LogSourceChange, AReleaseWhileTheSourceIsDownIsRetriedUntilItComesBackAfterThePlanIsGone) {
  const auto plan = plan_streaming();
  engine_->set_down("127.0.0.1:5432", true);
  call("ReleaseBackupPlan", {{"BackupPlanId", plan}});
  ASSERT_TRUE(wait_until([&] { return engine_->release_attempts() >= 2; })) << "not retried";
  EXPECT_EQ(engine_->slots(), std::set<std::string>{"127.0.0.1:5432"});
  engine_->set_down("127.0.0.1:5432", false);
  EXPECT_TRUE(wait_until([&] { return engine_->slots().empty(); })) << "the slot was never dropped";
}

TEST_F(LogSourceChange, DisableBackupLogWhileTheSourceIsDownSaysSoInThePlanUntilTheSlotIsDropped) {
  const auto plan = plan_streaming();
  engine_->set_down("127.0.0.1:5432", true);
  call("DisableBackupLog", {{"BackupPlanId", plan}});
  ASSERT_TRUE(wait_until([&] { return plan_field(plan, "ErrMessage").find("could not be released") != std::string::npos; }))
      << plan_field(plan, "ErrMessage");
  EXPECT_NE(plan_field(plan, "ErrMessage").find("connection refused by 127.0.0.1:5432"), std::string::npos);
  engine_->set_down("127.0.0.1:5432", false);
  EXPECT_TRUE(wait_until([&] { return engine_->slots().empty(); }));
  EXPECT_TRUE(wait_until([&] { return plan_field(plan, "ErrMessage").empty(); })) << plan_field(plan, "ErrMessage");
}
