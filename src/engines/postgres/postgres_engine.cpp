#include "engines/postgres/postgres_engine.h"

#include "core/errors.h"
#include "engines/postgres/base_backup.h"
#include "engines/postgres/physical_restore.h"
#include "engines/postgres/precheck.h"

namespace opendbs::engines {
namespace {

bool logical(const PlanSpec& plan) { return plan.backup_method == "logical"; }

core::Error logical_unsupported() {
  return core::make_error("EngineUnavailable",
                          "logical PostgreSQL backups are not available in this build: use BackupMethod=physical");
}

}  // namespace

std::vector<PrecheckItem> PostgresEngine::precheck(const PlanSpec& plan) {
  auto items = postgres::precheck_source(plan);
  if (logical(plan)) items.push_back({"CHECK_BACKUP_METHOD", "failed", logical_unsupported().message});
  return items;
}

core::Result<FullBackupResult> PostgresEngine::full_backup(const PlanSpec& plan, repo::SetWriter& set,
                                                           TaskControl& control) {
  if (logical(plan)) return logical_unsupported();
  return postgres::physical_full_backup(plan, set, control);
}

core::Status PostgresEngine::log_backup(const PlanSpec& plan, repo::Repository& repository, TaskControl& control,
                                        const std::function<core::Status(const LogFile&)>& on_file) {
  if (logical(plan)) return logical_unsupported();
  return postgres::stream_wal(plan, repository, control, on_file, options_.wal);
}

core::Status PostgresEngine::restore(const PlanSpec& plan, repo::Repository& repository, const RestoreRequest& request,
                                     TaskControl& control) {
  if (logical(plan)) return logical_unsupported();
  return postgres::physical_restore(plan, repository, request, control);
}

}  // namespace opendbs::engines
