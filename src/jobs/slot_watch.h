// SlotWatch — notices when the log a source keeps for a plan's log backup grows dangerous.
//
// A PostgreSQL plan with log backup owns a replication slot, and the source keeps every byte of WAL
// the slot has not confirmed: while the log backup does not run (plan paused, node down, stream
// failing) the source's disk fills, or with max_slot_wal_keep_size the source drops WAL and the chain
// gets a gap. Every interval, for each plan with EnableBackupLog, SlotWatch asks the plan's engine
// (Engine::log_retention) and, when the retained log reaches the bound (or the source may write less
// than the bound before it drops log — for a running log backup: and it has fallen behind by at least
// that much —, or has dropped it), puts a warning into the plan's ErrMessage
// (DescribeBackupPlanList), raises one log_backup.retention webhook per episode, and shows the bytes
// as a metric. The warning goes once the log is back under the bound (a running log backup drains it).
//
// It also lists the releases of slots that failed and are retried (slot_release.h), the plan possibly
// gone, and announces each once (log line, log_backup.release_pending webhook).
//
// It only reads the catalog and writes the plans' ErrMessage; whatever else ErrMessage says (a failed
// backup) is kept, with the warning after it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalog/store.h"
#include "engines/engine.h"
#include "iam/secret_box.h"

namespace opendbs::jobs {

class Notifier;

// A release of a log backup's hold on a source (slot_release.h) that has failed and is being retried;
// the plan may be gone already (ReleaseBackupPlan).
struct PendingRelease {
  std::string plan_id, task_id, source, error;
  int64_t attempts = 0;
};

struct SlotWatchOptions {
  uint64_t warn_bytes = 1ULL << 30;  // retained log at which the plan is warned about
  int64_t interval_ms = 60000;
};

class SlotWatch {
 public:
  SlotWatch(catalog::Store& store, const iam::SecretBox& secrets, const engines::EngineRegistry& engines,
            SlotWatchOptions options);
  ~SlotWatch();

  void set_notifier(Notifier* notifier) { notifier_ = notifier; }
  void start();  // a thread that checks now and then every interval
  void stop();

  // One pass over the plans (also called by tests).
  core::Status check_once();

  // Retained log bytes per plan whose source keeps log for it, at the last pass; plans no longer
  // watched (or whose slot is gone) read 0.
  std::map<std::string, uint64_t> retained_bytes();
  // Releases that failed at least once and are retried, at the last pass (for /metrics). Each one
  // raises one log_backup.release_pending webhook, at the first pass that finds it.
  std::vector<PendingRelease> pending_releases();

 private:
  struct Finding {
    catalog::Record plan;
    engines::LogRetention retention;
    bool log_backup_running = false;
  };
  core::Status read_plans(std::vector<Finding>& watched, std::vector<std::string>& to_clear,
                          std::vector<PendingRelease>& pending);
  std::string warning_for(const Finding& f) const;
  core::Status record(const std::string& plan_id, const std::string& warning);
  void announce(const Finding& f, const std::string& warning);
  void announce_releases(const std::vector<PendingRelease>& pending);

  catalog::Store& store_;
  const iam::SecretBox& secrets_;
  const engines::EngineRegistry& engines_;
  SlotWatchOptions options_;
  Notifier* notifier_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::map<std::string, uint64_t> retained_;  // guarded by mu_
  std::set<std::string> warned_;              // plans in a warning episode; guarded by mu_
  std::vector<PendingRelease> pending_;       // guarded by mu_
  std::set<std::string> announced_releases_;  // release task ids; guarded by mu_
};

}  // namespace opendbs::jobs
