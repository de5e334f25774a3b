// Test support: an Engine whose precheck passes with no items and whose backups and restores fail
// as "not scripted". A test's engine derives from it and overrides only what the test exercises.
#pragma once

#include "core/errors.h"
#include "engines/engine.h"

namespace opendbs::engines::testing {

class UnscriptedEngine : public Engine {
 public:
  std::vector<PrecheckItem> precheck(const PlanSpec&) override { return {}; }
  core::Result<FullBackupResult> full_backup(const PlanSpec&, repo::SetWriter&, TaskControl&) override {
    return core::errors::internal("full_backup is not scripted in this test");
  }
  core::Status log_backup(const PlanSpec&, repo::Repository&, TaskControl&,
                          const std::function<core::Status(const LogFile&)>&) override {
    return core::errors::internal("log_backup is not scripted in this test");
  }
  core::Status restore(const PlanSpec&, repo::Repository&, const RestoreRequest&, TaskControl&) override {
    return core::errors::internal("restore is not scripted in this test");
  }
};

}  // namespace opendbs::engines::testing
