// TaskRuntime — the node's task engine: a pool of workers that lease tasks from the catalog and run
// them with the plan's engine, a keeper that renews leases, notices cancellations and beats the
// node's heartbeat, and the scheduler (full backups on schedule, log backup tasks, retention).
//
// Crash safety: a task is leased for lease_ms and renewed every heartbeat; a node that dies stops
// renewing, and any node takes the task again once the lease expires. A task is never run twice at
// once: claiming happens in one catalog transaction; a run whose lease cannot be renewed (the catalog
// cannot be written) stops itself while half its lease is left, before another node may take it; and
// the node never claims a task it still runs, nor a second log backup of a plan (LocalRuns). On a
// clean shutdown, running tasks are handed back to the queue at once; stop() waits for them a
// bounded time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <set>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalog/store.h"
#include "core/clock.h"
#include "engines/engine.h"
#include "iam/secret_box.h"
#include "jobs/download_runner.h"
#include "jobs/local_runs.h"
#include "jobs/tasks.h"
#include "repo/repository.h"

namespace opendbs::jobs {

struct RuntimeOptions {
  std::string node_id;          // BackupGatewayId of this node (digits)
  std::string node_identifier;  // host name, for DescribeBackupGatewayList
  std::string region = "cn-hangzhou";
  int workers = 2;
  int64_t lease_ms = 30000;
  int64_t heartbeat_ms = 1000;
  int64_t scheduler_interval_ms = 5000;
  double lag_alert_seconds = 300;  // log_backup.lag webhook when a log backup falls further behind
  // How servers restored by this node fetch their log (engine.h); empty = copied beside the data.
  engines::RestoreRequest::LogFetch log_fetch;
  std::string restore_root;  // restores write only below it; "" = anywhere (restore_root.h)
};

// What /metrics shows about the tasks running on this node.
struct RunningTaskInfo {
  std::string task_id, kind, plan_id;
  int percent = 0;
  uint64_t bytes = 0, lag_bytes = 0;
  double lag_seconds = 0;
};

class Notifier;
struct TaskResult;  // task_runners.h

class TaskRuntime final : public Runtime {
 public:
  TaskRuntime(catalog::Store& store, iam::SecretBox& secrets, repo::Repository& repository,
              const engines::EngineRegistry& engines, const core::Clock& clock, RuntimeOptions options);
  ~TaskRuntime() override;

  void start();
  // Hands running tasks back to the queue, waits up to `wait_for_runs` for their runs to end and joins
  // the threads. A run that does not end in time is logged (task_not_ended) and false returned, with
  // the threads left running: the caller ends the process (their leases expire, and the tasks are
  // claimed again) or calls stop() again to wait for them without bound.
  static constexpr std::chrono::milliseconds kNoBound = std::chrono::milliseconds::max();
  bool stop(std::chrono::milliseconds wait_for_runs = kNoBound);

  void wake() override;
  void cancel_now(const std::vector<std::string>& task_ids, const std::string& by_request_id) override;
  void cancel_plan(const std::string& plan_id, const std::vector<std::string_view>& kinds,
                   const std::string& by_request_id) override;
  void downloads_revoked() override;

  // One scheduler pass (also called by tests with a ManualClock).
  core::Status schedule_once();

  void set_notifier(Notifier* notifier) { notifier_ = notifier; }
  // Where download tasks write their files and what links they record; without it (the default) this
  // node's download tasks fail. Call before start().
  void set_downloads(DownloadSettings settings) { downloads_ = std::move(settings); }
  std::vector<RunningTaskInfo> running_tasks();
  // Called on the scheduler thread after retention forgot expired sets (the node prunes soon after).
  void set_sets_forgotten_hook(std::function<void()> hook) { sets_forgotten_ = std::move(hook); }
  // Per kind, the bytes running tasks processed since the last call (a log backup's as it stores
  // them, which may run for days), for /metrics.
  std::map<std::string, uint64_t> take_running_task_bytes();
  // Called after each task with its kind, outcome ("succeeded", "failed", ...), seconds and the bytes
  // it processed that take_running_task_bytes() did not hand out.
  void set_task_observer(std::function<void(const std::string&, const std::string&, double, uint64_t)> observer) {
    task_observer_ = std::move(observer);
  }

 private:
  void worker_loop(int index);
  void keeper_loop();
  void scheduler_loop();
  std::optional<catalog::Record> claim(std::shared_ptr<LocalTask>& run);
  void run_task(catalog::Record task, std::shared_ptr<LocalTask> local);
  core::Status record_outcome(const catalog::Record& task, const LocalTask& local, const TaskResult& result,
                              const char* state);
  core::Status keep_leases();
  void hand_back_runs_losing_their_lease(const std::string& why);
  core::Status beat_heartbeat();
  void alert_on_lag();
  core::Status alert_on_stale_plans(catalog::Tx& tx, const std::vector<catalog::Record>& running_plans, int64_t now);
  void forget_log_sets(const std::vector<std::pair<std::string, std::string>>& files);

  catalog::Store& store_;
  iam::SecretBox& secrets_;
  repo::Repository& repository_;
  const engines::EngineRegistry& engines_;
  const core::Clock& clock_;
  RuntimeOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false, stopped_ = false;
  bool work_hint_ = false;
  std::mutex claim_mu_;  // a claim and the registration of its run are one step for LocalRuns
  LocalRuns runs_;
  std::vector<std::thread> threads_;
  struct LongRunning {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<LongRunning> long_running_;  // log backups, one thread each; guarded by mu_
  void reap_long_running();
  Notifier* notifier_ = nullptr;
  DownloadSettings downloads_;
  std::function<void(const std::string&, const std::string&, double, uint64_t)> task_observer_;
  std::function<void()> sets_forgotten_;
  std::set<std::string> lagging_, stale_;  // alerted once per episode; guarded by mu_
};

}  // namespace opendbs::jobs
