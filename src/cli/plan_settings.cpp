#include "cli/plan_settings.h"

#include <algorithm>

#include "cli/node_client.h"
#include "cli/secret_input.h"
#include "core/errors.h"

namespace opendbs::cli {
namespace {

constexpr const char* kPasswordEnv = "OPENDBS_SOURCE_PASSWORD";

bool source_given(const PlanFlags& f) {
  return !f.host.empty() || f.port != 0 || !f.user.empty() || !f.password.empty() || !f.password_file.empty() ||
         !f.database.empty();
}

// Retention N days with the infrequent-access and archive periods the API demands below it
// (IA < Archive < Retention): the defaults 180 and 365 when they fit, else just under N.
core::Result<api::ParamList> storage_params(int days) {
  if (days < 2 || days > 1825) return core::errors::invalid_parameter("--retention-days", std::to_string(days), "2 to 1825");
  const int archive = std::min(365, days - 1), ia = std::min(180, archive - 1);
  return api::ParamList{{"BackupRetentionPeriod", std::to_string(days)},
                        {"DuplicationArchivePeriod", std::to_string(archive)},
                        {"DuplicationInfrequentAccessPeriod", std::to_string(ia)}};
}

// SourceEndpoint* parameters: `current` (the plan's record, or empty) fills what the flags leave out.
core::Result<api::ParamList> source_params(const PlanFlags& f, const std::string& database_type,
                                           const boost::json::object& current) {
  auto pick = [&](const std::string& flag_value, const char* field) {
    return !flag_value.empty() ? flag_value : text(current, field);
  };
  // SQLite is a file on the node (Agent); every other engine is a server reached by address (Other).
  api::ParamList p = {{"SourceEndpointInstanceType", database_type == "SQLite" ? "Agent" : "Other"}};
  const std::string host = pick(f.host, "SourceEndpointHost");
  const std::string port = f.port ? std::to_string(f.port) : text(current, "SourceEndpointPort");
  const std::string user = pick(f.user, "SourceEndpointUserName");
  const std::string database = pick(f.database, "SourceEndpointDatabaseName");
  if (!host.empty()) p.emplace_back("SourceEndpointIP", host);
  if (!port.empty()) p.emplace_back("SourceEndpointPort", port);
  if (!database.empty()) p.emplace_back("SourceEndpointDatabaseName", database);
  if (!user.empty()) {
    // The node keeps the password sealed and never returns it: a changed source needs it again.
    OPENDBS_ASSIGN(auto password, read_secret(f.password, f.password_file, kPasswordEnv, "--password"));
    p.emplace_back("SourceEndpointUserName", user);
    p.emplace_back("SourceEndpointPassword", password);
  }
  return p;
}

}  // namespace

void add_plan_flags(CLI::App* c, PlanFlags& f, bool creating) {
  auto* name = c->add_option("--name", f.name, "Name of the plan");
  if (creating) {
    name->required();
    c->add_option("--type", f.type, "Database type")
        ->required()
        ->check(CLI::IsMember({"MySQL", "MariaDB", "PostgreSQL", "SQLite", "MSSQL", "Oracle", "MongoDB", "Redis", "PPAS", "DRDS"}));
    c->add_option("--method", f.method, "physical (files: base backup, log) or logical (dumps)")
        ->required()
        ->check(CLI::IsMember({"physical", "logical"}));
    c->add_option("--class", f.instance_class, "InstanceClass (recorded; default small)")
        ->check(CLI::IsMember({"micro", "small", "medium", "large", "xlarge"}));
  }
  c->add_option("--host", f.host, "Source host name or IP");
  c->add_option("--port", f.port, "Source port")->check(CLI::Range(1, 65535));
  c->add_option("--user", f.user, "Source user");
  c->add_option("--password", f.password, "Source password (or --password-file, or " + std::string(kPasswordEnv) + ")");
  c->add_option("--password-file", f.password_file, "Read the source password from this file's first line");
  c->add_option("--database", f.database, "Source database (PostgreSQL: the one to connect to; SQLite: the file)");
  auto* manual = c->add_flag("--manual", f.manual, "Full backups only on request (plan start)");
  c->add_option("--schedule", f.schedule, "Full backups on weekdays at a UTC time: \"Monday,Thursday@01:00\" or \"daily@01:00\"")
      ->excludes(manual);
  c->add_option("--retention-days", f.retention_days, "Keep full backup sets this many days (2-1825; default 730)");
  auto* log = c->add_flag("--log", f.log, "Back up the log continuously (point-in-time restore)");
  if (!creating) c->add_flag("--no-log", f.no_log, "Stop backing up the log")->excludes(log);
}

core::Result<std::pair<std::string, std::string>> parse_schedule(const std::string& text) {
  const auto at = text.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == text.size())
    return core::errors::invalid_parameter("--schedule", text, "DAYS@HH:MM in UTC, e.g. Monday,Thursday@01:00 or daily@01:00");
  std::string days = text.substr(0, at);
  if (days == "daily") days = "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday";
  return std::make_pair(days, text.substr(at + 1));
}

core::Result<api::ParamList> configure_params(const PlanFlags& f, const std::string& database_type) {
  api::ParamList p = {{"BackupPlanName", f.name}};
  OPENDBS_ASSIGN(auto source, source_params(f, database_type, {}));
  p.insert(p.end(), source.begin(), source.end());
  if (f.log || f.no_log) p.emplace_back("EnableBackupLog", f.log ? "true" : "false");
  if (!f.schedule.empty()) {
    OPENDBS_ASSIGN(auto schedule, parse_schedule(f.schedule));
    p.insert(p.end(), {{"BackupStrategyType", "simple"}, {"BackupPeriod", schedule.first}, {"BackupStartTime", schedule.second}});
  } else {
    p.emplace_back("BackupStrategyType", "manual");
  }
  if (f.retention_days) {
    OPENDBS_ASSIGN(auto storage, storage_params(f.retention_days));
    p.insert(p.end(), storage.begin(), storage.end());
  }
  return p;
}

core::Result<std::vector<std::pair<std::string, api::ParamList>>> configure_calls(const PlanFlags& f,
                                                                                  const boost::json::object& plan) {
  std::vector<std::pair<std::string, api::ParamList>> calls;
  if (text(plan, "BackupPlanStatus") == "wait") {  // created but never configured: one ConfigureBackupPlan
    PlanFlags full = f;
    if (full.name.empty()) full.name = text(plan, "BackupPlanName");
    OPENDBS_ASSIGN(auto params, configure_params(full, text(plan, "DatabaseType")));
    calls.emplace_back("ConfigureBackupPlan", std::move(params));
    return calls;
  }
  if (!f.name.empty()) calls.push_back({"ModifyBackupPlanName", {{"BackupPlanName", f.name}}});
  if (source_given(f)) {
    OPENDBS_ASSIGN(auto params, source_params(f, text(plan, "DatabaseType"), plan));
    calls.emplace_back("ModifyBackupSourceEndpoint", std::move(params));
  }
  if (!f.schedule.empty()) {
    OPENDBS_ASSIGN(auto schedule, parse_schedule(f.schedule));
    calls.push_back({"ModifyBackupStrategy",
                     {{"BackupStrategyType", "simple"}, {"BackupPeriod", schedule.first}, {"BackupStartTime", schedule.second}}});
  } else if (f.manual) {
    // The API requires a BackupPeriod even for a manual plan, where it is not used.
    const std::string period = text(plan, "BackupPeriod").empty() ? "Monday" : text(plan, "BackupPeriod");
    calls.push_back({"ModifyBackupStrategy", {{"BackupStrategyType", "manual"}, {"BackupPeriod", period}}});
  }
  if (f.retention_days) {
    OPENDBS_ASSIGN(auto storage, storage_params(f.retention_days));
    calls.emplace_back("ModifyStorageStrategy", std::move(storage));
  }
  if (f.log) calls.push_back({"EnableBackupLog", {}});
  if (f.no_log) calls.push_back({"DisableBackupLog", {}});
  return calls;
}

}  // namespace opendbs::cli
