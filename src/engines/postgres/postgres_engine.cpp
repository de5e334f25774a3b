#include "engines/postgres/postgres_engine.h"

#include "core/errors.h"
#include "engines/postgres/base_backup.h"
#include "engines/postgres/logical_backup.h"
#include "engines/postgres/logical_restore.h"
#include "engines/postgres/physical_restore.h"
#include "engines/postgres/precheck.h"

namespace opendbs::engines {
namespace {

bool logical(const PlanSpec& plan) { return plan.backup_method == "logical"; }

}  // namespace

std::vector<PrecheckItem> PostgresEngine::precheck(const PlanSpec& plan) { return postgres::precheck_source(plan); }

core::Result<FullBackupResult> PostgresEngine::full_backup(const PlanSpec& plan, repo::SetWriter& set,
                                                           TaskControl& control) {
  if (logical(plan)) return postgres::logical_full_backup(plan, set, control);
  return postgres::physical_full_backup(plan, set, control);
}

core::Status PostgresEngine::log_backup(const PlanSpec& plan, repo::Repository& repository, TaskControl& control,
                                        const std::function<core::Status(const LogFile&)>& on_file) {
  if (logical(plan))
    return core::make_error("OperationDenied.NotApplicable",
                            "log backup of a PostgreSQL plan needs BackupMethod=physical (a logical set restores to its own moment)");
  return postgres::stream_wal(plan, repository, control, on_file, options_.wal);
}

core::Status PostgresEngine::restore(const PlanSpec& plan, repo::Repository& repository, const RestoreRequest& request,
                                     TaskControl& control) {
  OPENDBS_ASSIGN(auto manifest, repository.load_manifest(request.set_id));
  auto method = manifest.engine_metadata.find("method");
  if (method != manifest.engine_metadata.end() && method->value() == "logical")
    return postgres::logical_restore(repository, request, control);
  return postgres::physical_restore(plan, repository, request, control);
}

core::Status PostgresEngine::release_log(const PlanSpec& plan) {
  if (logical(plan)) return {};
  return postgres::drop_wal_slot(plan);
}

}  // namespace opendbs::engines
