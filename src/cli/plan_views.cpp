#include "cli/plan_views.h"

#include <boost/json.hpp>
#include <iostream>

#include "cli/human_format.h"
#include "cli/output_format.h"
#include "cli/restore_gaps.h"
#include "cli/text_table.h"
#include "core/clock.h"
#include "core/errors.h"

namespace opendbs::cli {
namespace {

using boost::json::array;
using boost::json::object;

int64_t now_ms() { return core::SystemClock::instance().now_ms(); }

std::string when(int64_t ms) { return ms > 0 ? local_time(ms) + " (" + age(ms, now_ms()) + ")" : "-"; }

// `gap`: restore_gap_note() of the plan.
std::string window(const object& plan, const std::string& gap) {
  const int64_t from = number(plan, "BeginTimestampForRestore"), to = number(plan, "EndTimestampForRestore");
  if (from <= 0) return "-";
  return local_time(from) + " → " + local_time(to) + " (" + age(to, now_ms()) + ")" + (gap.empty() ? "" : "; " + gap);
}

core::Result<array> restore_ranges(const NodeClient& client, const std::string& plan_id) {
  OPENDBS_ASSIGN(auto answer, client.call("DescribeRestoreRangeInfo",
                                          {{"BackupPlanId", plan_id},
                                           {"BeginTimestampForRestore", "0"},
                                           {"EndTimestampForRestore", std::to_string(now_ms() + 86400000)}}));
  return items(answer, "DBSRecoverRange");
}

// What the window of a physical plan (the only kind with log backup) does not say: restore_gap_note().
core::Result<std::string> gap_of(const NodeClient& client, const object& plan) {
  if (text(plan, "BackupMethod") != "physical" || number(plan, "BeginTimestampForRestore") <= 0) return std::string();
  const std::string id = text(plan, "BackupPlanId");
  // The log first: stored a moment later than the ranges were read, it would seem to lie past them.
  OPENDBS_ASSIGN(auto newest, client.call("DescribeIncrementBackupList", {{"BackupPlanId", id}, {"PageSize", "1"}}));
  OPENDBS_ASSIGN(auto ranges, restore_ranges(client, id));
  const auto logs = items(newest, "IncrementBackupFile");
  return restore_gap_note(ranges, logs.empty() ? 0 : number(logs[0].as_object(), "EndTime"));
}

std::string schedule(const object& plan) {
  if (text(plan, "BackupStrategyType") == "manual" || text(plan, "BackupPeriod").empty()) return "manual (full backups on request)";
  return text(plan, "BackupPeriod") + " at " + text(plan, "BackupStartTime") + " UTC";
}

// The newest finished full set of a plan (an empty object when there is none).
core::Result<object> last_finished_set(const NodeClient& client, const std::string& plan_id) {
  OPENDBS_ASSIGN(auto answer, client.call("DescribeFullBackupList", {{"BackupPlanId", plan_id},
                                                                     {"BackupSetStatus", "finish"},
                                                                     {"PageSize", "1"}}));
  auto sets = items(answer, "FullBackupFile");
  return sets.empty() ? object{} : sets[0].as_object();
}

core::Result<array> all_plans(const NodeClient& client) {
  array plans;
  for (int page = 0;; ++page) {
    OPENDBS_ASSIGN(auto answer, client.call("DescribeBackupPlanList", {{"ShowRecoverTimeRange", "true"},
                                                                       {"PageSize", "100"},
                                                                       {"PageNum", std::to_string(page)}}));
    auto batch = items(answer, "BackupPlanDetail");
    for (auto& p : batch) plans.push_back(std::move(p));
    if (batch.size() < 100 || static_cast<int64_t>(plans.size()) >= number(answer, "TotalElements")) return plans;
  }
}

// Log chain of a plan: how many files, the oldest and the newest, and the storage they take.
core::Result<object> log_chain(const NodeClient& client, const std::string& plan_id) {
  OPENDBS_ASSIGN(auto newest, client.call("DescribeIncrementBackupList", {{"BackupPlanId", plan_id}, {"PageSize", "1"}}));
  const int64_t total = number(newest, "TotalElements");
  object chain{{"Files", total}};
  if (total == 0) return chain;
  OPENDBS_ASSIGN(auto oldest, client.call("DescribeIncrementBackupList", {{"BackupPlanId", plan_id},
                                                                         {"PageSize", "1"},
                                                                         {"PageNum", std::to_string(total - 1)}}));
  const auto first = items(oldest, "IncrementBackupFile"), last = items(newest, "IncrementBackupFile");
  if (!first.empty()) chain["Oldest"] = first[0];
  if (!last.empty()) chain["Newest"] = last[0];
  OPENDBS_ASSIGN(auto billing, client.call("DescribeBackupPlanBilling", {{"BackupPlanId", plan_id}}));
  if (billing.contains("Item") && billing.at("Item").is_object())
    chain["StoredBytes"] = number(billing.at("Item").as_object(), "ContStorageSize");
  return chain;
}

std::string log_chain_text(const object& chain) {
  const int64_t files = number(chain, "Files");
  if (files == 0) return "  (no log backup files)\n";
  const object oldest = chain.contains("Oldest") ? chain.at("Oldest").as_object() : object{};
  const object newest = chain.contains("Newest") ? chain.at("Newest").as_object() : object{};
  return key_values({{"  files", std::to_string(files) + " (" + bytes(static_cast<uint64_t>(number(chain, "StoredBytes"))) + ")"},
                     {"  from", local_time(number(oldest, "StartTime")) + "  " + text(oldest, "BackupSetId")},
                     {"  to", when(number(newest, "EndTime")) + "  " + text(newest, "BackupSetId") + " (" +
                                  text(newest, "BackupStatus") + ")"}});
}

std::string details_text(const object& p, const std::string& gap) {
  std::string source = text(p, "SourceEndpointIpPort");
  if (!text(p, "SourceEndpointDatabaseName").empty()) source += " database \"" + text(p, "SourceEndpointDatabaseName") + "\"";
  if (!text(p, "SourceEndpointUserName").empty()) source += " as " + text(p, "SourceEndpointUserName");
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Plan", text(p, "BackupPlanId")},
      {"Name", text(p, "BackupPlanName")},
      {"Status", text(p, "BackupPlanStatus")},
      {"Database", text(p, "DatabaseType") + ", " + text(p, "BackupMethod") + " backup, log backup " +
                       (flag(p, "EnableBackupLog") ? "on" : "off")},
      {"Source", source.empty() ? "(not configured)" : source},
      {"Schedule", schedule(p)},
      {"Retention", std::to_string(number(p, "BackupRetentionPeriod")) + " days"},
      {"Created", when(number(p, "BackupPlanCreateTime"))},
      {"Restorable", window(p, gap)}};
  if (!text(p, "ErrMessage").empty()) rows.emplace_back("Message", text(p, "ErrMessage"));
  return key_values(rows);
}

}  // namespace

core::Result<object> fetch_plan(const NodeClient& client, const std::string& plan_id) {
  OPENDBS_ASSIGN(auto answer, client.call("DescribeBackupPlanList", {{"BackupPlanId", plan_id},
                                                                     {"ShowRecoverTimeRange", "true"},
                                                                     {"ShowBackupStrategyInfo", "true"}}));
  auto plans = items(answer, "BackupPlanDetail");
  if (plans.empty()) return core::errors::invalid_job_id(plan_id);
  return plans[0].as_object();
}

int run_plan_list(const PlanViewArgs& a) {
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("plan list", client.error());
  auto plans = all_plans(*client);
  if (!plans.ok()) return report_error("plan list", plans.error());
  array rows;
  TextTable table({"PLAN", "NAME", "STATUS", "TYPE", "LAST FULL BACKUP", "RESTORABLE"});
  for (const auto& v : *plans) {
    const auto& p = v.as_object();
    const std::string id = text(p, "BackupPlanId");
    auto last = last_finished_set(*client, id);
    if (!last.ok()) return report_error("plan list", last.error());
    auto gap = gap_of(*client, p);
    if (!gap.ok()) return report_error("plan list", gap.error());
    rows.push_back(object{{"BackupPlanId", id},
                          {"BackupPlanName", text(p, "BackupPlanName")},
                          {"BackupPlanStatus", text(p, "BackupPlanStatus")},
                          {"DatabaseType", text(p, "DatabaseType")},
                          {"BackupMethod", text(p, "BackupMethod")},
                          {"LastFinishedBackupSetId", text(*last, "BackupSetId")},
                          {"LastFinishedBackupTime", number(*last, "EndTime")},
                          {"BeginTimestampForRestore", number(p, "BeginTimestampForRestore")},
                          {"EndTimestampForRestore", number(p, "EndTimestampForRestore")},
                          {"RestoreGap", *gap},
                          {"ErrMessage", text(p, "ErrMessage")}});
    table.add({id, text(p, "BackupPlanName"), text(p, "BackupPlanStatus"),
               text(p, "DatabaseType") + "/" + text(p, "BackupMethod"), when(number(*last, "EndTime")), window(p, *gap)});
  }
  if (a.client.json()) std::cout << pretty_json(rows);
  else std::cout << (table.empty() ? "(no backup plans)\n" : table.render());
  return exit_code::ok;
}

int run_plan_show(const PlanViewArgs& a) {
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("plan show", client.error());
  auto plan = fetch_plan(*client, a.plan_id);
  if (!plan.ok()) return report_error("plan show", plan.error());
  auto sets = client->call("DescribeFullBackupList", {{"BackupPlanId", a.plan_id}, {"PageSize", "10"}, {"ShowProgress", "true"}});
  if (!sets.ok()) return report_error("plan show", sets.error());
  auto chain = log_chain(*client, a.plan_id);
  if (!chain.ok()) return report_error("plan show", chain.error());
  auto ranges = restore_ranges(*client, a.plan_id);  // after the log chain (gap_of)
  if (!ranges.ok()) return report_error("plan show", ranges.error());
  const object newest = chain->contains("Newest") ? chain->at("Newest").as_object() : object{};
  const std::string gap = number(*plan, "BeginTimestampForRestore") > 0 ? restore_gap_note(*ranges, number(newest, "EndTime")) : "";
  if (a.client.json()) {
    std::cout << pretty_json(object{{"Plan", *plan},
                                    {"FullBackupSets", items(*sets, "FullBackupFile")},
                                    {"FullBackupSetCount", number(*sets, "TotalElements")},
                                    {"LogChain", *chain},
                                    {"RestoreRanges", *ranges},
                                    {"RestoreGap", gap}});
    return exit_code::ok;
  }
  std::cout << details_text(*plan, gap);
  TextTable set_table({"  BACKUP SET", "STATUS", "STARTED", "SIZE", "CONSISTENT AT"});
  for (const auto& v : items(*sets, "FullBackupFile")) {
    const auto& s = v.as_object();
    const std::string status = text(s, "BackupStatus");
    set_table.add({"  " + text(s, "BackupSetId"), status == "running" ? "running " + std::to_string(number(s, "Progress")) + "%" : status,
                   when(number(s, "StartTime") ? number(s, "StartTime") : number(s, "CreateTime")),
                   status == "finish" ? bytes(static_cast<uint64_t>(number(s, "BackupDataSize"))) : "-",
                   status == "finish" ? local_time(number(s, "EndTime")) : "-"});
  }
  std::cout << "\nFull backup sets (" << number(*sets, "TotalElements") << ", newest first)\n"
            << (set_table.empty() ? "  (none yet)\n" : set_table.render());
  std::cout << "\nLog chain\n" << log_chain_text(*chain);
  TextTable range_table({"  KIND", "FROM", "TO"});
  for (const auto& v : *ranges) {
    const auto& r = v.as_object();
    range_table.add({"  " + text(r, "RangeType"), local_moment(number(r, "BeginTimestampForRestore")),
                     local_moment(number(r, "EndTimestampForRestore"))});
  }
  std::cout << "\nRestorable\n" << (range_table.empty() ? "  (nothing yet)\n" : range_table.render());
  return exit_code::ok;
}

}  // namespace opendbs::cli
