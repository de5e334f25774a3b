// The read-only plan commands: `plan list` (one row per plan with its last finished backup and its
// restorable window) and `plan show ID` (details, backup sets, log chain, restorable ranges).
#pragma once

#include <boost/json/object.hpp>

#include "cli/node_client.h"

namespace opendbs::cli {

struct PlanViewArgs {
  ClientOptions client;
  std::string plan_id;
};

int run_plan_list(const PlanViewArgs& args);
int run_plan_show(const PlanViewArgs& args);

// The plan's record as DescribeBackupPlanList answers it (with the restorable window).
core::Result<boost::json::object> fetch_plan(const NodeClient& client, const std::string& plan_id);

}  // namespace opendbs::cli
