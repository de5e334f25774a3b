// The TaskRuntime test fixture: the TestEngine for MySQL plans, a real SQLite catalog and repository in a
// temp dir, a manual clock for the scheduler and leases, and eventually() for what threads do.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <functional>
#include <thread>

#include "catalog/store.h"
#include "core/errors.h"
#include "core/ids.h"
#include "jobs/runtime.h"
#include "jobs/tasks.h"
#include "repo/test_support.h"
#include "test_engine.h"

namespace opendbs::testing {

using catalog::Kind;

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("opendbs-rt-" + core::random_alnum(8));
    std::filesystem::create_directories(dir_);
    store_ = std::move(catalog::open_store((dir_ / "catalog.db").string()).value());
    repository_ = repo::testing::init_test_repository((dir_ / "repo").string());
    engines_.add("MySQL", std::make_shared<TestEngine>());
  }
  void TearDown() override {
    runtime_.reset();
    std::filesystem::remove_all(dir_);
  }

  // `store`: what the runtime uses as its catalog (default: store_; a test may wrap it).
  void make_runtime(const std::string& node, catalog::Store* store = nullptr) {
    jobs::RuntimeOptions o;
    o.node_id = node;
    o.node_identifier = node;
    o.heartbeat_ms = 100;
    o.lease_ms = 1000;
    o.scheduler_interval_ms = 3600000;  // the tests call schedule_once themselves
    runtime_ = std::make_unique<jobs::TaskRuntime>(store ? *store : *store_, box_, *repository_, engines_, clock_, o);
  }

  catalog::Record put_plan(const std::string& period, const std::string& start, int64_t started_ms) {
    catalog::Record plan{core::new_plan_id(), "A", "", "running", started_ms, {}};
    plan.doc = {{"BackupPlanId", plan.id}, {"BackupPlanStatus", "running"}, {"BackupStrategyType", "simple"},
                {"BackupPeriod", period}, {"BackupStartTime", start}, {"EnableBackupLog", false},
                {"BackupRetentionPeriod", 1}, {"BackupMethod", "logical"}, {"BackupObjects", ""},
                {"DatabaseType", "MySQL"}, {"SourceEndpointDatabaseName", "size=65536;rate=100000000"},
                {"_StartedAtMs", started_ms}};
    EXPECT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(Kind::plan, plan); }).ok());
    return plan;
  }

  // Queues a full backup of `plan`, starts the runtime and waits until the set is finished.
  void back_up_once(const catalog::Record& plan) {
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) {
      return jobs::queue_full_backup(tx, plan, clock_.now_ms(), "test").ok() ? core::Status() : core::errors::internal("x");
    }).ok());
    runtime_->start();
    eventually([&] { return count(Kind::backup_set, plan.id, {"finish"}) > 0; });
    ASSERT_EQ(count(Kind::backup_set, plan.id, {"finish"}), 1);
  }

  // Waits until `holds()`, for at most 30 s: a loaded CI machine may take seconds where an idle one
  // takes milliseconds, and a wait that ends as soon as it holds costs nothing.
  static bool eventually(const std::function<bool()>& holds) {
    for (int i = 0; i < 1500; ++i) {
      if (holds()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return holds();
  }

  int64_t count(Kind kind, const std::string& plan, std::vector<std::string> states = {}) {
    int64_t n = 0;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      catalog::Query q{kind};
      q.parent_id = plan;
      q.states = std::move(states);
      OPENDBS_ASSIGN(n, tx.count(q));
      return {};
    }).ok());
    return n;
  }

  std::filesystem::path dir_;
  core::ManualClock clock_{*core::parse_iso8601("2024-01-20T20:00:00Z")};  // a Saturday
  std::unique_ptr<catalog::Store> store_;
  iam::SecretBox box_ = iam::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<repo::Repository> repository_;
  engines::EngineRegistry engines_;
  std::unique_ptr<jobs::TaskRuntime> runtime_;
};

}  // namespace opendbs::testing
