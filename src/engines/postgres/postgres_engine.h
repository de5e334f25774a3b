// engines::PostgresEngine — PostgreSQL sources over libpq and the replication protocol:
// precheck, physical full backup (BASE_BACKUP), continuous WAL backup (a physical slot per plan)
// and physical point-in-time restore into a directory. See docs/POSTGRES.md.
#pragma once

#include "engines/engine.h"
#include "engines/postgres/wal_stream.h"

namespace opendbs::engines {

struct PostgresOptions {
  postgres::WalStreamOptions wal;
};

class PostgresEngine final : public Engine {
 public:
  explicit PostgresEngine(PostgresOptions options = {}) : options_(options) {}

  std::vector<PrecheckItem> precheck(const PlanSpec& plan) override;
  core::Result<FullBackupResult> full_backup(const PlanSpec& plan, repo::SetWriter& set, TaskControl& control) override;
  core::Status log_backup(const PlanSpec& plan, repo::Repository& repository, TaskControl& control,
                          const std::function<core::Status(const LogFile&)>& on_file) override;
  core::Status restore(const PlanSpec& plan, repo::Repository& repository, const RestoreRequest& request,
                       TaskControl& control) override;
  // Drops the plan's replication slot opendbs_<plan id>.
  core::Status release_log(const PlanSpec& plan) override;
  // Logical sets as SQL or CSV, physical sets and WAL segments as Native (download.h).
  core::Result<DownloadResult> download(const PlanSpec& plan, repo::Repository& repository,
                                        const DownloadRequest& request, TaskControl& control) override;
  // The WAL the plan's slot holds: current (or, on a standby, received) position - restart_lsn, and
  // on PostgreSQL 13+ wal_status and safe_wal_size.
  core::Result<LogRetention> log_retention(const PlanSpec& plan) override;

 private:
  PostgresOptions options_;
};

}  // namespace opendbs::engines
