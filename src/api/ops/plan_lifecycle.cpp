// Create, configure, start, stop and release backup plans (api-reference.md §2.1, §5).
#include <boost/json.hpp>

#include "api/ops/common.h"
#include "api/ops/families.h"
#include "api/ops/param_lists.h"
#include "api/ops/plan_model.h"
#include "core/errors.h"
#include "jobs/download_runner.h"
#include "jobs/tasks.h"

namespace opendbs::api::ops {
namespace {

using boost::json::object;
using catalog::Kind;

core::Result<object> create_backup_plan(Context& ctx) {
  auto plan = new_plan(ctx);
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) { return tx.put(Kind::plan, plan); }));
  return object{{"BackupPlanId", plan.id}, {"OrderId", plan.id}};
}

core::Result<object> configure_backup_plan(Context& ctx) {
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, ctx.str("BackupPlanId")));
    if (plan.state == "running")
      return core::make_error("OperationDenied.PlanStatus",
                              "backup plan " + plan.id + " is running: stop it before configuring it again");
    return configure_plan(tx, ctx, plan);
  }));
  signal(ctx, {{}, true});
  return object{{"BackupPlanId", ctx.str("BackupPlanId")}};
}

core::Result<object> create_and_start_backup_plan(Context& ctx) {
  auto plan = new_plan(ctx);
  StartOutcome started;
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_TRY(configure_plan(tx, ctx, plan));
    OPENDBS_ASSIGN(started, start_plan(tx, ctx, plan));
    return {};
  }));
  signal(ctx, {{}, true});
  return object{{"BackupPlanId", plan.id}, {"OrderId", plan.id}, {"CreateBackupSet", !started.full_backup_set_id.empty()}};
}

core::Result<object> start_backup_plan(Context& ctx) {
  StartOutcome started;
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, ctx.str("BackupPlanId")));
    OPENDBS_ASSIGN(started, start_plan(tx, ctx, plan));
    return {};
  }));
  signal(ctx, {{}, true});
  return object{{"BackupPlanId", ctx.str("BackupPlanId")}, {"CreatedFullBackupsetId", started.full_backup_set_id}};
}

// PLAN pauses the schedule only; ALL also cancels the plan's full backups, log backup, restores and
// downloads (a running download deletes its partial file; its record ends "stop").
// Stopping a paused plan with nothing running changes nothing.
core::Result<object> stop_backup_plan(Context& ctx) {
  AfterCommit after;
  const bool all = ctx.str("StopMethod") == "ALL" || ctx.str("StopMethod") == "all";
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, ctx.str("BackupPlanId")));
    if (plan.state == "wait")
      return core::make_error("OperationDenied.PlanStatus",
                              "backup plan " + plan.id + " is not configured; there is nothing to stop");
    if (all) {
      after.cancel_plan = plan.id;
      after.cancel_plan_kinds = {jobs::task_kind::full_backup, jobs::task_kind::log_backup, jobs::task_kind::restore,
                                 jobs::task_kind::download};
      OPENDBS_ASSIGN(after.cancel_now,
                     jobs::cancel_tasks(tx, plan.id, after.cancel_plan_kinds, ctx.request_id, ctx.now_ms()));
    }
    if (plan.state == "pause") return {};
    plan.state = "pause";
    plan.doc["BackupPlanStatus"] = "pause";
    return tx.put(Kind::plan, plan);
  }));
  signal(ctx, after);
  return object{{"BackupPlanId", ctx.str("BackupPlanId")}};
}

core::Result<object> release_backup_plan(Context& ctx) {
  AfterCommit after;
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, ctx.str("BackupPlanId")));
    OPENDBS_ASSIGN(const auto log_backups, jobs::unfinished_log_backups(tx, plan.id));
    // Everything but the releases of slots (an earlier DisableBackupLog or source change): those go on
    // until the slot is gone, also after the plan is.
    after.cancel_plan = plan.id;
    after.cancel_plan_kinds = {jobs::task_kind::precheck, jobs::task_kind::full_backup, jobs::task_kind::log_backup,
                               jobs::task_kind::restore, jobs::task_kind::download};
    OPENDBS_ASSIGN(after.cancel_now,
                   jobs::cancel_tasks(tx, plan.id, after.cancel_plan_kinds, ctx.request_id, ctx.now_ms()));
    plan.state = "released";
    plan.doc["BackupPlanStatus"] = "released";
    plan.doc["_ReleasedBy"] = ctx.request_id;
    OPENDBS_TRY(tx.put(Kind::task, jobs::new_release_task(plan, ctx.now_ms(), log_backups)));
    // Finished downloads stop being served: their links go and their files are deleted.
    OPENDBS_TRY(jobs::revoke_downloads(tx, plan.id, ctx.request_id, ctx.now_ms()));
    after.downloads_revoked = true;
    after.wake = true;
    // The record stays (as "released", invisible to every call) so that workers finishing the
    // cancelled tasks and retention can still find what belongs to it.
    return tx.put(Kind::plan, plan);
  }));
  signal(ctx, after);
  return object{{"BackupPlanId", ctx.str("BackupPlanId")}};
}

ParamSpec plan_id_param() { return str_param("BackupPlanId", true, "The backup plan"); }

}  // namespace

std::vector<OperationSpec> plan_lifecycle_operations() {
  return {
      {"CreateBackupPlan", Support::implemented, "Creates a backup plan in status wait; configure it next.", false,
       concat({create_params(), common_params()}), create_backup_plan},
      {"ConfigureBackupPlan", Support::implemented,
       "Sets the source, schedule and retention of a plan and queues a precheck; AutoStartBackup starts it after.",
       true,
       concat({{plan_id_param(), str_param("BackupPlanName", true, "A name for the plan"),
                bool_param("AutoStartBackup", false, "Start the plan once the precheck passes"),
                bool_param("EnableBackupLog", false, "Back up the log continuously (PITR)"),
                str_param("BackupStorageType", false, "system (built-in repository)"),
                str_param("OSSBucketName", false, "Recorded"), long_param("BackupRateLimit", false, "KB/s, recorded"),
                long_param("BackupSpeedLimit", false, "KB/s, recorded"),
                str_param("EnableMysqlPhysicalBackupBinlog", false, "Recorded"),
                str_param("ResourceGroupId", false, "Recorded")},
               source_endpoint_params(true), strategy_params(false), storage_params(false), common_params()}),
       configure_backup_plan},
      {"CreateAndStartBackupPlan", Support::implemented,
       "CreateBackupPlan, ConfigureBackupPlan and StartBackupPlan in one call.", false,
       concat({create_params(),
               {str_param("BackupPlanId", false, "Ignored: a new plan is always created"),
                str_param("BackupPlanName", true, "A name for the plan"),
                bool_param("EnableBackupLog", false, "Back up the log continuously (PITR)"),
                str_param("BackupStorageType", false, "system (built-in repository)"),
                str_param("OSSBucketName", false, "Recorded"), long_param("BackupRateLimit", false, "KB/s, recorded"),
                long_param("BackupSpeedLimit", false, "KB/s, recorded")},
               source_endpoint_params(true), strategy_params(false), storage_params(false), common_params()}),
       create_and_start_backup_plan},
      {"StartBackupPlan", Support::implemented,
       "Starts (or resumes) a plan: status running, schedule active, a full backup now.", true,
       concat({{plan_id_param()}, common_params()}), start_backup_plan},
      {"StopBackupPlan", Support::implemented,
       "PLAN pauses the schedule; ALL also cancels running and queued full backups, log backup, restores and "
       "downloads within seconds (a cancelled download ends stop and its partial file is deleted).",
       true, concat({{plan_id_param(), str_param("StopMethod", true, "ALL or PLAN", {"ALL", "PLAN"})}, common_params()}),
       stop_backup_plan},
      {"ReleaseBackupPlan", Support::implemented,
       "Deletes a plan and stops everything it runs (backups, log backup, restores, downloads); its finished "
       "downloads' files are deleted (their links answer 404); its slot is released, retried until the source "
       "answers.",
       true,
       concat({{plan_id_param()}, common_params()}), release_backup_plan},
  };
}

}  // namespace opendbs::api::ops
