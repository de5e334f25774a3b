#include "cli/backup_command.h"

#include <boost/json.hpp>
#include <iostream>

#include "cli/human_format.h"
#include "cli/output_format.h"
#include "cli/text_table.h"
#include "core/clock.h"
#include "core/errors.h"

namespace opendbs::cli {
namespace {

using boost::json::object;

struct ListArgs {
  ClientOptions client;
  std::string plan_id;
  bool log = false;
  int limit = 50;
};

bool ended(const std::string& status) {
  return status == "finish" || status == "failed" || status == "stop" || status == "expired";
}

std::string set_summary(const object& set) {
  const std::string id = text(set, "BackupSetId"), status = text(set, "BackupStatus");
  if (status == "finish" || status == "expired")
    return "backup " + id + " finished: " + bytes(static_cast<uint64_t>(number(set, "BackupDataSize"))) + " (" +
           bytes(static_cast<uint64_t>(number(set, "BackupSize"))) + " stored) in " +
           duration(number(set, "FinishTime") - number(set, "StartTime")) + ", consistent at " +
           local_time(number(set, "EndTime"));
  const std::string why = text(set, "ErrMessage");
  return "backup " + id + " " + (status == "stop" ? "stopped" : "failed") + (why.empty() ? "" : ": " + why);
}

std::string full_sets_table(const boost::json::array& sets, int64_t now) {
  TextTable table({"BACKUP SET", "STATUS", "STARTED", "AGE", "DURATION", "SIZE", "STORED", "CONSISTENT AT", "MESSAGE"});
  for (const auto& v : sets) {
    const auto& s = v.as_object();
    const std::string status = text(s, "BackupStatus");
    const int64_t start = number(s, "StartTime"), finish = number(s, "FinishTime");
    table.add({text(s, "BackupSetId"), status == "running" ? "running " + std::to_string(number(s, "Progress")) + "%" : status,
               local_time(start ? start : number(s, "CreateTime")), age(start ? start : number(s, "CreateTime"), now),
               start && finish ? duration(finish - start) : start ? duration(now - start) : "-",
               status == "finish" ? bytes(static_cast<uint64_t>(number(s, "BackupDataSize"))) : "-",
               status == "finish" ? bytes(static_cast<uint64_t>(number(s, "BackupSize"))) : "-",
               local_time(status == "finish" ? number(s, "EndTime") : 0), text(s, "ErrMessage")});
  }
  return table.empty() ? "(no full backup sets)\n" : table.render();
}

std::string log_files_table(const boost::json::array& files) {
  TextTable table({"LOG FILE", "STATUS", "FROM", "TO", "SIZE"});
  for (const auto& v : files) {
    const auto& f = v.as_object();
    table.add({text(f, "BackupSetId"), text(f, "BackupStatus"), local_time(number(f, "StartTime")),
               local_time(number(f, "EndTime")), bytes(static_cast<uint64_t>(number(f, "BackupSize")))});
  }
  return table.empty() ? "(no log backup files)\n" : table.render();
}

int run_list(const ListArgs& a) {
  const std::string command = a.log ? "backup list --log" : "backup list";
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error(command, client.error());
  api::ParamList params = {{"BackupPlanId", a.plan_id}, {"PageSize", std::to_string(std::min(a.limit, 100))}};
  if (!a.log) params.emplace_back("ShowProgress", "true");
  auto answer = client->call(a.log ? "DescribeIncrementBackupList" : "DescribeFullBackupList", params);
  if (!answer.ok()) return report_error(command, answer.error());
  auto list = items(*answer, a.log ? "IncrementBackupFile" : "FullBackupFile");
  if (a.client.json()) {
    std::cout << pretty_json(list);
    return exit_code::ok;
  }
  const int64_t now = core::SystemClock::instance().now_ms();
  std::cout << (a.log ? log_files_table(list) : full_sets_table(list, now));
  const int64_t total = number(*answer, "TotalElements");
  if (total > static_cast<int64_t>(list.size()))
    std::cout << "(" << list.size() << " newest of " << total << "; --limit N shows up to 100)\n";
  return exit_code::ok;
}

}  // namespace

int wait_for_full_backup(const NodeClient& client, const std::string& plan_id, const std::string& set_id,
                         WaitOptions options) {
  if (options.label.empty()) options.label = "backup " + set_id;
  if (options.resume_hint.empty()) options.resume_hint = "Follow it with: opendbs backup list " + plan_id;
  return wait_for_task(options, [&]() -> core::Result<TaskPoll> {
    OPENDBS_ASSIGN(auto answer, client.call("DescribeFullBackupList", {{"BackupPlanId", plan_id},
                                                                        {"BackupSetId", set_id},
                                                                        {"ShowProgress", "true"}}));
    auto sets = items(answer, "FullBackupFile");
    if (sets.empty()) return core::errors::invalid_job_id(set_id);
    const auto& set = sets[0].as_object();
    TaskPoll poll;
    poll.sample.state = text(set, "BackupStatus");
    poll.sample.percent = static_cast<int>(number(set, "Progress"));
    // BackupDataSize is the logical size, known once the set is finished.
    if (set.contains("BackupDataSize")) poll.sample.bytes = static_cast<uint64_t>(number(set, "BackupDataSize"));
    poll.ended = ended(poll.sample.state);
    poll.succeeded = poll.sample.state == "finish";
    if (poll.ended) poll.summary = set_summary(set);
    return poll;
  });
}

void add_backup_commands(CLI::App& app, int& exit_code) {
  auto* backup = app.add_subcommand("backup", "Backup sets of a plan");
  backup->require_subcommand(1);
  auto a = std::make_shared<ListArgs>();
  auto* list = backup->add_subcommand("list", "Full backup sets of a plan, newest first (--log: its log backup files)");
  list->add_option("PLAN", a->plan_id, "The backup plan id")->required();
  list->add_flag("--log", a->log, "List the log backup files (binlogs, WAL segments) instead");
  list->add_option("--limit", a->limit, "At most this many, newest first (1-100, default 50)")->check(CLI::Range(1, 100));
  add_client_options(list, a->client);
  list->callback([a, &exit_code] { exit_code = run_list(*a); });
}

}  // namespace opendbs::cli
