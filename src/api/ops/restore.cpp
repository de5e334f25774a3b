// Restore tasks: created against the restorable ranges (nothing runs for a time outside them), then
// started; the plan's engine does the work in a restore task.
#include <boost/json.hpp>
#include <map>

#include "api/ops/common.h"
#include "api/ops/families.h"
#include "api/ops/param_lists.h"
#include "api/ops/plan_model.h"
#include "api/ops/restore_ranges.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/ids.h"
#include "jobs/restore_dir_lock.h"
#include "jobs/restore_root.h"
#include "jobs/tasks.h"

namespace opendbs::api::ops {
namespace {

using boost::json::array;
using boost::json::object;
using catalog::Kind;

std::string moment(int64_t ms) { return std::to_string(ms) + " (" + core::format_iso8601(ms) + ")"; }

// Why the moments after `end`, where a log barrier cut a range short, are not restorable (restore_ranges.h).
std::string past_cut(int64_t end, const std::string& cut_by) {
  return "; after " + moment(end) + " a restore from the full sets before it would replay a " + cut_by +
         " — take a full backup to restore moments after it";
}

std::string describe_ranges(const std::vector<RestoreRange>& ranges, int64_t wanted) {
  if (ranges.empty()) return "the plan has no finished backup set yet";
  const RestoreRange* nearest = &ranges.front();
  auto distance = [&](const RestoreRange& r) {
    return wanted < r.begin_ms ? r.begin_ms - wanted : wanted > r.end_ms ? wanted - r.end_ms : 0;
  };
  for (const auto& r : ranges)
    if (distance(r) < distance(*nearest)) nearest = &r;
  std::string out = "the nearest restorable " + nearest->type + " is " + std::to_string(nearest->begin_ms) + " (" +
                    core::format_iso8601(nearest->begin_ms) + ") to " + std::to_string(nearest->end_ms) + " (" +
                    core::format_iso8601(nearest->end_ms) + ")";
  // The range just before the moment, when a barrier cut it short, says why the moment is not in it.
  const RestoreRange* before = nullptr;
  for (const auto& r : ranges)
    if (r.end_ms < wanted && (!before || r.end_ms > before->end_ms)) before = &r;
  if (before && !before->cut_by().empty()) out += past_cut(before->end_ms, before->cut_by());
  return out;
}

core::Status check_destination(const Context& ctx) {
  const std::string type = ctx.str("DestinationEndpointInstanceType");
  auto is = [&](const char* t) { return strcasecmp(type.c_str(), t) == 0; };
  if (is("Agent") && !ctx.has("RestoreDir") && !ctx.has("DestinationEndpointDatabaseName"))
    return core::errors::missing_parameter("RestoreDir");
  if (is("Other") || is("Express")) {
    for (const char* p : {"DestinationEndpointIP", "DestinationEndpointPort", "DestinationEndpointUserName",
                          "DestinationEndpointPassword"})
      if (!ctx.has(p)) return core::errors::missing_parameter(p);
  }
  if ((is("RDS") || is("ECS") || is("DDS")) && !ctx.has("DestinationEndpointInstanceID"))
    return core::errors::missing_parameter("DestinationEndpointInstanceID");
  if (ctx.has("RestoreObjects")) OPENDBS_TRY(check_restore_objects("RestoreObjects", ctx.str("RestoreObjects")));
  for (const char* p : {"RestoreDir", "DestinationEndpointDatabaseName", "DestinationEndpointUserName"})
    OPENDBS_TRY(check_no_nul(p, ctx.str(p)));
  if (!ctx.has("BackupSetId") && !ctx.has("RestoreTime"))
    return core::make_error("MissingParameter",
                            "Either BackupSetId (a full backup set) or RestoreTime (a point in time, epoch ms) is required.");
  return {};
}

void fill_restore_record(const Context& ctx, catalog::Record& r, const std::string& base_set, int64_t restore_time) {
  auto& d = r.doc;
  d["RestoreTaskId"] = r.id;
  d["RestoreTaskName"] = ctx.str("RestoreTaskName");
  d["BackupPlanId"] = r.parent_id;
  d["BackupSetId"] = base_set;
  d["RestoreTime"] = restore_time;
  d["RestoreStatus"] = "init";
  d["RestoreTaskCreateTime"] = ctx.now_ms();
  d["RestoreTaskFinishTime"] = 0;
  d["DestinationEndpointInstanceType"] = lower(ctx.str("DestinationEndpointInstanceType"));
  d["DestinationEndpointInstanceID"] = ctx.str("DestinationEndpointInstanceID");
  d["DestinationEndpointRegion"] = ctx.str("DestinationEndpointRegion");
  d["DestinationEndpointIpPort"] =
      ctx.has("DestinationEndpointIP") ? ctx.str("DestinationEndpointIP") + ":" + ctx.str("DestinationEndpointPort") : "";
  d["_DestinationEndpointIP"] = ctx.str("DestinationEndpointIP");
  d["_DestinationEndpointPort"] = ctx.str("DestinationEndpointPort");
  d["DestinationEndpointDatabaseName"] = ctx.str("DestinationEndpointDatabaseName");
  d["DestinationEndpointUserName"] = ctx.str("DestinationEndpointUserName");
  d["DestinationEndpointOracleSID"] = ctx.str("DestinationEndpointOracleSID");
  if (ctx.has("DestinationEndpointPassword"))
    d["_DestinationEndpointPasswordSealed"] = ctx.services.secrets.seal(ctx.str("DestinationEndpointPassword"));
  d["RestoreDir"] = ctx.str("RestoreDir");
  d["RestoreObjects"] = ctx.str("RestoreObjects");
  d["_DuplicateConflict"] = lower(ctx.str("DuplicateConflict"));
  d["BackupGatewayId"] = std::stoll(ctx.services.node_id);
  d["CrossAliyunId"] = ctx.str("CrossAliyunId");
  d["CrossRoleName"] = ctx.str("CrossRoleName");
  d["FullDataRestoreProgress"] = 0;
  d["FullStruforeRestoreProgress"] = 0;
  d["FullStruAfterRestoreProgress"] = 0;
  d["ContinuousRestoreProgress"] = 0;
  d["ErrMessage"] = "";
}

// A RestoreTime given with BackupSetId must be a moment that set restores to: not before its EndTime
// (the set holds nothing older; PostgreSQL could only stop at its end) and not past its own log chain.
core::Status check_time_for_set(const Context& ctx, const std::string& set_id, const std::optional<SetReach>& reach,
                                int64_t time) {
  if (!reach) return core::errors::invalid_job_id(set_id);
  if (time >= reach->begin_ms && time <= reach->end_ms) return {};
  const std::string what =
      "RestoreTime " + ctx.str("RestoreTime") + " is not a moment BackupSetId " + set_id + " restores to: ";
  const std::string hint = ", or RestoreTime alone to let the node choose the set";
  if (reach->is_point())
    return core::make_error("InvalidParameter", what + "no log chain follows that set, it restores only to its EndTime " +
                                                    moment(reach->begin_ms) + "; give that RestoreTime or none" + hint);
  const std::string end = reach->cut_by.empty() ? ", where its log chain ends" : past_cut(reach->end_ms, reach->cut_by);
  return core::make_error("InvalidParameter", what + "it restores from its EndTime " + moment(reach->begin_ms) +
                                                  " to " + moment(reach->end_ms) + end + "; give a RestoreTime there" + hint);
}

// A physical restore writes a data directory on the node: nothing else can stand in for RestoreDir.
// A logical PostgreSQL one loads into a database server, which a directory on the node is not.
core::Status check_restore_dir(const Context& ctx, const catalog::Record& plan) {
  const auto text = [&](const char* f) {
    const auto* v = plan.doc.if_contains(f);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  const bool into_node = strcasecmp(ctx.str("DestinationEndpointInstanceType").c_str(), "Agent") == 0;
  const bool files = text("DatabaseType") == "SQLite";
  if (text("BackupMethod") == "physical" && !files && into_node && !ctx.has("RestoreDir"))
    return core::errors::missing_parameter("RestoreDir");
  // (PostgreSQL's engine: the test engine that the node's suites run as MySQL restores into RestoreDir.)
  if (text("BackupMethod") == "logical" && text("DatabaseType") == "PostgreSQL" && into_node && ctx.has("RestoreDir"))
    return core::errors::invalid_parameter(
        "DestinationEndpointInstanceType", ctx.str("DestinationEndpointInstanceType"),
        "Other (with DestinationEndpointIP, DestinationEndpointPort, DestinationEndpointUserName and "
        "DestinationEndpointPassword): a logical backup set loads into a database server; RestoreDir is for "
        "physical backups");
  if (ctx.has("RestoreDir")) return jobs::check_restore_root(ctx.services.restore_root, ctx.str("RestoreDir"));
  return {};
}

core::Result<object> create_restore_task(Context& ctx) {
  OPENDBS_TRY(check_destination(ctx));
  catalog::Record restore{core::new_job_id(), ctx.caller.account_id, ctx.str("BackupPlanId"), "init", ctx.now_ms(), {}};
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, ctx.str("BackupPlanId")));
    OPENDBS_TRY(check_restore_dir(ctx, plan));
    std::map<std::string, std::string> unrestorable;
    OPENDBS_ASSIGN(auto ranges, restore_ranges(tx, plan.id, &unrestorable));
    std::string base;
    boost::json::array older_bases;
    int64_t time = 0;
    if (ctx.has("BackupSetId")) {
      OPENDBS_ASSIGN(auto set, tx.get(Kind::backup_set, ctx.str("BackupSetId")));
      if (!set || set->parent_id != plan.id) return core::errors::invalid_job_id(ctx.str("BackupSetId"));
      if (set->state != "finish")
        return core::make_error("OperationDenied.PlanStatus",
                                "backup set " + set->id + " is " + set->state + "; only a finished set can be restored");
      if (auto why = unrestorable.find(set->id); why != unrestorable.end())
        return core::make_error("InvalidParameter", "BackupSetId " + set->id + " restores to no moment: " + why->second +
                                                        "; restore from a full set taken after it");
      base = set->id;
      time = set->doc.at("EndTime").as_int64();
      if (ctx.has("RestoreTime")) {
        time = to_ms(*ctx.opt_int("RestoreTime"));
        OPENDBS_TRY(check_time_for_set(ctx, base, reach_of_set(ranges, base), time));
      }
    } else {
      time = to_ms(*ctx.opt_int("RestoreTime"));
      const auto found = base_sets_for(ranges, time);
      if (found.empty())
        return core::errors::invalid_parameter("RestoreTime", ctx.str("RestoreTime"),
                                               "a time inside a restorable range: " + describe_ranges(ranges, time));
      base = found.front();
      older_bases.insert(older_bases.end(), found.begin() + 1, found.end());
    }
    fill_restore_record(ctx, restore, base, time);
    // Tried in turn by the restore task when the engine refuses the newer set as unable to reach the
    // moment (a set on WAL that a fork of the source abandoned).
    if (!older_bases.empty()) restore.doc["_OlderBaseSetIds"] = older_bases;
    return tx.put(Kind::restore_task, restore);
  }));
  return object{{"RestoreTaskId", restore.id}};
}

core::Result<object> start_restore_task(Context& ctx) {
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto restore, tx.get(Kind::restore_task, ctx.str("RestoreTaskId")));
    if (!restore || restore->account_id != ctx.caller.account_id)
      return core::errors::invalid_job_id(ctx.str("RestoreTaskId"));
    if (restore->state != "init" && restore->state != "check_pass")
      return core::make_error("OperationDenied.PlanStatus",
                              "restore task " + restore->id + " is " + restore->state + " and cannot be started again");
    OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, restore->parent_id));
    // A restore owns its RestoreDir (jobs/restore_dir_lock.h): never two writers in one directory.
    const auto* dir = restore->doc.if_contains("RestoreDir");
    if (dir && dir->is_string() && !dir->as_string().empty()) {
      const std::string path(dir->as_string());
      OPENDBS_ASSIGN(auto other, jobs::running_restore_into(tx, path, restore->id));
      if (other) return jobs::restore_dir_in_use(path, *other, ctx.caller.account_id);
    }
    restore->state = "running";
    restore->doc["RestoreStatus"] = "running";
    OPENDBS_TRY(tx.put(Kind::restore_task, *restore));
    return tx.put(Kind::task, jobs::new_task(jobs::task_kind::restore, plan, ctx.now_ms(),
                                             object{{"RestoreTaskId", restore->id}}, restore->id));
  }));
  signal(ctx, {{}, true});
  return object{{"RestoreTaskId", ctx.str("RestoreTaskId")}};
}

core::Result<object> describe_restore_task_list(Context& ctx) {
  if (ctx.has("BackupPlanId") && ctx.has("RestoreTaskId"))
    return core::make_error("InvalidParameter", "Give BackupPlanId or RestoreTaskId, not both.");
  if (!ctx.has("BackupPlanId") && !ctx.has("RestoreTaskId")) return core::errors::missing_parameter("BackupPlanId");
  catalog::Query q{Kind::restore_task};
  q.account_id = ctx.caller.account_id;
  if (ctx.has("BackupPlanId")) q.parent_id = ctx.str("BackupPlanId");
  if (ctx.has("RestoreTaskId")) q.ids = split_list(ctx.str("RestoreTaskId"));
  if (auto from = ctx.opt_int("StartTimestamp")) q.sort_from_ms = to_ms(*from);
  if (auto to = ctx.opt_int("EndTimestamp")) q.sort_to_ms = to_ms(*to);
  return list_plan_records(ctx, q, "RestoreTaskDetail");
}

core::Result<object> describe_restore_range_info(Context& ctx) {
  const int64_t from = to_ms(*ctx.opt_int("BeginTimestampForRestore"));
  const int64_t to = to_ms(*ctx.opt_int("EndTimestampForRestore"));
  if (from > to)
    return core::errors::invalid_parameter("EndTimestampForRestore", ctx.str("EndTimestampForRestore"),
                                           "not before BeginTimestampForRestore");
  array out;
  OPENDBS_TRY(ctx.services.store.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, ctx.str("BackupPlanId")));
    OPENDBS_ASSIGN(auto ranges, restore_ranges(tx, plan.id));
    for (const auto& r : ranges) {
      if (r.end_ms < from || r.begin_ms > to) continue;
      array sets;
      for (size_t i = 0; i < r.full_set_ids.size(); ++i) {
        OPENDBS_ASSIGN(auto set, tx.get(Kind::backup_set, r.full_set_ids[i]));
        sets.push_back(object{{"BackupSetId", r.full_set_ids[i]},
                              {"StartTime", set ? set->doc.at("StartTime").as_int64() : 0},
                              {"EndTime", r.full_set_end_ms[i]}});
      }
      out.push_back(object{{"RangeType", r.type},
                           {"BeginTimestampForRestore", r.begin_ms},
                           {"EndTimestampForRestore", r.end_ms},
                           {"SourceEndpointInstanceType", plan.doc.at("SourceEndpointInstanceType")},
                           {"SourceEndpointInstanceID", plan.doc.at("SourceEndpointInstanceID")},
                           {"FullBackupList", object{{"FullBackupDetail", std::move(sets)}}}});
    }
    return {};
  }));
  if (ctx.opt_bool("RecentlyRestore").value_or(false) && out.size() > 1) {
    auto last = out.back();
    out = array{last};
  }
  return object{{"Items", object{{"DBSRecoverRange", std::move(out)}}}};
}

}  // namespace

std::vector<OperationSpec> restore_operations() {
  return {
      {"CreateRestoreTask", Support::implemented,
       "Creates a restore of a full set or to a point in time; rejected if the time is not restorable (from "
       "the BackupSetId given, when there is one).", true,
       concat({{str_param("BackupPlanId", true, "The backup plan"), str_param("RestoreTaskName", true, "A name"),
                str_param("BackupSetId", false, "A full backup set to restore"),
                long_param("RestoreTime", false, "The moment to restore to (epoch ms)"),
                str_param("DestinationEndpointInstanceType", true,
                          "Agent = a directory on the node (RestoreDir); Other = a server by IP and port", kEndpointTypes),
                str_param("DestinationEndpointRegion", false, "Region"),
                str_param("DestinationEndpointInstanceID", false, "Cloud instance id"),
                str_param("DestinationEndpointIP", false, "Host of the destination server"),
                int_param("DestinationEndpointPort", false, "Port of the destination server", 1, 65535),
                str_param("DestinationEndpointDatabaseName", false, "Database"),
                str_param("DestinationEndpointUserName", false, "User"),
                str_param("DestinationEndpointPassword", false, "Password; stored encrypted"),
                str_param("DestinationEndpointOracleSID", false, "Oracle SID"),
                str_param("RestoreDir", false, "Directory on the node for a physical restore"),
                str_param("RestoreHome", false, "Recorded"),
                str_param("RestoreObjects", false, "JSON [{\"DBName\":\"db\",\"NewDBName\":\"db2\"}]"),
                str_param("DuplicateConflict", false,
                          "When a destination object of the same name exists: failure (the default) stops the "
                          "restore naming it; renamenew restores it under a new name",
                          {"failure", "renamenew"}),
                long_param("BackupGatewayId", false, "The node that restores"),
                str_param("CrossAliyunId", false, "Recorded"), str_param("CrossRoleName", false, "Recorded"),
                bool_param("EnableDestinationEndpointSsl", false, "Recorded"),
                str_param("RestoreDestinationMode", false, "Recorded")},
               common_params()}),
       create_restore_task},
      {"StartRestoreTask", Support::implemented,
       "Starts a created restore task; refused while another restore writes into its RestoreDir.", false,
       concat({{str_param("RestoreTaskId", true, "The restore task")}, common_params()}), start_restore_task},
      {"DescribeRestoreTaskList", Support::implemented, "Restore tasks with status and progress.", true,
       concat({{str_param("BackupPlanId", false, "The backup plan"),
                str_param("RestoreTaskId", false, "One id or a comma-separated list"),
                long_param("StartTimestamp", false, "Created from"), long_param("EndTimestamp", false, "Created to"),
                int_param("PageNum", false, "Page number from 0", 0, 1000000),
                int_param("PageSize", false, "Items per page (1-100)", 1, 100)},
               common_params()}),
       describe_restore_task_list},
      {"DescribeRestoreRangeInfo", Support::implemented,
       "The restorable ranges and points of a plan; a range ends before a log record its full sets cannot replay "
       "(PostgreSQL: a CREATE TABLESPACE made after them).",
       true,
       concat({{str_param("BackupPlanId", true, "The backup plan"),
                long_param("BeginTimestampForRestore", true, "From (epoch ms)"),
                long_param("EndTimestampForRestore", true, "To (epoch ms)"),
                bool_param("RecentlyRestore", false, "Only the most recent range")},
               common_params()}),
       describe_restore_range_info},
  };
}

}  // namespace opendbs::api::ops
