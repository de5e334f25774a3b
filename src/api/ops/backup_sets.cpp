// Backup sets (full and incremental) and their downloads. The sets are written by the engines'
// tasks; these operations list them and queue download tasks.
#include <boost/json.hpp>

#include <algorithm>
#include <optional>

#include "api/ops/common.h"
#include "api/ops/families.h"
#include "api/ops/param_lists.h"
#include "engines/engine.h"
#include "api/ops/plan_model.h"
#include "core/errors.h"
#include "core/ids.h"
#include "jobs/plan_spec.h"
#include "jobs/tasks.h"

namespace opendbs::api::ops {
namespace {

using boost::json::array;
using boost::json::object;
using catalog::Kind;

void apply_time_range(const Context& ctx, catalog::Query& q) {
  if (auto from = ctx.opt_int("StartTimestamp")) q.sort_from_ms = to_ms(*from);
  if (auto to = ctx.opt_int("EndTimestamp")) q.sort_to_ms = to_ms(*to);
}

core::Result<object> list_sets(Context& ctx, Kind kind, const char* item_name, std::vector<std::string> states = {}) {
  catalog::Query q{kind};
  q.parent_id = ctx.str("BackupPlanId");
  q.states = std::move(states);
  apply_time_range(ctx, q);
  if (ctx.has("BackupSetId")) q.ids = {ctx.str("BackupSetId")};
  if (ctx.has("BackupSetStatus")) q.states = {ctx.str("BackupSetStatus")};
  OPENDBS_ASSIGN(auto answer, list_plan_records(ctx, q, item_name));
  if (!(ctx.has("ShowProgress") && ctx.str("ShowProgress") == "true"))
    for (auto& item : answer["Items"].as_object()[item_name].as_array()) item.as_object().erase("Progress");
  return answer;
}

core::Result<object> describe_full_backup_list(Context& ctx) { return list_sets(ctx, Kind::backup_set, "FullBackupFile"); }
// DBS's log file statuses: a file retention expired (its WAL deleted from the repository) is no
// longer listed, as DBS lists none.
core::Result<object> describe_increment_backup_list(Context& ctx) {
  return list_sets(ctx, Kind::log_file, "IncrementBackupFile", {"FILLING", "COMPLETED", "UNCOMPLETED"});
}

// The formats a set converts to, by engine and kind (the engines' download capability, checked here
// so that a wrong format is an error of the call and not of the task). Empty = not known here: the
// engine decides when the task runs.
std::vector<std::string> download_formats(const catalog::Record& plan, bool log_file) {
  const auto type = plan.doc.if_contains("DatabaseType");
  if (!type || !type->is_string() || type->as_string() != "PostgreSQL") return {};
  if (log_file) return {"Native"};
  const auto method = plan.doc.if_contains("BackupMethod");
  if (method && method->is_string() && method->as_string() == "logical") return {"SQL", "CSV"};
  return {"Native"};
}

// What a download converts: the set in the repository and the name the file is saved under.
struct DownloadSource {
  catalog::Record set;
  catalog::Record plan;
  std::string repo_set_id, file_name;
};

core::Result<DownloadSource> full_set_source(catalog::Tx& tx, Context& ctx, const std::string& set_id) {
  OPENDBS_ASSIGN(auto set, tx.get(Kind::backup_set, set_id));
  if (!set || set->account_id != ctx.caller.account_id) return core::errors::invalid_job_id(set_id);
  OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, set->parent_id));
  if (set->state != "finish")
    return core::make_error("OperationDenied.PlanStatus",
                            "backup set " + set_id + " is " + set->state + ", only finished sets can be downloaded");
  return DownloadSource{std::move(*set), std::move(plan), set_id, set_id};
}

// DBS names an increment by the job that wrote it (BackupSetId) and its file name (BackupSetName).
core::Result<DownloadSource> log_file_source(catalog::Tx& tx, Context& ctx, const std::string& job_id,
                                             const std::string& name) {
  OPENDBS_ASSIGN(auto job, tx.get(Kind::task, job_id));
  if (!job || job->account_id != ctx.caller.account_id) return core::errors::invalid_job_id(job_id);
  OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, job->parent_id));
  // Each source generation of the plan has its own files (jobs::log_chain_id), whose names may repeat:
  // the one the job wrote, else the newest generation's.
  catalog::Query q{Kind::log_file};
  q.parent_id = plan.id;
  q.doc_equals.push_back({"BackupSetId", name});
  OPENDBS_ASSIGN(auto named, tx.list(q));
  std::optional<catalog::Record> file;
  for (auto& f : named)
    if (!file || f.doc.at("BackupSetJobId").as_string() == job_id ||
        (file->doc.at("BackupSetJobId").as_string() != job_id && jobs::source_epoch(f.doc) > jobs::source_epoch(file->doc)))
      file = std::move(f);
  if (!file) return core::errors::invalid_job_id(name);
  // An UNCOMPLETED file (the segment that was filling when its log backup ended, or a timeline's
  // segment a fork left) downloads as its newest partial set; one holding nothing has no such set.
  // A FILLING file is still being written: it is downloadable once it ends.
  const bool stored = file->state == "COMPLETED" ||
                      (file->state == "UNCOMPLETED" && file->doc.at("BackupSize").to_number<int64_t>() > 0);
  if (!stored)
    return core::make_error("OperationDenied.PlanStatus",
                            "log file " + name + " is " + file->state +
                                (file->state == "UNCOMPLETED" ? " with nothing stored" : "") +
                                ", only COMPLETED files and UNCOMPLETED files holding data can be downloaded");
  std::string repo_set_id = engines::log_set_id(jobs::log_chain_id(plan.id, jobs::source_epoch(file->doc)), name);
  return DownloadSource{std::move(*file), std::move(plan), std::move(repo_set_id), name};
}

// Queues a download task for a set of the caller; the engine of the plan converts the set.
core::Result<object> create_download(Context& ctx, bool log_file, const char* job_type) {
  std::string task_id;
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto source, log_file ? log_file_source(tx, ctx, ctx.str("BackupSetId"), ctx.str("BackupSetName"))
                                         : full_set_source(tx, ctx, ctx.str("BackupSetId")));
    const auto& plan = source.plan;
    const auto formats = download_formats(plan, log_file);
    // DBS's default is CSV for full sets; a set that cannot be CSV gets its only format.
    std::string format = ctx.has("BackupSetDataFormat") ? ctx.str("BackupSetDataFormat") : log_file ? "Native" : "CSV";
    if (!ctx.has("BackupSetDataFormat") && formats.size() == 1) format = formats.front();
    if (!formats.empty() && std::find(formats.begin(), formats.end(), format) == formats.end()) {
      std::string expected;
      for (const auto& f : formats) expected += (expected.empty() ? "" : " or ") + f;
      return core::errors::invalid_parameter("BackupSetDataFormat", format,
                                             expected + " for " + (log_file ? std::string("a WAL file") : "this backup set") +
                                                 " (" + std::string(plan.doc.at("DatabaseType").as_string()) + ")");
    }
    const std::string set_id = log_file ? ctx.str("BackupSetName") : ctx.str("BackupSetId");
    auto task = jobs::new_task(jobs::task_kind::download, plan, ctx.now_ms(),
                               object{{"BackupSetId", set_id}, {"Format", format}, {"JobType", job_type},
                                      {"_RepoSetId", source.repo_set_id}, {"FileName", source.file_name}});
    task_id = task.id;
    catalog::Record dl{task.id, plan.account_id, plan.id, "init", ctx.now_ms(), {}};
    auto& d = dl.doc;
    d["BackupSetDownloadTaskId"] = task.id;
    d["BackupSetDownloadTaskName"] = set_id;
    d["BackupPlanId"] = plan.id;
    d["BackupSetId"] = set_id;
    d["BackupSetCode"] = source.set.doc.contains("BackupSetId") ? source.set.doc.at("BackupSetId")
                                                                : boost::json::value(set_id);
    d["BackupSetDataFormat"] = format;
    d["BackupSetDbType"] = plan.doc.at("DatabaseType");
    d["BackupSetJobType"] = job_type;
    d["BackupSetDownloadWay"] = "manual";
    d["BackupSetDownloadStatus"] = "init";
    d["BackupSetDownloadCreateTime"] = ctx.now_ms();
    d["BackupSetDownloadFinishTime"] = 0;
    d["BackupSetDataSize"] = 0;
    d["BackupSetDownloadInternetUrl"] = "";
    d["BackupSetDownloadIntranetUrl"] = "";
    d["ErrMessage"] = "";
    OPENDBS_TRY(tx.put(Kind::download_task, dl));
    return tx.put(Kind::task, task);
  }));
  signal(ctx, {{}, true});
  return object{{"BackupSetDownloadTaskId", task_id}};
}

core::Result<object> create_full_download(Context& ctx) { return create_download(ctx, false, "cbs_backup_sub_full"); }

core::Result<object> create_increment_download(Context& ctx) {
  return create_download(ctx, true, "cbs_backup_sub_cont");
}

core::Result<object> describe_download_tasks(Context& ctx) {
  if (!ctx.has("BackupPlanId") && !ctx.has("BackupSetDownloadTaskId"))
    return core::errors::missing_parameter("BackupPlanId");
  catalog::Query q{Kind::download_task};
  q.account_id = ctx.caller.account_id;
  if (ctx.has("BackupPlanId")) q.parent_id = ctx.str("BackupPlanId");
  if (ctx.has("BackupSetDownloadTaskId")) q.ids = {ctx.str("BackupSetDownloadTaskId")};
  return list_plan_records(ctx, q, "BackupSetDownloadTaskDetail");
}

core::Result<object> modify_download_rules(Context& ctx) {
  OPENDBS_TRY(ctx.services.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, ctx.str("BackupPlanId")));
    auto& d = plan.doc;
    d["OpenBackupSetAutoDownload"] = ctx.opt_bool("OpenAutoDownload").value_or(false);
    d["BackupSetDownloadDir"] = ctx.str("BackupSetDownloadDir");
    d["BackupSetDownloadTargetType"] = ctx.has("BackupSetDownloadTargetType") ? ctx.str("BackupSetDownloadTargetType") : "agent";
    d["BackupSetDownloadFullDataFormat"] = ctx.has("FullDataFormat") ? ctx.str("FullDataFormat") : "CSV";
    d["BackupSetDownloadIncrementDataFormat"] = ctx.has("IncrementDataFormat") ? ctx.str("IncrementDataFormat") : "Native";
    d["BackupSetDownloadGatewayId"] = ctx.opt_int("BackupGatewayId").value_or(0);
    return tx.put(Kind::plan, plan);
  }));
  return object{{"BackupPlanId", ctx.str("BackupPlanId")}};
}

const std::vector<std::string> kFormats = {"Native", "SQL", "CSV", "JSON"};

}  // namespace

std::vector<OperationSpec> backup_set_operations() {
  auto list_params = [](bool full) {
    std::vector<ParamSpec> p = {str_param("BackupPlanId", true, "The backup plan"),
                                long_param("StartTimestamp", false, "From (epoch ms or s)"),
                                long_param("EndTimestamp", false, "To (epoch ms or s)"),
                                int_param("PageNum", false, "Page number from 0", 0, 1000000),
                                int_param("PageSize", false, "Items per page (1-100)", 1, 100),
                                bool_param("ShowStorageType", false, "Accepted")};
    if (full) {
      p.push_back(str_param("BackupSetId", false, "One set"));
      p.push_back(str_param("BackupSetStatus", false, "init, running, finish, failed or stop",
                            {"init", "running", "finish", "failed", "stop"}));
      p.push_back(str_param("ShowProgress", false, "Include Progress", {"true", "false"}));
    }
    return concat({p, common_params()});
  };
  return {
      {"DescribeFullBackupList", Support::implemented, "Full backup sets of a plan with size, times and status.", true,
       list_params(true), describe_full_backup_list},
      {"DescribeIncrementBackupList", Support::implemented, "Log backup files (WAL segments, binlogs) of a plan.", true,
       list_params(false), describe_increment_backup_list},
      {"CreateFullBackupSetDownload", Support::implemented,
       "Converts a finished full set into one file that a download task writes and the node serves at a signed "
       "link valid for 24 hours. PostgreSQL: a logical set as SQL (a psql script) or CSV (a tar of one CSV file "
       "per table; the default), a physical set as Native (a tar of the data directory; its default).",
       false,
       concat({{str_param("BackupSetId", true, "The full backup set"),
                str_param("BackupSetDataFormat", false,
                          "SQL or CSV for logical sets, Native for physical sets (JSON is not available)", kFormats)},
               common_params()}),
       create_full_download},
      {"CreateIncrementBackupSetDownload", Support::implemented,
       "Makes a COMPLETED log backup file (a WAL segment) downloadable as it was written (Native); an "
       "UNCOMPLETED one holding data as what is stored of it (PostgreSQL: `<WAL file>.partial`, zero-padded).", false,
       concat({{str_param("BackupSetId", true, "The BackupSetJobId of the increment"),
                str_param("BackupSetName", true, "The increment's BackupSetId (its file name)"),
                str_param("BackupSetDataFormat", false, "Native", kFormats)},
               common_params()}),
       create_increment_download},
      {"DescribeBackupSetDownloadTaskList", Support::implemented,
       "Download tasks: status init, running, finish or stop (with ErrMessage), size, and once finished the "
       "signed links in BackupSetDownloadInternetUrl and BackupSetDownloadIntranetUrl.",
       true,
       concat({{str_param("BackupPlanId", false, "The backup plan"),
                str_param("BackupSetDownloadTaskId", false, "One download task"),
                int_param("PageNum", false, "Page number from 0", 0, 1000000),
                int_param("PageSize", false, "Items per page (1-100)", 1, 100)},
               common_params()}),
       describe_download_tasks},
      {"ModifyBackupSetDownloadRules", Support::recorded,
       "Records automatic download rules; automatic download to a gateway is not performed.", true,
       concat({{str_param("BackupPlanId", true, "The backup plan"), bool_param("OpenAutoDownload", false, "On/off"),
                long_param("BackupGatewayId", false, "Target node"), str_param("BackupSetDownloadDir", false, "Directory"),
                str_param("BackupSetDownloadTargetType", false, "agent", {"agent"}),
                str_param("BackupSetDownloadTargetTypeLocation", false, "local", {"local", "nas", "ftp", "minio"}),
                str_param("FullDataFormat", false, "CSV or SQL", kFormats),
                str_param("IncrementDataFormat", false, "Native", kFormats)},
               common_params()}),
       modify_download_rules},
  };
}

}  // namespace opendbs::api::ops
