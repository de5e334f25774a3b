#include "cli/restore_command.h"

#include <boost/json.hpp>
#include <iostream>

#include "cli/human_format.h"
#include "cli/node_client.h"
#include "cli/output_format.h"
#include "cli/secret_input.h"
#include "cli/task_wait.h"
#include "cli/text_table.h"
#include "core/clock.h"
#include "core/errors.h"

namespace opendbs::cli {
namespace {

using boost::json::object;

struct CreateArgs {
  ClientOptions client;
  std::string plan_id, name, time, set_id, dir, host, user, password, password_file, database;
  int64_t time_ms = 0;
  int port = 0;
  std::vector<std::string> renames;
  std::string on_conflict;
  bool start = false, wait = false;
  double wait_timeout_s = 0;
};

struct TaskArgs {
  ClientOptions client;
  std::string id;
  bool wait = false;
  double wait_timeout_s = 0;
};

std::string destination(const object& r) {
  const std::string dir = text(r, "RestoreDir");
  if (!dir.empty()) return dir;
  return text(r, "DestinationEndpointIpPort") + (text(r, "DestinationEndpointDatabaseName").empty() ? "" : "/" + text(r, "DestinationEndpointDatabaseName"));
}

// The databases a restore wrote, from its RestoreObjects ("" when it names none).
std::string written_databases(const object& r) {
  boost::system::error_code ec;
  const auto objects = boost::json::parse(text(r, "RestoreObjects"), ec);
  if (ec || !objects.is_array()) return "";
  std::string out;
  for (const auto& o : objects.as_array()) {
    if (!o.is_object()) continue;
    std::string name = text(o.as_object(), "NewDBName");
    if (name.empty()) name = text(o.as_object(), "DBName");
    if (!name.empty()) out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

int wait_for_restore(const NodeClient& client, const std::string& id, double timeout_s) {
  WaitOptions o{"restore", "restore " + id, "Follow it with: opendbs restore list PLAN", static_cast<int64_t>(timeout_s * 1000)};
  return wait_for_task(o, [&]() -> core::Result<TaskPoll> {
    OPENDBS_ASSIGN(auto answer, client.call("DescribeRestoreTaskList", {{"RestoreTaskId", id}}));
    auto tasks = items(answer, "RestoreTaskDetail");
    if (tasks.empty()) return core::errors::invalid_job_id(id);
    const auto& r = tasks[0].as_object();
    TaskPoll poll;
    poll.sample.state = text(r, "RestoreStatus");
    poll.sample.percent = static_cast<int>(number(r, "FullDataRestoreProgress"));
    poll.ended = poll.sample.state == "finish" || poll.sample.state == "stop" || poll.sample.state == "failed";
    poll.succeeded = poll.sample.state == "finish";
    if (poll.ended) poll.summary = restore_summary(r);
    return poll;
  });
}

// --rename db=new,... as RestoreObjects JSON.
core::Result<std::string> restore_objects(const std::vector<std::string>& renames) {
  boost::json::array list;
  for (const auto& r : renames) {
    const auto eq = r.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == r.size())
      return core::errors::invalid_parameter("--rename", r, "DB=NEWNAME");
    list.push_back(object{{"DBName", r.substr(0, eq)}, {"NewDBName", r.substr(eq + 1)}});
  }
  return boost::json::serialize(list);
}

core::Result<api::ParamList> create_params(const CreateArgs& a) {
  api::ParamList p = {{"BackupPlanId", a.plan_id}};
  int64_t moment = a.time_ms;
  if (!a.time.empty()) {
    OPENDBS_ASSIGN(moment, parse_time(a.time, "--time"));
  }
  if (moment == 0 && a.set_id.empty())
    return core::make_error("MissingParameter", "say what to restore: --time, --time-ms or --set");
  if (moment) p.emplace_back("RestoreTime", std::to_string(moment));
  if (!a.set_id.empty()) p.emplace_back("BackupSetId", a.set_id);
  p.emplace_back("RestoreTaskName", !a.name.empty() ? a.name : moment ? "restore-to-" + core::format_iso8601(moment) : "restore-" + a.set_id);
  if (!a.dir.empty() == !a.host.empty())
    return core::make_error("MissingParameter", "say where to restore: --dir DIR (on the node) or --host/--port/--user/--password");
  if (!a.dir.empty()) {
    p.insert(p.end(), {{"DestinationEndpointInstanceType", "Agent"}, {"RestoreDir", a.dir}});
  } else {
    if (a.port == 0) return core::errors::missing_parameter("--port");
    if (a.user.empty()) return core::errors::missing_parameter("--user");
    OPENDBS_ASSIGN(auto password, read_secret(a.password, a.password_file, "OPENDBS_DESTINATION_PASSWORD", "--password"));
    p.insert(p.end(), {{"DestinationEndpointInstanceType", "Other"},
                       {"DestinationEndpointIP", a.host},
                       {"DestinationEndpointPort", std::to_string(a.port)},
                       {"DestinationEndpointUserName", a.user},
                       {"DestinationEndpointPassword", password}});
  }
  if (!a.database.empty()) p.emplace_back("DestinationEndpointDatabaseName", a.database);
  if (!a.renames.empty()) {
    OPENDBS_ASSIGN(auto objects, restore_objects(a.renames));
    p.emplace_back("RestoreObjects", objects);
  }
  if (!a.on_conflict.empty()) p.emplace_back("DuplicateConflict", a.on_conflict);
  return p;
}

int run_create(const CreateArgs& a) {
  auto params = create_params(a);
  if (!params.ok()) return report_error("restore create", params.error());
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("restore create", client.error());
  auto created = client->call("CreateRestoreTask", *params);
  if (!created.ok()) return report_error("restore create", created.error());
  const std::string id = text(*created, "RestoreTaskId");
  if (a.start) {
    auto started = client->call("StartRestoreTask", {{"RestoreTaskId", id}});
    if (!started.ok()) return report_error("restore create", started.error());
  }
  if (a.client.json()) std::cout << pretty_json(object{{"RestoreTaskId", id}, {"Started", a.start}});
  else std::cout << "Created restore task " << id << (a.start ? " and started it\n" : "; start it with: opendbs restore start " + id + "\n");
  return a.start && a.wait ? wait_for_restore(*client, id, a.wait_timeout_s) : exit_code::ok;
}

int run_start(const TaskArgs& a) {
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("restore start", client.error());
  auto started = client->call("StartRestoreTask", {{"RestoreTaskId", a.id}});
  if (!started.ok()) return report_error("restore start", started.error());
  if (a.client.json()) std::cout << pretty_json(*started);
  else std::cout << "Started restore task " << a.id << "\n";
  return a.wait ? wait_for_restore(*client, a.id, a.wait_timeout_s) : exit_code::ok;
}

int run_list(const TaskArgs& a) {
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("restore list", client.error());
  auto answer = client->call("DescribeRestoreTaskList", {{"BackupPlanId", a.id}, {"PageSize", "100"}});
  if (!answer.ok()) return report_error("restore list", answer.error());
  auto list = items(*answer, "RestoreTaskDetail");
  if (a.client.json()) {
    std::cout << pretty_json(list);
    return exit_code::ok;
  }
  const int64_t now = core::SystemClock::instance().now_ms();
  TextTable table({"RESTORE TASK", "NAME", "STATUS", "RESTORES TO", "FROM SET", "DESTINATION", "CREATED", "MESSAGE"});
  for (const auto& v : list) {
    const auto& r = v.as_object();
    table.add({text(r, "RestoreTaskId"), text(r, "RestoreTaskName"), text(r, "RestoreStatus"),
               local_moment(number(r, "RestoreTime")), text(r, "BackupSetId"), destination(r),
               age(number(r, "RestoreTaskCreateTime"), now), text(r, "ErrMessage")});
  }
  std::cout << (table.empty() ? "(no restore tasks)\n" : table.render());
  return exit_code::ok;
}

int run_range(const TaskArgs& a) {
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("restore range", client.error());
  const int64_t now = core::SystemClock::instance().now_ms();
  auto answer = client->call("DescribeRestoreRangeInfo", {{"BackupPlanId", a.id},
                                                          {"BeginTimestampForRestore", "0"},
                                                          {"EndTimestampForRestore", std::to_string(now + 86400000)}});
  if (!answer.ok()) return report_error("restore range", answer.error());
  auto ranges = items(*answer, "DBSRecoverRange");
  if (a.client.json()) {
    std::cout << pretty_json(ranges);
    return exit_code::ok;
  }
  TextTable table({"KIND", "FROM", "TO", "SPAN", "UNTIL NOW", "FULL SETS"});
  for (const auto& v : ranges) {
    const auto& r = v.as_object();
    const int64_t from = number(r, "BeginTimestampForRestore"), to = number(r, "EndTimestampForRestore");
    std::string sets;
    if (auto it = r.find("FullBackupList"); it != r.end() && it->value().is_object())
      for (const auto& s : items(object{{"Items", it->value()}}, "FullBackupDetail"))
        sets += (sets.empty() ? "" : ",") + text(s.as_object(), "BackupSetId");
    table.add({text(r, "RangeType"), local_moment(from), local_moment(to), duration(to - from), age(to, now), sets});
  }
  std::cout << (table.empty() ? "(nothing restorable yet: the plan has no finished full backup)\n" : table.render());
  return exit_code::ok;
}

void add_create(CLI::App* restore, int& exit_code) {
  auto a = std::make_shared<CreateArgs>();
  auto* c = restore->add_subcommand("create", "Create a restore task: a moment or a backup set, into a directory or a server");
  c->add_option("PLAN", a->plan_id, "The backup plan id")->required();
  auto* time = c->add_option("--time", a->time, "Moment to restore to: 2026-11-28T07:36:29Z, with an offset, or local time");
  c->add_option("--time-ms", a->time_ms, "Moment to restore to, epoch milliseconds")->excludes(time);
  c->add_option("--set", a->set_id, "A full backup set to restore (with --time: the base set to start from)");
  c->add_option("--name", a->name, "Name of the restore task");
  auto* dir = c->add_option("--dir", a->dir, "Restore into this directory on the node (physical restore)");
  c->add_option("--host", a->host, "Restore into this database server instead")->excludes(dir);
  c->add_option("--port", a->port, "Port of the destination server")->check(CLI::Range(1, 65535));
  c->add_option("--user", a->user, "User on the destination server");
  c->add_option("--password", a->password, "Password (or --password-file, or OPENDBS_DESTINATION_PASSWORD)");
  c->add_option("--password-file", a->password_file, "Read the destination password from this file");
  c->add_option("--database", a->database, "Destination database");
  c->add_option("--rename", a->renames, "Restore database DB as NEW (DB=NEW; repeatable)")->allow_extra_args(false);
  c->add_option("--on-conflict", a->on_conflict,
                "When a database to restore exists on the destination: failure (the default: the restore stops, "
                "naming it) or renamenew (restore it as NAME_dbs_<moment> beside it)")
      ->check(CLI::IsMember({"failure", "renamenew"}));
  auto* start = c->add_flag("--start", a->start, "Start the task right away");
  auto* wait = c->add_flag("--wait", a->wait, "With --start: follow the restore until it ends (progress on stderr)")->needs(start);
  c->add_option("--wait-timeout", a->wait_timeout_s, "Stop waiting after this many seconds (exit 11)")->needs(wait);
  add_client_options(c, a->client);
  c->callback([a, &exit_code] { exit_code = run_create(*a); });
}

}  // namespace

std::string restore_summary(const object& r) {
  const std::string id = text(r, "RestoreTaskId");
  if (text(r, "RestoreStatus") == "finish") {
    const std::string databases = text(r, "RestoreDir").empty() ? written_databases(r) : "";
    return "restore " + id + " finished: " + destination(r) +
           (databases.empty() ? "" : " (" + std::string(databases.find(',') == std::string::npos ? "database " : "databases ") +
                                         databases + ")") +
           " holds the data of " + local_moment(number(r, "RestoreTime"));
  }
  const std::string why = text(r, "ErrMessage");
  return "restore " + id + " stopped" + (why.empty() ? "" : ": " + why);
}

void add_restore_commands(CLI::App& app, int& exit_code) {
  auto* restore = app.add_subcommand("restore", "Restore tasks of a plan");
  restore->require_subcommand(1);
  add_create(restore, exit_code);

  auto start = std::make_shared<TaskArgs>();
  auto* s = restore->add_subcommand("start", "Start a created restore task");
  s->add_option("TASK", start->id, "The restore task id")->required();
  auto* wait = s->add_flag("--wait", start->wait, "Follow the restore until it ends (progress on stderr)");
  s->add_option("--wait-timeout", start->wait_timeout_s, "Stop waiting after this many seconds (exit 11)")->needs(wait);
  add_client_options(s, start->client);
  s->callback([start, &exit_code] { exit_code = run_start(*start); });

  auto list = std::make_shared<TaskArgs>();
  auto* l = restore->add_subcommand("list", "Restore tasks of a plan, newest first");
  l->add_option("PLAN", list->id, "The backup plan id")->required();
  add_client_options(l, list->client);
  l->callback([list, &exit_code] { exit_code = run_list(*list); });

  auto range = std::make_shared<TaskArgs>();
  auto* r = restore->add_subcommand("range", "What can be restored: points (full sets) and ranges (with the log)");
  r->add_option("PLAN", range->id, "The backup plan id")->required();
  add_client_options(r, range->client);
  r->callback([range, &exit_code] { exit_code = run_range(*range); });
}

}  // namespace opendbs::cli
