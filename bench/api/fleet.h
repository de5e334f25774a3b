// The plans the benchmark runs against: created through the API (setup), or found on a node that
// already has them (discover).
//
// Setup creates `plans` plans (CreateBackupPlan: status "wait"), then takes the first `paused` of
// them through ConfigureBackupPlan, StartBackupPlan and StopBackupPlan PLAN, so that they are real,
// paused plans. Start queues a full backup and Configure a precheck per plan; the node has no engine
// for the plans' DatabaseType, so those tasks fail at once. settle() waits until no task is queued or
// running, so that the measured workloads do not compete with task workers.
#pragma once

#include <string>
#include <vector>

#include "load_driver.h"
#include "report.h"
#include "requests.h"

namespace opendbs::bench {

struct Fleet {
  std::vector<std::string> paused_plan_ids;  // targets of the StopBackupPlan workload
  int64_t visible_plans = 0;                 // what DescribeBackupPlanList pages through
};

struct SetupOptions {
  int plans = 10000;
  int paused = 300;
  int connections = 64;
  int server_pid = 0;  // for the CPU column of the setup table; 0 = unknown
};

// Runs the setup phases; one Summary per phase (their writes are what a writing request costs).
core::Result<std::vector<Summary>> create_fleet(const Endpoint& endpoint, const Signer& signer,
                                                const SetupOptions& options);

// Waits until the node's /metrics shows no queued or running task, for at most timeout_s seconds.
core::Status settle(const Endpoint& endpoint, int timeout_s);

// The paused plans and the number of visible plans, from DescribeBackupPlanList.
core::Result<Fleet> discover(const Endpoint& endpoint, const Signer& signer);

}  // namespace opendbs::bench
