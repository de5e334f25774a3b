#include "cli/plan_command.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <iostream>

#include "cli/backup_command.h"
#include "cli/output_format.h"
#include "cli/plan_settings.h"
#include "cli/plan_views.h"
#include "core/clock.h"
#include "core/errors.h"

namespace opendbs::cli {
namespace {

using boost::json::object;

struct PlanArgs {
  ClientOptions client;
  std::string plan_id;
  PlanFlags flags;
  bool start = false, wait = false, all = false, schedule_only = false, yes = false;
  double wait_timeout_s = 0;
};

// Follows the plan's precheck like a task: plan status check_pass (or running) means it passed,
// "init" with a "precheck failed" message that it failed (exit 12).
int wait_for_precheck(const NodeClient& client, const std::string& command, const std::string& plan_id) {
  WaitOptions o;
  o.command = command;
  o.label = "precheck of plan " + plan_id;
  o.resume_hint = "See it with: opendbs plan show " + plan_id;
  o.timeout_ms = 120000;
  o.poll_ms = 300;
  const int code = wait_for_task(o, [&]() -> core::Result<TaskPoll> {
    OPENDBS_ASSIGN(auto plan, fetch_plan(client, plan_id));
    const std::string status = text(plan, "BackupPlanStatus"), message = text(plan, "ErrMessage");
    TaskPoll poll;
    poll.sample.state = "running";
    poll.succeeded = status == "check_pass" || status == "running";
    poll.ended = poll.succeeded || message.rfind("precheck failed", 0) == 0;
    poll.summary = poll.succeeded ? o.label + " passed" : "plan " + plan_id + " not started: " + message;
    return poll;
  });
  return code == exit_code::task_failed ? exit_code::precheck_failed : code;
}

// StartBackupPlan, optionally after the precheck and followed by --wait; prints what happened.
int start_plan(const NodeClient& client, const PlanArgs& a, const std::string& command, const std::string& plan_id,
               bool after_precheck) {
  if (after_precheck) {
    if (const int code = wait_for_precheck(client, command, plan_id); code != exit_code::ok) return code;
  }
  auto started = client.call("StartBackupPlan", {{"BackupPlanId", plan_id}});
  if (!started.ok()) return report_error(command, started.error());
  const std::string set = text(*started, "CreatedFullBackupsetId");
  if (a.client.json()) std::cout << pretty_json(object{{"BackupPlanId", plan_id}, {"CreatedFullBackupsetId", set}});
  else std::cout << "Plan " << plan_id << " is running; full backup " << set << " started\n";
  if (!a.wait || set.empty()) return exit_code::ok;
  WaitOptions o;
  o.command = command;
  o.timeout_ms = static_cast<int64_t>(a.wait_timeout_s * 1000);
  return wait_for_full_backup(client, plan_id, set, o);
}

int run_create(const PlanArgs& a) {
  auto configure = configure_params(a.flags, a.flags.type);
  if (!configure.ok()) return report_error("plan create", configure.error());
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("plan create", client.error());
  auto created = client->call("CreateBackupPlan", {{"BackupMethod", a.flags.method},
                                                   {"DatabaseType", a.flags.type},
                                                   {"InstanceClass", a.flags.instance_class}});
  if (!created.ok()) return report_error("plan create", created.error());
  const std::string id = text(*created, "BackupPlanId");
  configure->insert(configure->begin(), {"BackupPlanId", id});
  if (auto configured = client->call("ConfigureBackupPlan", *configure); !configured.ok()) {
    // A plan that cannot be configured is of no use: take it away so that the command can be re-run.
    (void)client->call("ReleaseBackupPlan", {{"BackupPlanId", id}});
    return report_error("plan create", configured.error());
  }
  if (!a.client.json() || !a.start) {
    if (a.client.json()) std::cout << pretty_json(object{{"BackupPlanId", id}});
    else std::cout << "Created plan " << id << " (" << a.flags.name << "); its precheck runs now"
                   << (a.start ? "" : " — see it with: opendbs plan show " + id + "; start it with: opendbs plan start " + id) << "\n";
  }
  return a.start ? start_plan(*client, a, "plan create", id, true) : exit_code::ok;
}

int run_configure(const PlanArgs& a) {
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("plan configure", client.error());
  auto plan = fetch_plan(*client, a.plan_id);
  if (!plan.ok()) return report_error("plan configure", plan.error());
  auto calls = configure_calls(a.flags, *plan);
  if (!calls.ok()) return report_error("plan configure", calls.error());
  if (calls->empty() && !a.start) {
    std::cerr << "opendbs plan configure: nothing to change (see opendbs plan configure --help)\n";
    return exit_code::usage;
  }
  for (auto& [action, params] : *calls) {
    params.insert(params.begin(), {"BackupPlanId", a.plan_id});
    auto done = client->call(action, params);
    if (!done.ok()) return report_error("plan configure", done.error());
    if (!a.client.json()) std::cout << action << ": done\n";
  }
  if (!a.start || text(*plan, "BackupPlanStatus") == "running") {
    if (a.client.json()) std::cout << pretty_json(object{{"BackupPlanId", a.plan_id}});
    return exit_code::ok;
  }
  return start_plan(*client, a, "plan configure", a.plan_id, true);
}

int run_start(const PlanArgs& a) {
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("plan start", client.error());
  return start_plan(*client, a, "plan start", a.plan_id, false);
}

int run_stop(const PlanArgs& a) {
  if (a.all == a.schedule_only) {
    std::cerr << "opendbs plan stop: say what to stop: --schedule-only (StopMethod PLAN) or --all (StopMethod ALL)\n";
    return exit_code::usage;
  }
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("plan stop", client.error());
  auto stopped = client->call("StopBackupPlan", {{"BackupPlanId", a.plan_id}, {"StopMethod", a.all ? "ALL" : "PLAN"}});
  if (!stopped.ok()) return report_error("plan stop", stopped.error());
  if (a.client.json()) std::cout << pretty_json(object{{"BackupPlanId", a.plan_id}, {"StopMethod", a.all ? "ALL" : "PLAN"}});
  else if (a.all) std::cout << "Plan " << a.plan_id << " paused; its running backups, log backup and restores are being cancelled\n";
  else std::cout << "Plan " << a.plan_id << " paused: no scheduled backups; running tasks go on\n";
  return exit_code::ok;
}

int run_release(const PlanArgs& a) {
  if (!a.yes && isatty(STDIN_FILENO)) {
    std::cerr << "Release plan " << a.plan_id << "? Its backups, log backup and restores stop and it disappears. [y/N] ";
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      std::cerr << "not released\n";
      return exit_code::usage;
    }
  }
  auto client = NodeClient::connect(a.client.config);
  if (!client.ok()) return report_error("plan release", client.error());
  auto released = client->call("ReleaseBackupPlan", {{"BackupPlanId", a.plan_id}});
  if (!released.ok()) return report_error("plan release", released.error());
  if (a.client.json()) std::cout << pretty_json(*released);
  else std::cout << "Plan " << a.plan_id << " released\n";
  return exit_code::ok;
}

void add_start_flags(CLI::App* c, PlanArgs& a, const char* start_help) {
  auto* start = start_help ? c->add_flag("--start", a.start, start_help) : nullptr;
  auto* wait = c->add_flag("--wait", a.wait, "Follow the full backup until it ends (progress on stderr)");
  auto* timeout = c->add_option("--wait-timeout", a.wait_timeout_s, "Stop waiting after this many seconds (exit 11)");
  timeout->needs(wait);
  if (start) wait->needs(start);
}

CLI::App* command(CLI::App* plan, const char* name, const char* help, std::shared_ptr<PlanArgs> a, int& exit_code,
                  int (*run)(const PlanArgs&)) {
  auto* c = plan->add_subcommand(name, help);
  add_client_options(c, a->client);
  c->callback([a, run, &exit_code] { exit_code = run(*a); });
  return c;
}

}  // namespace

void add_plan_commands(CLI::App& app, int& exit_code) {
  auto* plan = app.add_subcommand("plan", "Backup plans: create, configure, list, show, start, stop, release");
  plan->require_subcommand(1);

  auto create = std::make_shared<PlanArgs>();
  auto* c = command(plan, "create", "Create and configure a plan (CreateBackupPlan + ConfigureBackupPlan)", create,
                    exit_code, run_create);
  add_plan_flags(c, create->flags, true);
  add_start_flags(c, *create, "Start the plan once its precheck passes (a full backup begins)");

  auto configure = std::make_shared<PlanArgs>();
  auto* cf = command(plan, "configure", "Change a plan: only the settings given change (the Modify* calls)", configure,
                     exit_code, run_configure);
  cf->add_option("PLAN", configure->plan_id, "The backup plan id")->required();
  add_plan_flags(cf, configure->flags, false);
  add_start_flags(cf, *configure, "Start the plan afterwards (once its precheck passes)");

  auto list = std::make_shared<PlanViewArgs>();
  auto* l = plan->add_subcommand("list", "Plans with status, last finished full backup and restorable window");
  add_client_options(l, list->client);
  l->callback([list, &exit_code] { exit_code = run_plan_list(*list); });

  auto show = std::make_shared<PlanViewArgs>();
  auto* sh = plan->add_subcommand("show", "A plan's settings, newest backup sets, log chain and restorable ranges");
  sh->add_option("PLAN", show->plan_id, "The backup plan id")->required();
  add_client_options(sh, show->client);
  sh->callback([show, &exit_code] { exit_code = run_plan_show(*show); });

  auto start = std::make_shared<PlanArgs>();
  auto* st = command(plan, "start", "Start (or resume) a plan: schedule on, a full backup now", start, exit_code, run_start);
  st->add_option("PLAN", start->plan_id, "The backup plan id")->required();
  add_start_flags(st, *start, nullptr);

  auto stop = std::make_shared<PlanArgs>();
  auto* sp = command(plan, "stop",
                     "Pause a plan. Say what stops:\n"
                     "  --schedule-only  (StopMethod PLAN) no more scheduled full backups; a running full backup,\n"
                     "                   the continuous log backup and restores go on.\n"
                     "  --all            (StopMethod ALL) also cancel the plan's running full backups, log backup\n"
                     "                   and restores within seconds; their partial data is discarded.\n"
                     "`opendbs plan start` resumes either.",
                     stop, exit_code, run_stop);
  sp->add_option("PLAN", stop->plan_id, "The backup plan id")->required();
  auto* all = sp->add_flag("--all", stop->all, "StopMethod ALL: pause and cancel everything the plan runs");
  sp->add_flag("--schedule-only", stop->schedule_only, "StopMethod PLAN: pause the schedule; running tasks go on")->excludes(all);

  auto release = std::make_shared<PlanArgs>();
  auto* r = command(plan, "release", "Delete a plan: everything it runs stops, it disappears", release, exit_code, run_release);
  r->add_option("PLAN", release->plan_id, "The backup plan id")->required();
  r->add_flag("-y,--yes", release->yes, "Do not ask (it asks only on a terminal)");
}

}  // namespace opendbs::cli
