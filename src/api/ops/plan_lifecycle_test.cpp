// StopBackupPlan and ReleaseBackupPlan against download tasks, through the dispatcher with a real
// TaskRuntime (one worker), a real SQLite catalog and repository, and an engine whose downloads write
// a partial file and then hold until they are cancelled or let go. ALL and Release stop a running
// download (its partial file deleted) and a queued one; PLAN leaves them running.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/dispatcher_fixture.h"
#include "core/errors.h"
#include "core/ids.h"
#include "engines/unscripted_engine.h"
#include "jobs/download_links.h"
#include "jobs/download_runner.h"
#include "jobs/runtime.h"
#include "repo/backend/local_backend.h"
#include "repo/test_support.h"

using namespace opendbs;
using boost::json::object;
using api::testing::wait_until;

namespace {

namespace fs = std::filesystem;

// Full backups store one small stream; downloads write half a file to out_path and hold there until
// cancelled (returning "Cancelled" as engines must) or until `release` is set (then finish the file).
class HoldingDownloadEngine final : public engines::testing::UnscriptedEngine {
 public:
  std::atomic<bool> release{false};

  core::Result<engines::FullBackupResult> full_backup(const engines::PlanSpec&, repo::SetWriter& set,
                                                      engines::TaskControl&) override {
    OPENDBS_ASSIGN(auto stream, set.add_stream("data", repo::FileMeta{4, 0644, 0}));
    OPENDBS_TRY(stream->write("data"));
    OPENDBS_TRY(stream->close());
    return engines::FullBackupResult{core::SystemClock::instance().now_ms(), {{"engine", "holding"}}, -1};
  }
  core::Status log_backup(const engines::PlanSpec&, repo::Repository&, engines::TaskControl&,
                          const std::function<core::Status(const engines::LogFile&)>&) override {
    return {};
  }
  core::Status restore(const engines::PlanSpec&, repo::Repository&, const engines::RestoreRequest&,
                       engines::TaskControl&) override {
    return {};
  }
  core::Result<engines::DownloadResult> download(const engines::PlanSpec&, repo::Repository&,
                                                 const engines::DownloadRequest& request,
                                                 engines::TaskControl& control) override {
    std::ofstream(request.out_path) << "first half,";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!release.load() && std::chrono::steady_clock::now() < deadline) {
      if (control.cancelled()) return core::make_error("Cancelled", "download cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::ofstream(request.out_path, std::ios::app) << "second half";
    return engines::DownloadResult{"csv", 22};
  }
};

class StopDownloads : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("opendbs-stopdl-" + core::random_alnum(8));
    fs::create_directories(dir_ / "downloads");
    store_ = std::move(catalog::open_store((dir_ / "catalog.db").string()).value());
    repository_ = repo::testing::init_test_repository((dir_ / "repo").string());
    engines_.add("MySQL", engine_);
    directory_ = std::make_unique<iam::Directory>(*store_, box_);
    ASSERT_TRUE(directory_->ensure_root(iam::AccessKeyPair{"rootkey", "rootsecret"}).ok());
    jobs::RuntimeOptions o;
    o.node_id = "12345";
    o.node_identifier = "stopdl";
    o.workers = 1;  // a second download waits in the queue while the first runs
    o.heartbeat_ms = 100;
    runtime_ = std::make_unique<jobs::TaskRuntime>(*store_, box_, *repository_, engines_, clock_, o);
    links_ = std::make_unique<jobs::DownloadLinks>(std::string(32, 'k'), (dir_ / "downloads").string());
    runtime_->set_downloads({links_.get(), "https://h:1", "http://h:2", jobs::kDownloadLifetimeMsDefault, "12345"});
    runtime_->start();
    services_.reset(new api::Services{*store_, box_, runtime_.get(), clock_, "12345"});
    dispatcher_ = std::make_unique<api::Dispatcher>(*services_, *directory_);
  }
  void TearDown() override {
    engine_->release = true;
    runtime_.reset();
    fs::remove_all(dir_);
  }

  object call(const std::string& action, api::ParamList params) {
    auto answer = api::testing::signed_call(*dispatcher_, clock_, action, std::move(params));
    EXPECT_EQ(answer.status, 200) << action << ": " << boost::json::serialize(answer.body);
    return answer.body;
  }

  // A running plan whose first full backup has finished; returns {plan id, set id}.
  std::pair<std::string, std::string> plan_with_a_set() {
    const std::string plan(call("CreateBackupPlan", {{"BackupMethod", "logical"}, {"DatabaseType", "MySQL"},
                                                     {"InstanceClass", "small"}})
                               .at("BackupPlanId")
                               .as_string());
    call("ConfigureBackupPlan", {{"BackupPlanId", plan}, {"BackupPlanName", "p"}, {"SourceEndpointInstanceType", "Other"},
                                 {"SourceEndpointIP", "127.0.0.1"}, {"SourceEndpointPort", "3306"},
                                 {"SourceEndpointUserName", "u"}, {"SourceEndpointPassword", "pw"},
                                 {"BackupStrategyType", "manual"}});
    const std::string set(call("StartBackupPlan", {{"BackupPlanId", plan}}).at("CreatedFullBackupsetId").as_string());
    EXPECT_TRUE(wait_until([&] {
      auto list = call("DescribeFullBackupList", {{"BackupPlanId", plan}, {"BackupSetId", set}});
      return list.at("Items").at("FullBackupFile").as_array().at(0).at("BackupStatus") == "finish";
    })) << "the full backup did not finish";
    return {plan, set};
  }

  std::string download(const std::string& set) {
    return std::string(call("CreateFullBackupSetDownload", {{"BackupSetId", set}}).at("BackupSetDownloadTaskId").as_string());
  }

  object download_task(const std::string& id) {
    auto list = call("DescribeBackupSetDownloadTaskList", {{"BackupSetDownloadTaskId", id}});
    return list.at("Items").at("BackupSetDownloadTaskDetail").as_array().at(0).as_object();
  }

  std::string status(const std::string& download_id) {
    return std::string(download_task(download_id).at("BackupSetDownloadStatus").as_string());
  }

  // The download record and task as stored: the plan of a released plan is no longer listed.
  std::pair<std::string, std::string> stored_states(const std::string& id) {
    std::pair<std::string, std::string> out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto record, tx.get(catalog::Kind::download_task, id));
      OPENDBS_ASSIGN(auto task, tx.get(catalog::Kind::task, id));
      out = {record->state, task->state};
      return {};
    }).ok());
    return out;
  }

  bool partial_exists(const std::string& id) { return fs::exists(dir_ / "downloads" / (id + ".partial")); }

  fs::path dir_;
  core::ManualClock clock_{core::SystemClock::instance().now_ms()};
  std::unique_ptr<catalog::Store> store_;
  iam::SecretBox box_ = iam::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<repo::Repository> repository_;
  std::shared_ptr<HoldingDownloadEngine> engine_ = std::make_shared<HoldingDownloadEngine>();
  engines::EngineRegistry engines_;
  std::unique_ptr<iam::Directory> directory_;
  std::unique_ptr<jobs::TaskRuntime> runtime_;
  std::unique_ptr<jobs::DownloadLinks> links_;
  std::unique_ptr<api::Services> services_;
  std::unique_ptr<api::Dispatcher> dispatcher_;
};

}  // namespace

TEST_F(StopDownloads, StopPlanWithMethodAllStopsRunningAndQueuedDownloadsAndDeletesThePartialFile) {
  const auto [plan, set] = plan_with_a_set();
  const std::string running = download(set);
  ASSERT_TRUE(wait_until([&] { return status(running) == "running" && partial_exists(running); }));
  const std::string queued = download(set);
  EXPECT_EQ(status(queued), "init");

  const auto stop = call("StopBackupPlan", {{"BackupPlanId", plan}, {"StopMethod", "ALL"}});
  const std::string by(stop.at("RequestId").as_string());
  // The queued one ends with the call; the running one within a keeper beat.
  const auto q = download_task(queued);
  EXPECT_EQ(q.at("BackupSetDownloadStatus"), "stop");
  EXPECT_NE(std::string(q.at("ErrMessage").as_string()).find("stopped by request " + by + " before it started"),
            std::string::npos)
      << q.at("ErrMessage");
  EXPECT_GT(q.at("BackupSetDownloadFinishTime").as_int64(), 0);
  ASSERT_TRUE(wait_until([&] { return status(running) == "stop"; }, 3000)) << "the running download was not stopped";
  const auto r = download_task(running);
  EXPECT_NE(std::string(r.at("ErrMessage").as_string()).find("stopped by request " + by), std::string::npos)
      << r.at("ErrMessage");
  EXPECT_EQ(r.at("BackupSetDownloadIntranetUrl"), "");
  EXPECT_FALSE(partial_exists(running));
  EXPECT_TRUE(fs::is_empty(dir_ / "downloads"));
  // The runner ends the record, then the runtime the task.
  EXPECT_TRUE(wait_until([&] { return stored_states(running).second == "cancelled"; }, 3000));
  EXPECT_EQ(stored_states(queued).second, "cancelled");
}

TEST_F(StopDownloads, StopPlanWithMethodPlanLeavesADownloadRunningToTheEnd) {
  const auto [plan, set] = plan_with_a_set();
  const std::string id = download(set);
  ASSERT_TRUE(wait_until([&] { return status(id) == "running"; }));
  call("StopBackupPlan", {{"BackupPlanId", plan}, {"StopMethod", "PLAN"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // three keeper beats
  EXPECT_EQ(status(id), "running");
  EXPECT_TRUE(partial_exists(id));
  engine_->release = true;
  ASSERT_TRUE(wait_until([&] { return status(id) == "finish"; }));
  const auto d = download_task(id);
  EXPECT_EQ(d.at("BackupSetDataSize").as_int64(), 22);
  EXPECT_NE(std::string(d.at("BackupSetDownloadIntranetUrl").as_string()).find("/downloads/" + id + "/"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "downloads" / (id + ".csv")));
}

TEST_F(StopDownloads, ReleasePlanStopsItsDownloadsAndDeletesThePartialFile) {
  const auto [plan, set] = plan_with_a_set();
  const std::string running = download(set);
  ASSERT_TRUE(wait_until([&] { return status(running) == "running" && partial_exists(running); }));
  const std::string queued = download(set);
  call("ReleaseBackupPlan", {{"BackupPlanId", plan}});
  EXPECT_EQ(stored_states(queued), std::make_pair(std::string("stop"), std::string("cancelled")));
  // The runner ends the record, then the runtime the task: wait for both.
  const auto stopped = std::make_pair(std::string("stop"), std::string("cancelled"));
  ASSERT_TRUE(wait_until([&] { return stored_states(running) == stopped; }, 3000));
  EXPECT_FALSE(partial_exists(running));
}

TEST_F(StopDownloads, ReleasePlanRevokesItsFinishedDownloadsDeletingTheirFiles) {
  const auto [plan, set] = plan_with_a_set();
  engine_->release = true;
  const std::string id = download(set);
  ASSERT_TRUE(wait_until([&] { return status(id) == "finish"; }));
  const fs::path file = dir_ / "downloads" / (id + ".csv");
  ASSERT_TRUE(fs::exists(file));
  const std::string link(download_task(id).at("BackupSetDownloadInternetUrl").as_string());
  const std::string by(call("ReleaseBackupPlan", {{"BackupPlanId", plan}}).at("RequestId").as_string());
  // Gone with the call on the node that holds it (another node's file at its next scheduler pass):
  // the link answers 404 from now on.
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(links_->verify(link.substr(link.find("/downloads/")), clock_.now_ms() / 1000).ok())
      << "the link itself is still well-signed; the file it named is gone";
  ASSERT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto record, tx.get(catalog::Kind::download_task, id));
    EXPECT_EQ(record->doc.at("BackupSetDownloadInternetUrl"), "");
    EXPECT_EQ(record->doc.at("BackupSetDownloadIntranetUrl"), "");
    EXPECT_NE(std::string(record->doc.at("ErrMessage").as_string()).find("released by request " + by), std::string::npos)
        << record->doc.at("ErrMessage");
    return {};
  }).ok());
}
