#include "engines/postgres/postgres_engine.h"

#include <cstdlib>

#include "core/errors.h"
#include "engines/postgres/base_backup.h"
#include "engines/postgres/logical_backup.h"
#include "engines/postgres/logical_restore.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/physical_restore.h"
#include "engines/postgres/precheck.h"
#include "engines/postgres/wal_names.h"

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

core::Result<LogRetention> PostgresEngine::log_retention(const PlanSpec& plan) {
  if (logical(plan)) return LogRetention{};
  OPENDBS_ASSIGN(auto sql, postgres::PgConnection::open(plan.source, postgres::ConnectionKind::sql));
  // A standby has no current write position; what it has received is what its WAL grows with.
  const std::string retained =
      "pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END, "
      "restart_lsn)::bigint AS retained";
  const bool v13 = sql->server_version() >= 130000;  // wal_status and safe_wal_size came with 13
  const std::string q = "SELECT " + retained +
                        (v13 ? ", wal_status, safe_wal_size::bigint AS safe" : ", NULL AS wal_status, NULL AS safe") +
                        " FROM pg_replication_slots WHERE slot_name = $1";
  OPENDBS_ASSIGN(auto rows, sql->query_params(q, {postgres::slot_name(plan.plan_id)}));
  LogRetention out;
  if (rows.rows.empty()) return out;
  out.held = true;
  const auto bytes = [](const std::optional<std::string>& v) -> uint64_t {
    const long long n = v ? std::atoll(v->c_str()) : 0;
    return n > 0 ? static_cast<uint64_t>(n) : 0;
  };
  out.retained_bytes = bytes(rows.value(0, "retained"));
  const std::string status = rows.value(0, "wal_status").value_or("");
  out.lost = status == "lost";
  // "unreserved": the next checkpoint removes WAL the slot needs.
  if (out.lost || status == "unreserved") out.safe_bytes = 0;
  else if (auto safe = rows.value(0, "safe")) out.safe_bytes = bytes(safe);
  return out;
}

}  // namespace opendbs::engines
