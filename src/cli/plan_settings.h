// The settings flags of `plan create` and `plan configure` and the DBS calls they become:
// ConfigureBackupPlan for a new plan, the Modify* family (only what changed) for an existing one.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <utility>
#include <vector>

#include "api/percent_encoding.h"
#include "core/result.h"

namespace opendbs::cli {

struct PlanFlags {
  std::string name, type, method, instance_class = "small";
  std::string host, user, password, password_file, database;
  int port = 0;
  std::string schedule;  // "Monday,Thursday@01:00" (UTC) or "daily@01:00"
  bool manual = false;
  int retention_days = 0;  // 0 = unchanged
  bool log = false, no_log = false;
};

// `creating`: --name, --type and --method are required and --type/--method are offered.
void add_plan_flags(CLI::App* command, PlanFlags& flags, bool creating);

// ConfigureBackupPlan parameters (without BackupPlanId) for a plan of `database_type`.
core::Result<api::ParamList> configure_params(const PlanFlags& flags, const std::string& database_type);

// The calls that apply `flags` to the existing `plan` (a DescribeBackupPlanList item), each without
// BackupPlanId; empty when no flag asks for a change.
core::Result<std::vector<std::pair<std::string, api::ParamList>>> configure_calls(const PlanFlags& flags,
                                                                                  const boost::json::object& plan);

// "Monday,Thursday@01:00" → ("Monday,Thursday", "01:00"); "daily@HH:MM" means every day.
core::Result<std::pair<std::string, std::string>> parse_schedule(const std::string& text);

}  // namespace opendbs::cli
