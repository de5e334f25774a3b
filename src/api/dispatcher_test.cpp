// The dispatcher end to end without HTTP: requests signed like the SDKs sign them, a real SQLite catalog,
// a manual clock. Covers authentication, the error envelope, validation, RAM, ClientToken and the plan
// state machine (the task engine is absent here: tasks stay queued).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <set>
#include <thread>
#include <tuple>

#include "api/dispatcher_fixture.h"
#include "catalog/sqlite/damage_for_tests.h"
#include "core/file.h"
#include "core/ids.h"
#include "core/utf8.h"

using namespace opendbs;
using boost::json::object;
using api::testing::Answer;

namespace {

class DispatcherTest : public api::testing::DispatcherFixture {
 protected:
  std::string create_configured_plan() {
    auto created = call("CreateBackupPlan", {{"BackupMethod", "logical"}, {"DatabaseType", "MySQL"}, {"InstanceClass", "small"}});
    EXPECT_EQ(created.status, 200) << boost::json::serialize(created.body);
    const std::string id(created.body.at("BackupPlanId").as_string());
    auto configured = call("ConfigureBackupPlan", {{"BackupPlanId", id}, {"BackupPlanName", "p"},
                                                   {"SourceEndpointInstanceType", "Other"}, {"SourceEndpointIP", "127.0.0.1"},
                                                   {"SourceEndpointPort", "3306"}, {"SourceEndpointUserName", "u"},
                                                   {"SourceEndpointPassword", "secret-pw"}, {"BackupPeriod", "Monday"},
                                                   {"BackupStartTime", "01:00"}});
    EXPECT_EQ(configured.status, 200) << boost::json::serialize(configured.body);
    return id;
  }

  std::string plan_status(const std::string& id) {
    auto list = call("DescribeBackupPlanList", {{"BackupPlanId", id}});
    return std::string(list.body.at("Items").at("BackupPlanDetail").as_array().at(0).at("BackupPlanStatus").as_string());
  }
};

}  // namespace

TEST_F(DispatcherTest, SuccessEnvelopeHasNoCodeAndAnUpperCaseRequestId) {
  for (bool v3 : {false, true}) {
    auto a = call("DescribeRegions", {}, {.v3 = v3});
    EXPECT_EQ(a.status, 200);
    EXPECT_TRUE(a.body.at("Success").as_bool());
    EXPECT_EQ(a.body.at("HttpStatusCode").as_int64(), 200);
    EXPECT_FALSE(a.body.contains("Code"));
    const std::string rid(a.body.at("RequestId").as_string());
    EXPECT_EQ(rid.size(), 36u);
    EXPECT_EQ(rid, [&] { std::string u = rid; for (auto& c : u) c = static_cast<char>(std::toupper(c)); return u; }());
  }
}

TEST_F(DispatcherTest, AuthenticationErrorsCarryBothFamiliesOfFields) {
  auto unknown = call("DescribeRegions", {}, {.key = "nokey", .secret = "whatever"});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body.at("Code").as_string(), "InvalidAccessKeyId.NotFound");
  EXPECT_EQ(unknown.body.at("ErrCode").as_string(), "InvalidAccessKeyId.NotFound");
  EXPECT_FALSE(unknown.body.at("Success").as_bool());

  auto wrong = call("DescribeRegions", {}, {.v3 = true, .secret = "wrongsecret"});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.body.at("Code").as_string(), "SignatureDoesNotMatch");
  EXPECT_NE(std::string(wrong.body.at("Message").as_string()).find("ACS3-HMAC-SHA256"), std::string::npos);

  auto stale = call("DescribeRegions", {}, {.timestamp = core::format_iso8601(clock_.now_ms() - 16 * 60000)});
  EXPECT_EQ(stale.body.at("Code").as_string(), "InvalidTimeStamp.Expired");

  auto first = call("DescribeRegions", {}, {.nonce = "fixed-nonce-1"});
  auto again = call("DescribeRegions", {}, {.nonce = "fixed-nonce-1"});
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(again.body.at("Code").as_string(), "SignatureNonceUsed");

  EXPECT_EQ(call("NoSuchAction", {}).body.at("Code").as_string(), "InvalidAction.NotFound");
}

TEST_F(DispatcherTest, ValidationNamesTheParameter) {
  auto missing = call("CreateBackupPlan", {{"BackupMethod", "logical"}, {"DatabaseType", "MySQL"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body.at("Code").as_string(), "MissingParameter");
  EXPECT_NE(std::string(missing.body.at("Message").as_string()).find("InstanceClass"), std::string::npos);

  auto bad_enum = call("CreateBackupPlan", {{"BackupMethod", "magic"}, {"DatabaseType", "MySQL"}, {"InstanceClass", "small"}});
  EXPECT_EQ(bad_enum.body.at("Code").as_string(), "InvalidParameterValid");
  EXPECT_NE(std::string(bad_enum.body.at("Message").as_string()).find("BackupMethod"), std::string::npos);

  const std::string id = create_configured_plan();
  auto bad_period = call("ModifyBackupStrategy", {{"BackupPlanId", id}, {"BackupPeriod", "Funday"}});
  EXPECT_NE(std::string(bad_period.body.at("Message").as_string()).find("BackupPeriod"), std::string::npos);
  auto bad_time = call("ModifyBackupStrategy", {{"BackupPlanId", id}, {"BackupPeriod", "Monday"}, {"BackupStartTime", "24:00"}});
  EXPECT_NE(std::string(bad_time.body.at("Message").as_string()).find("BackupStartTime"), std::string::npos);
  auto bad_storage = call("ModifyStorageStrategy", {{"BackupPlanId", id}, {"BackupRetentionPeriod", "30"},
                                                    {"DuplicationInfrequentAccessPeriod", "40"}, {"DuplicationArchivePeriod", "20"}});
  EXPECT_EQ(bad_storage.body.at("Code").as_string(), "InvalidParameterValid");
  auto unknown_plan = call("StopBackupPlan", {{"BackupPlanId", "dbsnosuchplan1"}, {"StopMethod", "ALL"}});
  EXPECT_EQ(unknown_plan.body.at("Code").as_string(), "InvalidJobId");
  EXPECT_NE(std::string(unknown_plan.body.at("Message").as_string()).find("dbsnosuchplan1"), std::string::npos);
}

// Answers are JSON, which is UTF-8 text: a parameter that is not UTF-8 is refused naming it (it could be
// neither kept nor quoted), and a value a message quotes cut short is cut between characters.
TEST_F(DispatcherTest, ParametersThatAreNotUtf8AreRefusedAndQuotedValuesAreCutBetweenCharacters) {
  const std::string id = create_configured_plan();
  auto latin1 = call("ModifyBackupPlanName", {{"BackupPlanId", id}, {"BackupPlanName", "bad\xE9name"}});
  EXPECT_EQ(latin1.status, 400);
  EXPECT_EQ(latin1.body.at("Code").as_string(), "InvalidParameterValid");
  const std::string refused(latin1.body.at("Message").as_string());
  EXPECT_NE(refused.find("BackupPlanName value \"bad\\xE9name\" is not valid: expected UTF-8 text"), std::string::npos)
      << refused;

  const std::string a19(19, 'a');
  auto long_name = call("ModifyBackupPlanName", {{"BackupPlanId", id}, {"BackupPlanName", a19 + "\xC3\xBC" + std::string(200, 'b')}});
  EXPECT_EQ(long_name.status, 400);
  const std::string cut(long_name.body.at("Message").as_string());
  EXPECT_TRUE(core::is_valid_utf8(cut)) << cut;
  EXPECT_NE(cut.find("\"" + a19 + "...\""), std::string::npos) << cut;
}

TEST_F(DispatcherTest, PlanStateMachineStartStopResume) {
  const std::string id = create_configured_plan();
  EXPECT_EQ(plan_status(id), "init");
  auto started = call("StartBackupPlan", {{"BackupPlanId", id}});
  ASSERT_EQ(started.status, 200);
  EXPECT_FALSE(started.body.at("CreatedFullBackupsetId").as_string().empty());
  EXPECT_EQ(plan_status(id), "running");
  EXPECT_EQ(call("StopBackupPlan", {{"BackupPlanId", id}, {"StopMethod", "PLAN"}}).status, 200);
  EXPECT_EQ(plan_status(id), "pause");
  // The full backup queued by Start survives PLAN; ALL cancels it and records the request.
  auto sets = call("DescribeFullBackupList", {{"BackupPlanId", id}});
  EXPECT_EQ(sets.body.at("TotalElements").as_int64(), 1);
  auto stop_all = call("StopBackupPlan", {{"BackupPlanId", id}, {"StopMethod", "ALL"}});
  EXPECT_EQ(stop_all.status, 200);
  ASSERT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
    auto task = tx.get(catalog::Kind::task, std::string(started.body.at("CreatedFullBackupsetId").as_string()));
    EXPECT_EQ((*task)->state, "cancelled");
    EXPECT_EQ((*task)->doc.at("_CancelRequestedBy").as_string(), stop_all.body.at("RequestId").as_string());
    return {};
  }).ok());
  EXPECT_EQ(call("StopBackupPlan", {{"BackupPlanId", id}, {"StopMethod", "ALL"}}).status, 200);  // paused: no change
  EXPECT_EQ(call("StartBackupPlan", {{"BackupPlanId", id}}).status, 200);
  EXPECT_EQ(plan_status(id), "running");
  EXPECT_EQ(call("ReleaseBackupPlan", {{"BackupPlanId", id}}).status, 200);
  EXPECT_EQ(call("DescribeBackupPlanList", {{"BackupPlanId", id}}).body.at("TotalElements").as_int64(), 0);
  EXPECT_EQ(call("ReleaseBackupPlan", {{"BackupPlanId", id}}).body.at("Code").as_string(), "InvalidJobId");
}

TEST_F(DispatcherTest, PasswordsAreNeitherReturnedNorStoredInTheClear) {
  const std::string id = create_configured_plan();
  auto list = call("DescribeBackupPlanList", {{"BackupPlanId", id}});
  EXPECT_EQ(boost::json::serialize(list.body).find("secret-pw"), std::string::npos);
  auto db = core::read_file((dir_ / "catalog.db").string());
  auto wal = core::read_file((dir_ / "catalog.db-wal").string());
  EXPECT_EQ(db->find("secret-pw"), std::string::npos);
  if (wal.ok()) {
    EXPECT_EQ(wal->find("secret-pw"), std::string::npos);
  }
}

TEST_F(DispatcherTest, ClientTokenGivesOneEffectUnderConcurrency) {
  const std::string id = create_configured_plan();
  std::vector<std::thread> clients;
  std::mutex mu;
  std::set<std::string> set_ids;
  for (int i = 0; i < 16; ++i)
    clients.emplace_back([&] {
      auto a = call("StartBackupPlan", {{"BackupPlanId", id}, {"ClientToken", "tok-1"}});
      std::lock_guard lock(mu);
      ASSERT_EQ(a.status, 200);
      set_ids.insert(std::string(a.body.at("CreatedFullBackupsetId").as_string()));
    });
  for (auto& c : clients) c.join();
  EXPECT_EQ(set_ids.size(), 1u);
  EXPECT_EQ(call("DescribeFullBackupList", {{"BackupPlanId", id}}).body.at("TotalElements").as_int64(), 1);
  auto mismatch = call("StopBackupPlan", {{"BackupPlanId", id}, {"StopMethod", "ALL"}, {"ClientToken", "tok-1"}});
  EXPECT_EQ(mismatch.status, 200);  // another action: another token namespace
  auto other_params = call("StartBackupPlan", {{"BackupPlanId", "dbsother"}, {"ClientToken", "tok-1"}});
  EXPECT_EQ(other_params.body.at("Code").as_string(), "IdempotentParameterMismatch");
}

TEST_F(DispatcherTest, RamPolicyLimitsAUserToOnePlanAndAccountsAreIsolated) {
  const std::string mine = create_configured_plan();
  const std::string other = create_configured_plan();
  const std::string account(directory_->account_by_name("default").value());
  ASSERT_TRUE(directory_->create_user(account, "reader").ok());
  auto key = directory_->create_access_key(account, "reader").value();
  ASSERT_TRUE(directory_->attach_policy(account, "reader", "p", R"({"Version":"1","Statement":[
      {"Effect":"Allow","Action":"dbs:Describe*","Resource":"acs:dbs:*:*:backupplan/)" + mine + R"("}]})").ok());
  auto allowed = call("DescribeBackupPlanList", {{"BackupPlanId", mine}}, as(key));
  EXPECT_EQ(allowed.status, 200);
  auto denied = call("StopBackupPlan", {{"BackupPlanId", mine}, {"StopMethod", "ALL"}}, as(key));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body.at("Code").as_string(), "Request.Forbidden");
  EXPECT_EQ(denied.body.at("Message").as_string(), "Have no Permissions");
  EXPECT_EQ(call("DescribeBackupPlanList", {{"BackupPlanId", other}}, as(key)).status, 403);

  auto second = directory_->create_account("second").value();
  auto second_key = directory_->create_root_key(second).value();
  auto foreign = call("StopBackupPlan", {{"BackupPlanId", mine}, {"StopMethod", "ALL"}}, as(second_key));
  EXPECT_EQ(foreign.body.at("Code").as_string(), "InvalidJobId");
  EXPECT_EQ(call("DescribeBackupPlanList", {}, as(second_key))
                .body.at("TotalElements").as_int64(), 0);
}

TEST_F(DispatcherTest, RestoreTimeOutsideEveryRangeIsRejectedWithTheNearestRange) {
  const std::string id = create_configured_plan();
  auto a = call("CreateRestoreTask", {{"BackupPlanId", id}, {"RestoreTaskName", "r"}, {"RestoreTime", "1705307400000"},
                                      {"DestinationEndpointInstanceType", "Agent"}, {"RestoreDir", "/tmp/x"}});
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(std::string(a.body.at("Message").as_string()).find("no finished backup set"), std::string::npos);
}

// A log file is downloadable when something of it is stored: COMPLETED, or UNCOMPLETED with bytes
// (the engine serves its newest partial set). A FILLING file is still being written; an UNCOMPLETED
// one with no bytes has no partial set to serve.
TEST_F(DispatcherTest, IncrementDownloadsTakeCompletedFilesAndUncompletedOnesHoldingData) {
  const std::string plan = create_configured_plan();
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto p, tx.get(catalog::Kind::plan, plan));
    OPENDBS_TRY(tx.put(catalog::Kind::task, catalog::Record{"job1", p->account_id, plan, "running", 1, {}}));
    const std::vector<std::tuple<std::string, std::string, int64_t>> files = {
        {"whole", "COMPLETED", 16 << 20}, {"partial", "UNCOMPLETED", 8192},
        {"filling", "FILLING", 8192}, {"empty", "UNCOMPLETED", 0}};
    for (const auto& [name, state, size] : files)
      OPENDBS_TRY(tx.put(catalog::Kind::log_file,
                         catalog::Record{plan + "-" + name, p->account_id, plan, state, 1,
                                         {{"BackupSetId", name}, {"BackupStatus", state}, {"BackupSize", size}}}));
    return {};
  }).ok());
  auto download = [&](const std::string& name) {
    return call("CreateIncrementBackupSetDownload", {{"BackupSetId", "job1"}, {"BackupSetName", name}});
  };
  EXPECT_EQ(download("whole").status, 200);
  EXPECT_EQ(download("partial").status, 200);
  for (const std::string name : {"filling", "empty"}) {
    const auto refused = download(name);
    EXPECT_EQ(refused.status, 409) << name;
    EXPECT_EQ(refused.body.at("Code"), "OperationDenied.PlanStatus") << name;
  }
}

// One record that is not JSON (a damaged row) leaves the listings answering with the others, and a
// call naming that record says which record of the catalog it cannot read.
TEST_F(DispatcherTest, ARecordThatIsNotJsonLeavesListingsAnsweringAndIsNamedWhenAskedFor) {
  const std::string kept = create_configured_plan(), damaged = create_configured_plan();
  ASSERT_EQ(call("StartBackupPlan", {{"BackupPlanId", kept}}).status, 200);
  ASSERT_EQ(call("StartBackupPlan", {{"BackupPlanId", kept}}).status, 200);
  auto sets = call("DescribeFullBackupList", {{"BackupPlanId", kept}});
  ASSERT_EQ(sets.body.at("TotalElements").as_int64(), 2);
  const auto& set_items = sets.body.at("Items").at("FullBackupFile").as_array();
  const std::string damaged_set(set_items.at(0).at("BackupSetId").as_string());
  const std::string kept_set(set_items.at(1).at("BackupSetId").as_string());
  catalog::testing::damage_document((dir_ / "catalog.db").string(), catalog::Kind::plan, damaged);
  catalog::testing::damage_document((dir_ / "catalog.db").string(), catalog::Kind::backup_set, damaged_set);

  auto plans = call("DescribeBackupPlanList", {});
  ASSERT_EQ(plans.status, 200) << boost::json::serialize(plans.body);
  const auto& plan_items = plans.body.at("Items").at("BackupPlanDetail").as_array();
  ASSERT_EQ(plan_items.size(), 1u);
  EXPECT_EQ(plan_items.at(0).at("BackupPlanId").as_string(), kept);
  auto kept_sets = call("DescribeFullBackupList", {{"BackupPlanId", kept}});
  ASSERT_EQ(kept_sets.status, 200) << boost::json::serialize(kept_sets.body);
  const auto& kept_items = kept_sets.body.at("Items").at("FullBackupFile").as_array();
  ASSERT_EQ(kept_items.size(), 1u);
  EXPECT_EQ(kept_items.at(0).at("BackupSetId").as_string(), kept_set);

  auto direct = call("DescribeFullBackupList", {{"BackupPlanId", damaged}});
  EXPECT_EQ(direct.status, 500);
  EXPECT_EQ(direct.code(), "Corrupt");
  EXPECT_NE(direct.message().find("catalog record plan " + damaged), std::string::npos) << direct.message();
}

TEST_F(DispatcherTest, EveryOperationOfTheReferenceIsRegistered) {
  EXPECT_EQ(api::operations().size(), 36u);
  std::set<std::string> names;
  for (const auto& op : api::operations()) names.insert(op.name);
  EXPECT_EQ(names.size(), 36u);
  auto doc = core::read_file(std::string(OPENDBS_SOURCE_DIR) + "/docs/API.md");
  ASSERT_TRUE(doc.ok()) << "docs/API.md is missing";
  for (const auto& n : names) EXPECT_NE(doc->find("`" + n + "`"), std::string::npos) << n << " missing from docs/API.md";
}
