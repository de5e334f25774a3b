// Read-only plan operations: the plan list, storage figures, precheck progress and job errors.
#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <optional>

#include "api/ops/common.h"
#include "api/ops/families.h"
#include "api/ops/param_lists.h"
#include "api/ops/restore_ranges.h"
#include "core/errors.h"
#include "jobs/tasks.h"

namespace opendbs::api::ops {
namespace {

using boost::json::array;
using boost::json::object;
using catalog::Kind;

const std::vector<std::string> kVisibleStatuses = {"wait", "init", "running", "stop", "pause", "locked", "check_pass"};

core::Result<object> list_plans(Context& ctx);

// Begin/end of what can be restored: the earliest and the latest moment of the plan's restore ranges
// (restore_ranges.h, as DescribeRestoreRangeInfo lists them), so the end is never a moment after a gap
// in the log chain, a log barrier or the change to another source that no finished full set follows,
// however far the log stored since reaches. Moments between two ranges (a gap that a later full set
// got over) are not restorable: the window is the ranges' span, DescribeRestoreRangeInfo their list.
core::Status fill_restore_window(catalog::Tx& tx, object& item, const std::string& plan_id) {
  OPENDBS_ASSIGN(const auto ranges, restore_ranges(tx, plan_id));
  int64_t begin = 0, end = 0;
  for (const auto& r : ranges) {
    begin = begin == 0 ? r.begin_ms : std::min(begin, r.begin_ms);
    end = std::max(end, r.end_ms);
  }
  item["BeginTimestampForRestore"] = begin;
  item["EndTimestampForRestore"] = end;
  return {};
}

// Answers of DescribeBackupPlanList by (account, parameters), reused while no plan was written: a
// console or a dashboard asks the same pages again and again, and a page costs 30 document reads.
// Answers with the restorable window (which depends on sets and logs) are not kept.
class PlanPageCache {
 public:
  std::optional<object> find(const std::string& key, uint64_t counter) {
    std::lock_guard lock(mu_);
    if (counter != counter_) {
      pages_.clear();
      counter_ = counter;
    }
    auto it = pages_.find(key);
    if (it == pages_.end()) return std::nullopt;
    return object{{kRawMembers, it->second}};
  }
  // Keeps the answer's members serialised, without the surrounding braces.
  void keep(const std::string& key, uint64_t counter, const object& answer) {
    std::string members = boost::json::serialize(answer);
    members = members.substr(1, members.size() - 2);
    std::lock_guard lock(mu_);
    if (counter != counter_) return;
    if (pages_.size() >= 1024) pages_.clear();
    pages_[key] = std::move(members);
  }

 private:
  std::mutex mu_;
  uint64_t counter_ = 0;
  std::map<std::string, std::string> pages_;
};

std::string page_key(const Context& ctx) {
  // The store's address keeps nodes in one process (tests) apart.
  std::string key = std::to_string(reinterpret_cast<uintptr_t>(&ctx.services.store)) + "\x1f" + ctx.caller.account_id;
  for (const auto& [name, value] : ctx.params())
    if (name != "ClientToken" && name != "OwnerId") key.append("\x1f").append(name).append("=").append(value);
  return key;
}

core::Result<object> describe_backup_plan_list(Context& ctx) {
  static PlanPageCache cache;
  const bool cacheable = !ctx.opt_bool("ShowRecoverTimeRange").value_or(false);
  const uint64_t counter = ctx.services.store.change_counter(Kind::plan);
  const std::string key = cacheable ? page_key(ctx) : std::string();
  if (cacheable)
    if (auto hit = cache.find(key, counter)) return std::move(*hit);
  OPENDBS_ASSIGN(auto answer, list_plans(ctx));
  if (cacheable) cache.keep(key, counter, answer);
  return answer;
}

core::Result<object> list_plans(Context& ctx) {
  const Page page = page_of(ctx);
  catalog::Query q{Kind::plan};
  q.account_id = ctx.caller.account_id;
  q.states = kVisibleStatuses;
  if (ctx.has("BackupPlanStatus")) q.states = {ctx.str("BackupPlanStatus")};
  if (ctx.has("BackupPlanId")) q.ids = split_list(ctx.str("BackupPlanId"));
  if (ctx.has("BackupPlanName")) q.doc_equals.push_back({"BackupPlanName", ctx.str("BackupPlanName")});
  if (ctx.has("Region")) q.doc_equals.push_back({"BackupPlanRegion", ctx.str("Region")});
  if (ctx.has("ResourceGroupId")) q.doc_equals.push_back({"ResourceGroupId", ctx.str("ResourceGroupId")});
  if (ctx.has("BackupMethod")) q.doc_equals.push_back({"BackupMethod", ctx.str("BackupMethod")});
  q.offset = page.num * page.size;
  q.limit = page.size;
  const bool show_strategy = ctx.opt_bool("ShowBackupStrategyInfo").value_or(false);
  const bool show_storage = ctx.opt_bool("ShowStorageStrategyInfo").value_or(false);
  const bool show_range = ctx.opt_bool("ShowRecoverTimeRange").value_or(false);
  int64_t total = 0;
  array items;
  OPENDBS_TRY(ctx.services.store.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(total, tx.count(q));
    OPENDBS_ASSIGN(auto plans, tx.list(q));
    for (const auto& p : plans) {
      object item = public_view(p.doc);
      if (!show_strategy) item.erase("BackupLogIntervalSeconds");
      if (!show_storage)
        for (const char* f : {"IncrementBackupRetentionPeriod", "IncrementDuplicationArchivePeriod",
                              "IncrementDuplicationInfrequentAccessPeriod", "LogBackupRetentionPeriod",
                              "LogDuplicationArchivePeriod", "LogDuplicationInfrequentAccessPeriod"})
          item.erase(f);
      if (show_range) OPENDBS_TRY(fill_restore_window(tx, item, p.id));
      items.push_back(std::move(item));
    }
    return {};
  }));
  return page_answer(page, total, "BackupPlanDetail", std::move(items));
}

core::Result<int64_t> sum_sizes(catalog::Tx& tx, Kind kind, const std::string& plan_id,
                                std::vector<std::string> states) {
  catalog::Query q{kind};
  q.parent_id = plan_id;
  q.states = std::move(states);
  OPENDBS_ASSIGN(auto records, tx.list(q));
  int64_t sum = 0;
  for (const auto& r : records) sum += r.doc.at("BackupSize").to_number<int64_t>();
  return sum;
}

core::Result<object> describe_backup_plan_billing(Context& ctx) {
  object item;
  OPENDBS_TRY(ctx.services.store.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, load_plan(tx, ctx, ctx.str("BackupPlanId")));
    OPENDBS_ASSIGN(int64_t full, sum_sizes(tx, Kind::backup_set, plan.id, {"finish"}));
    OPENDBS_ASSIGN(int64_t logs, sum_sizes(tx, Kind::log_file, plan.id, {"COMPLETED", "FILLING", "UNCOMPLETED"}));
    item["BuyChargeType"] = plan.doc.at("InstanceChargeType");
    item["BuySpec"] = plan.doc.at("InstanceClass");
    item["BuyCreateTimestamp"] = plan.doc.at("BackupPlanCreateTime");
    item["BuyExpiredTimestamp"] =
        plan.doc.contains("InstanceExpiredTimestamp") ? plan.doc.at("InstanceExpiredTimestamp").as_int64() : 0;
    item["IsExpired"] = false;
    item["IsFreeBytesUnlimited"] = true;
    item["TotalFreeBytes"] = 0;
    item["PaiedBytes"] = 0;
    item["FullStorageSize"] = full;
    item["ContStorageSize"] = logs;
    item["UsedFullBytes"] = full;
    item["UsedIncrementBytes"] = logs;
    item["QuotaStartTimestamp"] = plan.doc.at("BackupPlanCreateTime");
    item["QuotaEndTimestamp"] = 0;
    return {};
  }));
  return object{{"Item", std::move(item)}};
}

// The newest precheck task of a plan: its items alone are the plan's precheck (an earlier run's
// failures no longer apply once ConfigureBackupPlan or ModifyBackupSourceEndpoint ran it again).
// While it runs it has no items yet, and the answer is "running".
core::Result<std::optional<std::string>> latest_precheck_job(catalog::Tx& tx, const std::string& owner) {
  catalog::Query q{Kind::task};
  q.parent_id = owner;
  q.doc_equals.push_back({"TaskKind", std::string(jobs::task_kind::precheck)});
  q.limit = 1;
  OPENDBS_ASSIGN(auto tasks, tx.list(q));
  if (tasks.empty()) return std::optional<std::string>();
  return std::optional<std::string>(tasks.front().id);
}

core::Result<object> describe_precheck_progress_list(Context& ctx) {
  if (!ctx.has("BackupPlanId") && !ctx.has("RestoreTaskId")) return core::errors::missing_parameter("BackupPlanId");
  if (ctx.has("BackupPlanId") && ctx.has("RestoreTaskId"))
    return core::make_error("InvalidParameter", "Give BackupPlanId or RestoreTaskId, not both.");
  object out;
  OPENDBS_TRY(ctx.services.store.read([&](catalog::Tx& tx) -> core::Status {
    std::string owner = ctx.str("BackupPlanId");
    if (ctx.has("RestoreTaskId")) {
      OPENDBS_ASSIGN(auto restore, tx.get(Kind::restore_task, ctx.str("RestoreTaskId")));
      if (!restore || restore->account_id != ctx.caller.account_id)
        return core::errors::invalid_job_id(ctx.str("RestoreTaskId"));
      OPENDBS_TRY(load_plan(tx, ctx, restore->parent_id));  // a released plan's restores are gone too
      owner = restore->id;
    } else {
      OPENDBS_TRY(load_plan(tx, ctx, owner));
    }
    catalog::Query q{Kind::precheck};
    q.parent_id = owner;
    q.newest_first = false;
    OPENDBS_ASSIGN(auto latest, latest_precheck_job(tx, owner));
    if (latest) q.doc_equals.push_back({"JobId", *latest});
    OPENDBS_ASSIGN(auto items, tx.list(q));
    array details;
    int finished = 0;
    bool failed = false;
    for (const auto& i : items) {
      details.push_back(public_view(i.doc));
      finished += i.state == "finish" || i.state == "failed" || i.state == "warning";
      failed = failed || i.state == "failed";
    }
    const bool done = !items.empty() && finished == static_cast<int>(items.size());
    out["Status"] = failed ? "failed" : done ? "finish" : "running";
    out["Progress"] = items.empty() ? 0 : static_cast<int64_t>(100 * finished / items.size());
    out["Items"] = object{{"PreCheckProgressDetail", std::move(details)}};
    return {};
  }));
  return out;
}

core::Result<object> describe_job_error_code(Context& ctx) {
  object item;
  OPENDBS_TRY(ctx.services.store.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto task, tx.get(Kind::task, ctx.str("TaskId")));
    if (!task || task->account_id != ctx.caller.account_id) return core::errors::invalid_job_id(ctx.str("TaskId"));
    if (!load_plan(tx, ctx, task->parent_id).ok()) return core::errors::invalid_job_id(ctx.str("TaskId"));
    const auto& d = task->doc;
    item["JobId"] = task->id;
    item["JobType"] = d.at("TaskKind");
    item["JobState"] = task->state;
    item["ErrorCode"] = d.contains("ErrCode") ? d.at("ErrCode") : boost::json::value("");
    item["ErrorMessage"] = d.contains("ErrMessage") ? d.at("ErrMessage") : boost::json::value("");
    item["Language"] = ctx.has("Language") ? ctx.str("Language") : "en";
    return {};
  }));
  return object{{"Item", std::move(item)}};
}

}  // namespace

std::vector<OperationSpec> plan_query_operations() {
  return {
      {"DescribeBackupPlanList", Support::implemented, "Lists the caller's plans with filters and paging from 0.", true,
       concat({{str_param("BackupPlanId", false, "One id or a comma-separated list"),
                str_param("BackupPlanName", false, "Exact plan name"),
                str_param("BackupPlanStatus", false, "Plan status", kVisibleStatuses),
                str_param("Region", false, "Plan region"), str_param("ResourceGroupId", false, "Resource group"),
                str_param("BackupMethod", false, "logical or physical", {"logical", "physical", "duplication"}),
                int_param("PageNum", false, "Page number from 0", 0, 1000000),
                int_param("PageSize", false, "Items per page (1-100, default 30)", 1, 100),
                bool_param("ShowBackupStrategyInfo", false, "Include strategy details"),
                bool_param("ShowStorageStrategyInfo", false, "Include incremental/log retention fields"),
                bool_param("ShowRecoverTimeRange", false, "Include the restorable window")},
               common_params()}),
       describe_backup_plan_list},
      {"DescribeBackupPlanBilling", Support::implemented,
       "Storage used by a plan's full sets and log files (no money: opendbs has no billing).", true,
       concat({{str_param("BackupPlanId", true, "The backup plan"), bool_param("ShowStorageType", false, "Accepted")},
               common_params()}),
       describe_backup_plan_billing},
      {"DescribePreCheckProgressList", Support::implemented, "Precheck items of a plan or a restore task.", true,
       concat({{str_param("BackupPlanId", false, "The backup plan"),
                str_param("RestoreTaskId", false, "The restore task")},
               common_params()}),
       describe_precheck_progress_list},
      {"DescribeJobErrorCode", Support::implemented, "The state and error of a task (backup, restore, ...).", false,
       concat({{str_param("TaskId", true, "A task id (full backup set id, restore task id, ...)"),
                str_param("Language", false, "en or cn", {"en", "cn", "zh"})},
               common_params()}),
       describe_job_error_code},
  };
}

}  // namespace opendbs::api::ops
