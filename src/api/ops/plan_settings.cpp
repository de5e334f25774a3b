// Operations that change one aspect of a plan; they record and answer at once (DESIGN.md §5).
#include <boost/json.hpp>

#include "api/ops/common.h"
#include "api/ops/families.h"
#include "api/ops/param_lists.h"
#include "api/ops/plan_model.h"
#include "core/errors.h"
#include "core/utf8.h"
#include "jobs/retention.h"
#include "jobs/tasks.h"

namespace opendbs::api::ops {
namespace {

using boost::json::object;
using catalog::Kind;

// Loads the caller's plan, lets `change` edit it, stores it; answers {BackupPlanId, NeedPrecheck}.
core::Result<object> modify_plan(Context& ctx, bool need_precheck,
                                 const std::function<core::Status(catalog::Tx&, catalog::Record&, AfterCommit&)>& change) {
  AfterCommit after;
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, ctx.str("BackupPlanId")));
    OPENDBS_TRY(change(tx, plan, after));
    return tx.put(Kind::plan, plan);
  }));
  signal(ctx, after);
  return object{{"BackupPlanId", ctx.str("BackupPlanId")}, {"NeedPrecheck", need_precheck}};
}

core::Result<object> modify_name(Context& ctx) {
  if (ctx.str("BackupPlanName").size() > 128)
    return core::errors::invalid_parameter("BackupPlanName", std::string(core::utf8_prefix(ctx.str("BackupPlanName"), 20)) + "...",
                                           "at most 128 characters");
  auto r = modify_plan(ctx, false, [&](catalog::Tx&, catalog::Record& plan, AfterCommit&) -> core::Status {
    plan.doc["BackupPlanName"] = ctx.str("BackupPlanName");
    return {};
  });
  if (r.ok()) r->erase("NeedPrecheck");
  return r;
}

core::Result<object> modify_strategy(Context& ctx) {
  return modify_plan(ctx, false, [&](catalog::Tx&, catalog::Record& plan, AfterCommit&) {
    return apply_strategy(ctx, plan);
  });
}

core::Result<object> modify_source_endpoint(Context& ctx) {
  return modify_plan(ctx, true, [&](catalog::Tx& tx, catalog::Record& plan, AfterCommit& after) -> core::Status {
    const catalog::Record before = plan;
    OPENDBS_TRY(apply_source_endpoint(ctx, plan));
    after.wake = true;
    // The log backup streams from the old endpoint: it stops, and the scheduler starts it again on the
    // new one (its own slot there). A different server's slot is released, retried until it is gone.
    OPENDBS_ASSIGN(const auto log_backups, jobs::unfinished_log_backups(tx, plan.id));
    after.cancel_plan = plan.id;
    after.cancel_plan_kinds = {jobs::task_kind::log_backup};
    OPENDBS_ASSIGN(after.cancel_now,
                   jobs::cancel_tasks(tx, plan.id, after.cancel_plan_kinds, ctx.request_id, ctx.now_ms()));
    const auto* had_log = before.doc.if_contains("EnableBackupLog");
    if (jobs::source_server_changed(before, plan)) {
      plan.doc["_SourceEpoch"] = jobs::source_epoch(before.doc) + 1;  // the new server's WAL is a chain of its own
      if (had_log && had_log->is_bool() && had_log->as_bool())
        OPENDBS_TRY(tx.put(Kind::task, jobs::new_release_task(before, ctx.now_ms(), log_backups)));
    }
    return tx.put(Kind::task, jobs::new_task(jobs::task_kind::precheck, plan, ctx.now_ms(), object{{"AutoStart", false}}));
  });
}

core::Result<object> modify_objects(Context& ctx) {
  OPENDBS_TRY(check_backup_objects("BackupObjects", ctx.str("BackupObjects")));
  return modify_plan(ctx, false, [&](catalog::Tx&, catalog::Record& plan, AfterCommit&) -> core::Status {
    OPENDBS_TRY(check_objects_method(plan, ctx.str("BackupObjects")));
    plan.doc["BackupObjects"] = ctx.str("BackupObjects");
    return {};
  });
}

core::Result<object> modify_storage(Context& ctx) {
  // The new retention governs the sets and log files the plan already has (jobs/retention.h).
  return modify_plan(ctx, false, [&](catalog::Tx& tx, catalog::Record& plan, AfterCommit&) -> core::Status {
    OPENDBS_TRY(apply_storage(ctx, plan));
    return jobs::reapply_retention(tx, plan, ctx.now_ms());
  });
}

core::Result<object> enable_backup_log(Context& ctx) {
  return modify_plan(ctx, false, [&](catalog::Tx& tx, catalog::Record& plan, AfterCommit& after) -> core::Status {
    OPENDBS_TRY(check_log_backup_method(plan));
    plan.doc["EnableBackupLog"] = true;
    if (ctx.has("EnableMysqlPhysicalBackupBinlog"))
      plan.doc["EnableMysqlPhysicalBackupBinLog"] = ctx.str("EnableMysqlPhysicalBackupBinlog") == "true";
    after.wake = true;
    return jobs::ensure_log_backup(tx, plan, ctx.now_ms());
  });
}

core::Result<object> disable_backup_log(Context& ctx) {
  return modify_plan(ctx, false, [&](catalog::Tx& tx, catalog::Record& plan, AfterCommit& after) -> core::Status {
    plan.doc["EnableBackupLog"] = false;
    OPENDBS_ASSIGN(const auto log_backups, jobs::unfinished_log_backups(tx, plan.id));
    after.cancel_plan = plan.id;
    after.cancel_plan_kinds = {jobs::task_kind::log_backup};
    OPENDBS_ASSIGN(after.cancel_now,
                   jobs::cancel_tasks(tx, plan.id, after.cancel_plan_kinds, ctx.request_id, ctx.now_ms()));
    after.wake = true;
    return tx.put(Kind::task, jobs::new_release_task(plan, ctx.now_ms(), log_backups));
  });
}

core::Result<object> renew_plan(Context& ctx) {
  const int64_t used = *ctx.opt_int("UsedTime");
  const bool year = ctx.str("Period") == "Year";
  if (used < 1 || used > (year ? 9 : 11))
    return core::errors::invalid_parameter("UsedTime", ctx.str("UsedTime"), year ? "1 to 9 years" : "1 to 11 months");
  auto r = modify_plan(ctx, false, [&](catalog::Tx&, catalog::Record& plan, AfterCommit&) -> core::Status {
    const int64_t base = std::max(ctx.now_ms(), plan.doc.contains("InstanceExpiredTimestamp")
                                                    ? plan.doc["InstanceExpiredTimestamp"].as_int64()
                                                    : ctx.now_ms());
    plan.doc["InstanceExpiredTimestamp"] = base + used * (year ? 365LL : 30LL) * 86400000LL;
    return {};
  });
  if (r.ok()) {
    r->erase("NeedPrecheck");
    (*r)["OrderId"] = ctx.request_id;
  }
  return r;
}

core::Result<object> upgrade_plan(Context& ctx) {
  auto r = modify_plan(ctx, false, [&](catalog::Tx&, catalog::Record& plan, AfterCommit&) -> core::Status {
    plan.doc["InstanceClass"] = lower(ctx.str("InstanceClass"));
    return {};
  });
  if (r.ok()) {
    r->erase("NeedPrecheck");
    (*r)["OrderId"] = ctx.request_id;
  }
  return r;
}

std::vector<ParamSpec> with_plan(std::vector<ParamSpec> params) {
  return concat({{str_param("BackupPlanId", true, "The backup plan")}, params, common_params()});
}

}  // namespace

std::vector<OperationSpec> plan_settings_operations() {
  return {
      {"RenewBackupPlan", Support::recorded, "Extends the plan's recorded expiry; opendbs has no billing.", true,
       with_plan({str_param("Period", true, "Year or Month", {"Year", "Month"}),
                  int_param("UsedTime", true, "How many periods", 1, 11)}),
       renew_plan},
      {"UpgradeBackupPlan", Support::recorded, "Records a new InstanceClass; opendbs does not limit by class.", true,
       with_plan({str_param("InstanceClass", true, "Plan size", kInstanceClasses)}), upgrade_plan},
      {"ModifyBackupPlanName", Support::implemented, "Renames a plan.", true,
       with_plan({str_param("BackupPlanName", true, "The new name (at most 128 characters)")}), modify_name},
      {"ModifyBackupStrategy", Support::implemented, "Changes the full backup schedule.", true,
       with_plan(strategy_params(true)), modify_strategy},
      {"ModifyBackupSourceEndpoint", Support::implemented,
       "Changes the source database of a plan; a new precheck runs. Log backup moves to the new source; another "
       "server is a log chain of its own, and the old server's slot is released.",
       true,
       with_plan(source_endpoint_params(true)), modify_source_endpoint},
      {"ModifyBackupObjects", Support::implemented, "Changes which databases and tables are backed up.", true,
       with_plan({str_param("BackupObjects", true, "JSON list of databases/tables")}), modify_objects},
      {"ModifyStorageStrategy", Support::implemented, "Changes retention (IA < Archive < Retention days); the new BackupRetentionPeriod applies to the sets and "
       "log files the plan already has.",
       true,
       with_plan(concat({storage_params(true),
                         {str_param("IncrementBackupRetentionPeriod", false, "Recorded"),
                          str_param("IncrementDuplicationArchivePeriod", false, "Recorded"),
                          str_param("IncrementDuplicationInfrequentAccessPeriod", false, "Recorded"),
                          str_param("LogBackupRetentionPeriod", false, "Recorded"),
                          str_param("LogDuplicationArchivePeriod", false, "Recorded"),
                          str_param("LogDuplicationInfrequentAccessPeriod", false, "Recorded")}})),
       modify_storage},
      {"EnableBackupLog", Support::implemented, "Turns on continuous log backup; it starts when the plan runs.", true,
       with_plan({str_param("EnableMysqlPhysicalBackupBinlog", false, "Recorded")}), enable_backup_log},
      {"DisableBackupLog", Support::implemented,
       "Turns off continuous log backup, stops its task and releases its slot (retried until the source answers).",
       true,
       with_plan({str_param("DisableMysqlPhysicalBackupBinlogOnly", false, "Recorded")}), disable_backup_log},
  };
}

}  // namespace opendbs::api::ops
