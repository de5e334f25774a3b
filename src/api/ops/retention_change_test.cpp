// ModifyStorageStrategy governs the sets and log files a plan already has: their BackupSetExpiredTime
// (DescribeFullBackupList, DescribeIncrementBackupList) follows the new BackupRetentionPeriod at once,
// and retention (jobs::expire_due, the scheduler's pass) keeps or expires them by it. Raising the
// retention keeps what exists past the old expiry; lowering it frees it at the new one.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/dispatcher_fixture.h"
#include "jobs/retention.h"

namespace opendbs::api {
namespace {

using boost::json::object;
using catalog::Kind;

constexpr int64_t kDay = 86400000LL;

class RetentionChange : public testing::DispatcherFixture {
 protected:
  // A configured plan with retention `days`, a finished full set created now (its log starting at
  // segment 1) and two completed log files after it, the second ending a day later.
  void SetUp() override {
    DispatcherFixture::SetUp();
    plan_ = body("CreateBackupPlan", {{"BackupMethod", "physical"}, {"DatabaseType", "PostgreSQL"},
                                      {"InstanceClass", "small"}})
                .at("BackupPlanId")
                .as_string();
    body("ConfigureBackupPlan", {{"BackupPlanId", plan_}, {"BackupPlanName", "p"}, {"SourceEndpointInstanceType", "Other"},
                                 {"SourceEndpointIP", "127.0.0.1"}, {"SourceEndpointPort", "5432"},
                                 {"SourceEndpointUserName", "u"}, {"SourceEndpointPassword", "pw"},
                                 {"SourceEndpointDatabaseName", "postgres"}, {"BackupStrategyType", "manual"},
                                 {"BackupRetentionPeriod", "3"},
                                 {"DuplicationInfrequentAccessPeriod", "1"}, {"DuplicationArchivePeriod", "2"}});
    created_ = clock_.now_ms();
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
      catalog::Record set{"set1", "A", plan_, "finish", created_, {}};
      OPENDBS_ASSIGN(auto plan, tx.get(Kind::plan, plan_));
      set.account_id = plan->account_id;
      set.doc = {{"BackupSetId", "set1"}, {"BackupStatus", "finish"}, {"CreateTime", created_},
                 {"StartTime", created_}, {"EndTime", created_ + 1000}, {"BackupSize", 10},
                 {"BackupSetExpiredTime", created_ + 3 * kDay}, {"_LogStartSeq", 1}};
      OPENDBS_TRY(tx.put(Kind::backup_set, set));
      for (int seq : {1, 2}) {
        const std::string name = "00000001000000000000000" + std::to_string(seq);
        const int64_t end = created_ + (seq - 1) * kDay + 2000;
        catalog::Record f{plan_ + "-" + name, plan->account_id, plan_, "COMPLETED", created_, {}};
        f.doc = {{"BackupSetId", name}, {"BackupSetJobId", "t1"}, {"BackupStatus", "COMPLETED"},
                 {"StartTime", created_}, {"EndTime", end}, {"BackupSize", 16}, {"_Seq", seq},
                 {"BackupSetExpiredTime", end + 3 * kDay}};
        OPENDBS_TRY(tx.put(Kind::log_file, f));
      }
      return {};
    }).ok());
  }

  object body(const std::string& action, ParamList params) {
    auto answer = call(action, std::move(params));
    EXPECT_EQ(answer.status, 200) << action << ": " << boost::json::serialize(answer.body);
    return answer.body;
  }

  void set_retention(int days, int ia, int archive) {
    body("ModifyStorageStrategy", {{"BackupPlanId", plan_}, {"BackupRetentionPeriod", std::to_string(days)},
                                   {"DuplicationInfrequentAccessPeriod", std::to_string(ia)},
                                   {"DuplicationArchivePeriod", std::to_string(archive)}});
  }

  int64_t set_expiry() {
    auto list = body("DescribeFullBackupList", {{"BackupPlanId", plan_}});
    return list.at("Items").at("FullBackupFile").as_array().at(0).at("BackupSetExpiredTime").as_int64();
  }
  // BackupSetExpiredTime of each listed log file by name; expired files are no longer listed.
  std::map<std::string, int64_t> log_expiries() {
    std::map<std::string, int64_t> out;
    auto list = body("DescribeIncrementBackupList", {{"BackupPlanId", plan_}});
    for (const auto& item : list.at("Items").at("IncrementBackupFile").as_array())
      out[std::string(item.at("BackupSetId").as_string())] = item.at("BackupSetExpiredTime").as_int64();
    return out;
  }
  std::string set_state() {
    std::string state;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto s, tx.get(Kind::backup_set, "set1"));
      state = s->state;
      return {};
    }).ok());
    return state;
  }
  // One retention pass at the clock's now, as the scheduler runs it.
  jobs::Expired expire_now() {
    jobs::Expired out;
    EXPECT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(out, jobs::expire_due(tx, clock_.now_ms()));
      return {};
    }).ok());
    return out;
  }

  std::string plan_;
  int64_t created_ = 0;
};

TEST_F(RetentionChange, RaisingRetentionMovesTheExpiryOfExistingSetsAndLogFiles) {
  set_retention(730, 180, 365);
  EXPECT_EQ(set_expiry(), created_ + 730 * kDay);
  const auto logs = log_expiries();
  EXPECT_EQ(logs.at("000000010000000000000001"), created_ + 2000 + 730 * kDay);
  EXPECT_EQ(logs.at("000000010000000000000002"), created_ + kDay + 2000 + 730 * kDay);
}

TEST_F(RetentionChange, RaisingRetentionKeepsEverythingPastTheOldExpiry) {
  set_retention(730, 180, 365);
  clock_.advance_ms(10 * kDay);  // well past the old 3 days
  const auto expired = expire_now();
  EXPECT_TRUE(expired.sets.empty());
  EXPECT_TRUE(expired.logs.empty());
  EXPECT_EQ(set_state(), "finish");
  EXPECT_EQ(log_expiries().size(), 2u);
}

TEST_F(RetentionChange, LoweringRetentionExpiresAtTheNewExpiry) {
  // Taken while the plan kept 730 days.
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
    for (Kind kind : {Kind::backup_set, Kind::log_file}) {
      catalog::Query q{kind};
      q.parent_id = plan_;
      OPENDBS_ASSIGN(auto records, tx.list(q));
      for (auto& r : records) {
        r.doc["BackupSetExpiredTime"] = r.doc.at("BackupSetExpiredTime").as_int64() + 727 * kDay;
        OPENDBS_TRY(tx.put(kind, r));
      }
    }
    return {};
  }).ok());
  set_retention(3, 1, 2);
  EXPECT_EQ(set_expiry(), created_ + 3 * kDay);
  clock_.advance_ms(3 * kDay - 1);
  EXPECT_TRUE(expire_now().sets.empty());
  clock_.advance_ms(1);
  EXPECT_EQ(expire_now().sets, std::vector<std::string>{"set1"});
  EXPECT_EQ(set_state(), "expired");
  // Each log file at its own end + 3 days: the first 2 s later (no kept set needs it any more), the
  // second a day after that.
  clock_.advance_ms(2000);
  const auto expired = expire_now();
  ASSERT_EQ(expired.logs.size(), 1u);
  EXPECT_EQ(expired.logs[0].second, "000000010000000000000001");
  EXPECT_EQ(log_expiries().size(), 1u);
  clock_.advance_ms(kDay);
  EXPECT_EQ(expire_now().logs.size(), 1u);
  EXPECT_TRUE(log_expiries().empty());
}

TEST_F(RetentionChange, LogAKeptSetNeedsStaysAndShowsWhenItWillGo) {
  // A log file that ended before the set was created (its segment holds the set's start): by its own
  // end it would expire before the set; it stays while the set needs it, and says so.
  ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto f, tx.get(Kind::log_file, plan_ + "-000000010000000000000001"));
    f->doc["EndTime"] = created_ - kDay;
    return tx.put(Kind::log_file, *f);
  }).ok());
  set_retention(5, 1, 2);
  EXPECT_EQ(log_expiries().at("000000010000000000000001"), created_ + 5 * kDay) << "the set's expiry, not its own";
  clock_.advance_ms(4 * kDay + 1);  // past the file's own end + 5 days, before the set's expiry
  EXPECT_TRUE(expire_now().logs.empty());
  clock_.advance_ms(kDay);
  EXPECT_EQ(expire_now().sets.size(), 1u);
}

}  // namespace
}  // namespace opendbs::api
