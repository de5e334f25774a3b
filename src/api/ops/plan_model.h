// The plan document and the state changes several operations share. Public fields are DBS's names
// (DescribeBackupPlanList answers them); private ones start with "_".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/operation.h"
#include "catalog/store.h"

namespace opendbs::api::ops {

// A new plan in status `wait` for the caller's account.
catalog::Record new_plan(const Context& ctx);
// Copies the source endpoint parameters into the plan and checks the conditional requirements
// (api-reference.md, ConfigureBackupPlan notes). The password is sealed.
core::Status apply_source_endpoint(const Context& ctx, catalog::Record& plan);
core::Status apply_strategy(const Context& ctx, catalog::Record& plan);
core::Status apply_storage(const Context& ctx, catalog::Record& plan);
// Options that only one BackupMethod can honour, refused at the call rather than failing later:
// log backup of a PostgreSQL plan continues physical full backups (EnableBackupLog needs physical),
// and BackupObjects choose what a logical backup takes (a physical one takes the whole instance).
core::Status check_log_backup_method(const catalog::Record& plan);
core::Status check_objects_method(const catalog::Record& plan, const std::string& backup_objects);
// ConfigureBackupPlan's body: endpoint + strategy + storage + name, then a precheck task.
core::Status configure_plan(catalog::Tx& tx, const Context& ctx, catalog::Record& plan);

struct StartOutcome {
  std::string full_backup_set_id;  // empty if none was started
};
// running; a full backup now; the log backup task if EnableBackupLog and none runs.
core::Result<StartOutcome> start_plan(catalog::Tx& tx, const Context& ctx, catalog::Record& plan);

// Ids of running tasks to signal after commit (the transaction only marks them).
struct AfterCommit {
  std::vector<std::string> cancel_now;
  bool wake = false;
  bool downloads_revoked = false;
  // And every run of these kinds of the plan on this node, whatever its task record says (a run whose
  // lease lapsed: jobs/local_runs.h).
  std::string cancel_plan;
  std::vector<std::string_view> cancel_plan_kinds;
};
void signal(const Context& ctx, const AfterCommit& after);

}  // namespace opendbs::api::ops
