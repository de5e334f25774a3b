// Parameter combinations refused at the call (log backup and BackupObjects against BackupMethod,
// numbers that are not numbers), the precheck answer of a plan checked more than once and the log
// files DescribeIncrementBackupList shows. Through the dispatcher with a real SQLite catalog and no
// task engine: tasks stay queued; precheck items and log files are written here as tasks write them.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "api/dispatcher_fixture.h"
#include "core/ids.h"

using namespace opendbs;
using boost::json::object;
using api::testing::Answer;

namespace {

class PlanChecksTest : public api::testing::DispatcherFixture {
 protected:
  std::string create_plan(const std::string& method) {
    auto created = call("CreateBackupPlan", {{"BackupMethod", method}, {"DatabaseType", "PostgreSQL"}, {"InstanceClass", "small"}});
    EXPECT_EQ(created.status, 200) << boost::json::serialize(created.body);
    return std::string(created.body.at("BackupPlanId").as_string());
  }

  api::ParamList configure_params(const std::string& plan_id, api::ParamList extra = {}) {
    api::ParamList p{{"BackupPlanId", plan_id},        {"BackupPlanName", "p"},
                     {"SourceEndpointInstanceType", "Other"}, {"SourceEndpointIP", "127.0.0.1"},
                     {"SourceEndpointPort", "5432"},    {"SourceEndpointDatabaseName", "postgres"},
                     {"SourceEndpointUserName", "u"},   {"SourceEndpointPassword", "pw"},
                     {"BackupStrategyType", "manual"}};
    for (auto& e : extra) p.push_back(std::move(e));
    return p;
  }

  api::ParamList create_and_start_params(const std::string& method, api::ParamList extra) {
    api::ParamList p = configure_params("", std::move(extra));
    p.erase(p.begin());  // no BackupPlanId
    p.push_back({"BackupMethod", method});
    p.push_back({"DatabaseType", "PostgreSQL"});
    p.push_back({"InstanceClass", "small"});
    return p;
  }

  int64_t plan_count() {
    return call("DescribeBackupPlanList", {}).body.at("TotalElements").as_int64();
  }

  // The precheck task queued last for the plan, as the task engine would take it.
  std::string newest_precheck_task(const std::string& plan_id) {
    std::string id;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      catalog::Query q{catalog::Kind::task};
      q.parent_id = plan_id;
      q.doc_equals.push_back({"TaskKind", "precheck"});
      q.limit = 1;
      OPENDBS_ASSIGN(auto tasks, tx.list(q));
      if (!tasks.empty()) id = tasks.front().id;
      return {};
    }).ok());
    return id;
  }

  // Writes the items of precheck task `task_id` as run_precheck does.
  void put_items(const std::string& plan_id, const std::string& task_id,
                 const std::vector<std::pair<std::string, std::string>>& items) {
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
      for (size_t i = 0; i < items.size(); ++i) {
        catalog::Record r{task_id + "-" + std::to_string(i), "", plan_id, items[i].second, clock_.now_ms(), {}};
        OPENDBS_ASSIGN(auto plan, tx.get(catalog::Kind::plan, plan_id));
        r.account_id = plan->account_id;
        r.doc = {{"JobId", task_id}, {"Item", items[i].first}, {"Names", items[i].first}, {"State", items[i].second},
                 {"ErrMsg", items[i].second == "failed" ? "the role cannot read public.t" : ""},
                 {"OrderNum", std::to_string(i + 1)}, {"BootTime", clock_.now_ms()}, {"FinishTime", clock_.now_ms()}};
        OPENDBS_TRY(tx.put(catalog::Kind::precheck, r));
      }
      return {};
    }).ok());
  }

};

void expect_names(const std::string& message, std::initializer_list<const char*> words) {
  for (const char* w : words) EXPECT_NE(message.find(w), std::string::npos) << "no " << w << " in: " << message;
}

}  // namespace

TEST_F(PlanChecksTest, LogBackupOfALogicalPostgresPlanIsRefusedAtConfigure) {
  const auto plan = create_plan("logical");
  auto a = call("ConfigureBackupPlan", configure_params(plan, {{"EnableBackupLog", "true"}}));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.code(), "InvalidParameter");
  expect_names(a.message(), {"EnableBackupLog", "BackupMethod=physical", "PostgreSQL"});
  EXPECT_EQ(newest_precheck_task(plan), "") << "nothing was queued";
  // Without log backup the same plan configures.
  EXPECT_EQ(call("ConfigureBackupPlan", configure_params(plan, {{"EnableBackupLog", "false"}})).status, 200);
}

TEST_F(PlanChecksTest, CreateAndStartBackupPlanRefusesLogBackupForLogicalAndCreatesNothing) {
  auto a = call("CreateAndStartBackupPlan", create_and_start_params("logical", {{"EnableBackupLog", "true"}}));
  EXPECT_EQ(a.status, 400) << boost::json::serialize(a.body);
  EXPECT_EQ(a.code(), "InvalidParameter");
  expect_names(a.message(), {"EnableBackupLog", "BackupMethod=physical"});
  EXPECT_EQ(plan_count(), 0);
  EXPECT_EQ(call("CreateAndStartBackupPlan", create_and_start_params("physical", {{"EnableBackupLog", "true"}})).status,
            200);
  EXPECT_EQ(plan_count(), 1);
}

TEST_F(PlanChecksTest, EnableBackupLogIsRefusedForALogicalPostgresPlan) {
  const auto plan = create_plan("logical");
  ASSERT_EQ(call("ConfigureBackupPlan", configure_params(plan)).status, 200);
  auto a = call("EnableBackupLog", {{"BackupPlanId", plan}});
  EXPECT_EQ(a.code(), "InvalidParameter");
  expect_names(a.message(), {"EnableBackupLog", "physical"});
  auto list = call("DescribeBackupPlanList", {{"BackupPlanId", plan}});
  EXPECT_FALSE(list.body.at("Items").at("BackupPlanDetail").at(0).at("EnableBackupLog").as_bool());
}

TEST_F(PlanChecksTest, BackupObjectsOfAPhysicalPlanAreRefusedNamingLogicalBackups) {
  const auto plan = create_plan("physical");
  const std::string objects = R"([{"DBName":"shop"}])";
  auto configured = call("ConfigureBackupPlan", configure_params(plan, {{"BackupObjects", objects}}));
  EXPECT_EQ(configured.code(), "InvalidParameter");
  expect_names(configured.message(), {"BackupObjects", "logical", "whole instance"});
  ASSERT_EQ(call("ConfigureBackupPlan", configure_params(plan, {{"BackupObjects", "[]"}})).status, 200)
      << "an empty list chooses nothing and is harmless";
  auto modified = call("ModifyBackupObjects", {{"BackupPlanId", plan}, {"BackupObjects", objects}});
  EXPECT_EQ(modified.code(), "InvalidParameter");
  // A logical plan takes them.
  const auto logical = create_plan("logical");
  EXPECT_EQ(call("ConfigureBackupPlan", configure_params(logical, {{"BackupObjects", objects}})).status, 200);
  EXPECT_EQ(call("ModifyBackupObjects", {{"BackupPlanId", logical}, {"BackupObjects", objects}}).status, 200);
}

TEST_F(PlanChecksTest, ANumberParameterThatIsNotOneSaysAnInteger) {
  const auto plan = create_plan("physical");
  auto a = call("ConfigureBackupPlan", configure_params(plan, {{"BackupRateLimit", "fast"}}));
  EXPECT_EQ(a.code(), "InvalidParameterValid");
  expect_names(a.message(), {"BackupRateLimit", "expected an integer"});
  auto b = call("DescribeBackupPlanList", {{"PageSize", "ten"}});
  expect_names(b.message(), {"PageSize", "expected an integer"});
}

TEST_F(PlanChecksTest, PrecheckProgressShowsTheLatestRunOnly) {
  const auto plan = create_plan("logical");
  ASSERT_EQ(call("ConfigureBackupPlan", configure_params(plan)).status, 200);
  const auto first = newest_precheck_task(plan);
  put_items(plan, first, {{"CHECK_CONNECTION", "finish"}, {"CHECK_VERSION", "finish"}, {"CHECK_PRIVILEGES", "failed"}});
  auto failed = call("DescribePreCheckProgressList", {{"BackupPlanId", plan}});
  EXPECT_EQ(failed.body.at("Status").as_string(), "failed");

  clock_.advance_ms(1000);
  ASSERT_EQ(call("ConfigureBackupPlan", configure_params(plan)).status, 200);
  const auto second = newest_precheck_task(plan);
  ASSERT_NE(second, first);
  auto running = call("DescribePreCheckProgressList", {{"BackupPlanId", plan}});
  EXPECT_EQ(running.body.at("Status").as_string(), "running") << "the new run has no items yet";
  EXPECT_EQ(running.body.at("Progress").as_int64(), 0);
  EXPECT_TRUE(running.body.at("Items").at("PreCheckProgressDetail").as_array().empty());

  put_items(plan, second, {{"CHECK_CONNECTION", "finish"}, {"CHECK_VERSION", "finish"}, {"CHECK_PRIVILEGES", "finish"}});
  auto passed = call("DescribePreCheckProgressList", {{"BackupPlanId", plan}});
  EXPECT_EQ(passed.body.at("Status").as_string(), "finish");
  EXPECT_EQ(passed.body.at("Progress").as_int64(), 100);
  const auto& items = passed.body.at("Items").at("PreCheckProgressDetail").as_array();
  ASSERT_EQ(items.size(), 3u);
  for (const auto& i : items) {
    EXPECT_EQ(i.at("JobId").as_string(), second);
    EXPECT_EQ(i.at("State").as_string(), "finish");
  }
}

TEST_F(PlanChecksTest, TheIncrementListShowsLogFilesInDbsStatusesOnlyNotExpiredOnes) {
  const auto plan = create_plan("physical");
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto p, tx.get(catalog::Kind::plan, plan));
    int seq = 0;
    for (const char* status : {"expired", "COMPLETED", "UNCOMPLETED", "FILLING"}) {
      const std::string name = "00000001000000000000003" + std::to_string(seq);
      catalog::Record f{plan + "-" + name, p->account_id, plan, status, clock_.now_ms() + seq, {}};
      f.doc = {{"BackupSetId", name}, {"BackupStatus", status}, {"StartTime", clock_.now_ms()},
               {"EndTime", clock_.now_ms()}, {"BackupSize", 16}, {"_Seq", seq++}};
      OPENDBS_TRY(tx.put(catalog::Kind::log_file, f));
    }
    return {};
  }).ok());
  auto list = call("DescribeIncrementBackupList", {{"BackupPlanId", plan}});
  ASSERT_EQ(list.status, 200) << boost::json::serialize(list.body);
  EXPECT_EQ(list.body.at("TotalElements").as_int64(), 3);
  for (const auto& f : list.body.at("Items").at("IncrementBackupFile").as_array())
    EXPECT_NE(f.at("BackupStatus").as_string(), "expired");
}
