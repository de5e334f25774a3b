#include "api/ops/plan_model.h"

#include <boost/json.hpp>

#include "api/ops/common.h"
#include "core/errors.h"
#include "core/ids.h"
#include "jobs/log_chain.h"
#include "jobs/plan_warning.h"
#include "jobs/retention.h"
#include "jobs/tasks.h"

namespace opendbs::api::ops {
namespace {

bool is(const std::string& value, const char* wanted) { return lower(value) == lower(wanted); }

std::string text(const boost::json::object& doc, const char* name) {
  const auto* v = doc.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

catalog::Record new_plan(const Context& ctx) {
  const int64_t now = ctx.now_ms();
  catalog::Record plan{core::new_plan_id(), ctx.caller.account_id, "", "wait", now, {}};
  auto& d = plan.doc;
  d["BackupPlanId"] = plan.id;
  d["BackupPlanName"] = plan.id;
  d["BackupPlanStatus"] = "wait";
  d["BackupPlanCreateTime"] = now;
  d["BackupMethod"] = lower(ctx.str("BackupMethod"));
  for (const auto& t : {"MySQL", "MSSQL", "Oracle", "MariaDB", "PostgreSQL", "DRDS", "MongoDB", "Redis", "PPAS", "SQLite"})
    if (is(ctx.str("DatabaseType"), t)) d["DatabaseType"] = t;
  d["InstanceClass"] = lower(ctx.str("InstanceClass"));
  d["BackupPlanRegion"] = ctx.has("Region") ? ctx.str("Region") : ctx.services.region;
  d["ResourceGroupId"] = ctx.str("ResourceGroupId");
  d["InstanceChargeType"] = is(ctx.str("PayType"), "prepay") ? "PREPAY" : "POSTPAY";
  d["BackupStorageType"] = "system";
  d["BackupStrategyType"] = "simple";
  d["BackupPeriod"] = "";
  d["BackupStartTime"] = "";
  d["BackupRetentionPeriod"] = 730;
  d["DuplicationInfrequentAccessPeriod"] = 180;
  d["DuplicationArchivePeriod"] = 365;
  d["EnableBackupLog"] = false;
  d["BackupObjects"] = "";
  d["ErrMessage"] = "";
  d["BackupGatewayId"] = std::stoll(ctx.services.node_id);
  d["StorageEncryptMethod"] = "encrypted";
  d["OSSBucketName"] = "";
  d["BeginTimestampForRestore"] = 0;
  d["EndTimestampForRestore"] = 0;
  return plan;
}

core::Status apply_source_endpoint(const Context& ctx, catalog::Record& plan) {
  auto& d = plan.doc;
  const std::string type = ctx.str("SourceEndpointInstanceType");
  const std::string db_type(d["DatabaseType"].as_string());
  const bool by_address = is(type, "Other") || is(type, "Express") || (is(type, "Agent") && db_type != "SQLite");
  if (by_address && !ctx.has("SourceEndpointIP")) return core::errors::missing_parameter("SourceEndpointIP");
  if ((by_address || is(type, "ECS")) && !ctx.has("SourceEndpointPort"))
    return core::errors::missing_parameter("SourceEndpointPort");
  if ((is(type, "RDS") || is(type, "ECS") || is(type, "DDS") || is(type, "Express")) &&
      !ctx.has("SourceEndpointInstanceID"))
    return core::errors::missing_parameter("SourceEndpointInstanceID");
  if ((db_type == "PostgreSQL" || db_type == "MongoDB" || db_type == "SQLite") && !ctx.has("SourceEndpointDatabaseName"))
    return core::errors::missing_parameter("SourceEndpointDatabaseName");
  if (db_type == "Oracle" && !ctx.has("SourceEndpointOracleSID"))
    return core::errors::missing_parameter("SourceEndpointOracleSID");
  const bool needs_login = db_type != "Redis" && db_type != "SQLite" && !is(type, "Agent");
  if (needs_login && !ctx.has("SourceEndpointUserName")) return core::errors::missing_parameter("SourceEndpointUserName");
  if (needs_login && !ctx.has("SourceEndpointPassword")) return core::errors::missing_parameter("SourceEndpointPassword");
  if (ctx.has("BackupObjects")) OPENDBS_TRY(check_backup_objects("BackupObjects", ctx.str("BackupObjects")));

  d["SourceEndpointInstanceType"] = lower(type);
  d["SourceEndpointRegion"] = ctx.str("SourceEndpointRegion");
  d["SourceEndpointInstanceID"] = ctx.str("SourceEndpointInstanceID");
  d["SourceEndpointHost"] = ctx.str("SourceEndpointIP");
  d["SourceEndpointPort"] = ctx.str("SourceEndpointPort");
  d["SourceEndpointIpPort"] =
      ctx.has("SourceEndpointIP") ? ctx.str("SourceEndpointIP") + ":" + ctx.str("SourceEndpointPort") : "";
  d["SourceEndpointDatabaseName"] = ctx.str("SourceEndpointDatabaseName");
  d["SourceEndpointUserName"] = ctx.str("SourceEndpointUserName");
  d["SourceEndpointOracleSID"] = ctx.str("SourceEndpointOracleSID");
  d["SourceEndpointEnableSsl"] = ctx.has("EnableSourceEndpointSsl") ? lower(ctx.str("EnableSourceEndpointSsl")) : "false";
  d["_SslCaPem"] = ctx.str("SslCaPem");
  if (ctx.has("SourceEndpointPassword"))
    d["_SourceEndpointPasswordSealed"] = ctx.services.secrets.seal(ctx.str("SourceEndpointPassword"));
  if (ctx.has("BackupObjects")) d["BackupObjects"] = ctx.str("BackupObjects");
  if (ctx.has("CrossAliyunId")) d["CrossAliyunId"] = ctx.str("CrossAliyunId");
  if (ctx.has("CrossRoleName")) d["CrossRoleName"] = ctx.str("CrossRoleName");
  return {};
}

core::Status apply_strategy(const Context& ctx, catalog::Record& plan) {
  auto& d = plan.doc;
  std::string type = ctx.has("BackupStrategyType") ? lower(ctx.str("BackupStrategyType"))
                                                   : std::string(d["BackupStrategyType"].as_string());
  if (ctx.has("BackupPeriod")) {
    OPENDBS_TRY(check_backup_period("BackupPeriod", ctx.str("BackupPeriod")));
    d["BackupPeriod"] = normalize_period(ctx.str("BackupPeriod"));
  }
  if (ctx.has("BackupStartTime")) {
    OPENDBS_TRY(check_start_time("BackupStartTime", ctx.str("BackupStartTime")));
    d["BackupStartTime"] = ctx.str("BackupStartTime");
  }
  if (type == "simple" && d["BackupPeriod"].as_string().empty() && ctx.has("BackupStrategyType"))
    return core::errors::missing_parameter("BackupPeriod");
  if (type == "simple" && d["BackupStartTime"].as_string().empty() && ctx.has("BackupPeriod"))
    return core::errors::missing_parameter("BackupStartTime");
  d["BackupStrategyType"] = type;
  if (auto s = ctx.opt_int("BackupLogIntervalSeconds")) d["BackupLogIntervalSeconds"] = *s;
  return {};
}

core::Status apply_storage(const Context& ctx, catalog::Record& plan) {
  auto& d = plan.doc;
  const int64_t retention = ctx.opt_int("BackupRetentionPeriod").value_or(d["BackupRetentionPeriod"].as_int64());
  const int64_t ia = ctx.opt_int("DuplicationInfrequentAccessPeriod").value_or(d["DuplicationInfrequentAccessPeriod"].as_int64());
  const int64_t archive = ctx.opt_int("DuplicationArchivePeriod").value_or(d["DuplicationArchivePeriod"].as_int64());
  const bool any = ctx.has("BackupRetentionPeriod") || ctx.has("DuplicationInfrequentAccessPeriod") ||
                   ctx.has("DuplicationArchivePeriod");
  if (any) OPENDBS_TRY(check_storage_periods(retention, ia, archive));
  d["BackupRetentionPeriod"] = retention;
  d["DuplicationInfrequentAccessPeriod"] = ia;
  d["DuplicationArchivePeriod"] = archive;
  for (const char* f : {"IncrementBackupRetentionPeriod", "IncrementDuplicationArchivePeriod",
                        "IncrementDuplicationInfrequentAccessPeriod", "LogBackupRetentionPeriod",
                        "LogDuplicationArchivePeriod", "LogDuplicationInfrequentAccessPeriod"})
    if (ctx.has(f)) d[f] = ctx.str(f);
  if (ctx.has("BackupStorageEncryptMethod")) d["StorageEncryptMethod"] = ctx.str("BackupStorageEncryptMethod");
  return {};
}

core::Status check_log_backup_method(const catalog::Record& plan) {
  const std::string method = text(plan.doc, "BackupMethod");
  if (text(plan.doc, "DatabaseType") == "PostgreSQL" && method != "physical")
    return core::make_error("InvalidParameter",
                            "EnableBackupLog=true needs BackupMethod=physical for PostgreSQL: log backup streams the "
                            "WAL that continues a physical full backup (point-in-time restore); this plan's "
                            "BackupMethod is " + method +
                                ". Create a physical plan for log backup, or leave EnableBackupLog out.");
  return {};
}

core::Status check_objects_method(const catalog::Record& plan, const std::string& backup_objects) {
  boost::system::error_code ec;
  const auto objects = boost::json::parse(backup_objects, ec);
  const bool chooses = !ec && objects.is_array() && !objects.as_array().empty();
  if (chooses && text(plan.doc, "BackupMethod") == "physical")
    return core::make_error("InvalidParameter",
                            "BackupObjects apply to logical backups only: a physical backup (BackupMethod=physical) "
                            "takes the whole instance. Leave BackupObjects out, or create the plan with "
                            "BackupMethod=logical to back up chosen databases and tables.");
  return {};
}

core::Status configure_plan(catalog::Tx& tx, const Context& ctx, catalog::Record& plan) {
  if (ctx.opt_bool("EnableBackupLog").value_or(false)) OPENDBS_TRY(check_log_backup_method(plan));
  if (ctx.has("BackupObjects")) OPENDBS_TRY(check_objects_method(plan, ctx.str("BackupObjects")));
  OPENDBS_TRY(apply_source_endpoint(ctx, plan));
  OPENDBS_TRY(apply_strategy(ctx, plan));
  OPENDBS_TRY(apply_storage(ctx, plan));
  OPENDBS_TRY(jobs::reapply_retention(tx, plan, ctx.now_ms()));  // sets it may already have
  auto& d = plan.doc;
  d["BackupPlanName"] = ctx.str("BackupPlanName");
  if (auto log = ctx.opt_bool("EnableBackupLog")) d["EnableBackupLog"] = *log;
  if (ctx.has("OSSBucketName")) d["OSSBucketName"] = ctx.str("OSSBucketName");
  if (ctx.has("BackupStorageType")) d["BackupStorageType"] = ctx.str("BackupStorageType");
  if (auto rate = ctx.opt_int("BackupRateLimit")) d["BackupRateLimit"] = *rate;
  if (auto speed = ctx.opt_int("BackupSpeedLimit")) d["BackupSpeedLimit"] = *speed;
  plan.state = "init";
  d["BackupPlanStatus"] = "init";
  d["ErrMessage"] = "";
  d["_Configured"] = true;
  boost::json::object payload{{"AutoStart", ctx.opt_bool("AutoStartBackup").value_or(false)}};
  OPENDBS_TRY(tx.put(catalog::Kind::task, jobs::new_task(jobs::task_kind::precheck, plan, ctx.now_ms(), payload)));
  return tx.put(catalog::Kind::plan, plan);
}

core::Result<StartOutcome> start_plan(catalog::Tx& tx, const Context& ctx, catalog::Record& plan) {
  if (!plan.doc.contains("_Configured"))
    return core::make_error("OperationDenied.PlanStatus", "backup plan " + plan.id +
                                                              " is not configured yet: call ConfigureBackupPlan first");
  plan.state = "running";
  plan.doc["BackupPlanStatus"] = "running";
  // A gap in the log chain stays in the message until the full set queued now has finished.
  const std::string gap = jobs::plan_warning(plan, jobs::kLogGapWarningField);
  plan.doc["ErrMessage"] = "";
  jobs::set_plan_warning(plan, jobs::kLogGapWarningField, gap);
  StartOutcome out;
  plan.doc["_StartedAtMs"] = ctx.now_ms();
  OPENDBS_ASSIGN(out.full_backup_set_id, jobs::queue_full_backup(tx, plan, ctx.now_ms(), "StartBackupPlan"));
  OPENDBS_TRY(tx.put(catalog::Kind::plan, plan));
  OPENDBS_TRY(jobs::ensure_log_backup(tx, plan, ctx.now_ms()));
  return out;
}

void signal(const Context& ctx, const AfterCommit& after) {
  if (!ctx.services.jobs) return;
  if (!after.cancel_now.empty()) ctx.services.jobs->cancel_now(after.cancel_now, ctx.request_id);
  if (!after.cancel_plan.empty())
    ctx.services.jobs->cancel_plan(after.cancel_plan, after.cancel_plan_kinds, ctx.request_id);
  if (after.wake) ctx.services.jobs->wake();
  if (after.downloads_revoked) ctx.services.jobs->downloads_revoked();
}

}  // namespace opendbs::api::ops
