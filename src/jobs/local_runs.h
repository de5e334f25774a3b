// LocalRuns — the runs this node has going, whatever the catalog says about their tasks. The catalog's
// lease is how *nodes* keep out of each other's way; this registry is how the node keeps out of its own:
// a task whose lease lapsed while its run went on (the catalog could not be written for longer than
// the lease) is offered again by claim_next_task, and must not start a second run here; and a plan's
// log backup streams once per node, even when the catalog holds a new log backup task for the plan
// while an old run still ends. Stopping (StopBackupPlan ALL, ReleaseBackupPlan, the node's shutdown)
// goes through the registry too, so it reaches every run, also one whose record is no longer its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/store.h"
#include "jobs/local_task.h"

namespace opendbs::jobs {

class LocalRuns {
 public:
  // Whether a run of `task` may start here now: not while the task runs here already, nor a log
  // backup while a log backup of the same plan runs here. The claim passes over it until then.
  bool may_start(const catalog::Record& task) const;

  // Registers a run; its task must be one may_start() allowed (asserted).
  void add(std::shared_ptr<LocalTask> run);
  // Unregisters the run when it has ended and wakes wait_until_ended().
  void remove(const LocalTask& run);

  std::vector<std::shared_ptr<LocalTask>> all() const;
  std::shared_ptr<LocalTask> find(const std::string& task_id) const;
  // The plan's runs of these kinds (all kinds when empty).
  std::vector<std::shared_ptr<LocalTask>> of_plan(const std::string& plan_id,
                                                  const std::vector<std::string_view>& kinds) const;

  // Waits until no run is left, or until `deadline`; returns the runs still going.
  std::vector<std::shared_ptr<LocalTask>> wait_until_ended(std::chrono::steady_clock::time_point deadline);

 private:
  bool runs_log_backup_of(const std::string& plan_id) const;  // mu_ held

  mutable std::mutex mu_;
  std::condition_variable ended_;
  std::map<std::string, std::shared_ptr<LocalTask>> runs_;  // by task id
};

}  // namespace opendbs::jobs
