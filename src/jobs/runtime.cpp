#include "jobs/runtime.h"

#include <boost/json.hpp>

#include "core/errors.h"
#include "core/log.h"
#include "jobs/download_runner.h"
#include "jobs/local_task.h"
#include "jobs/notifier.h"
#include "jobs/plan_spec.h"
#include "jobs/retention.h"
#include "jobs/schedule.h"
#include "jobs/slot_release.h"
#include "jobs/task_runners.h"

namespace opendbs::jobs {
namespace {

using catalog::Kind;
using catalog::Record;

constexpr int64_t kClientTokenLifetimeMs = 24LL * 3600 * 1000;

// The outcome could not be recorded together with the records the task closes (one of them unreadable,
// say): the task record alone still ends, saying why, so that the task is not leased and run again at
// every lease expiry. What it could not close stays as it was.
core::Status end_task_alone(catalog::Store& store, const std::string& task_id, const char* state,
                            const TaskResult& result, const std::string& why, int64_t now_ms) {
  return store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto rec, tx.get(Kind::task, task_id));
    if (!rec) return {};
    rec->state = state;
    rec->doc["ErrCode"] = result.err_code;
    rec->doc["ErrMessage"] =
        result.err_message + (result.err_message.empty() ? "" : "; ") + "the outcome could not be recorded: " + why;
    rec->doc.erase("_LeaseOwner");
    rec->doc.erase("_LeaseExpiresMs");
    rec->doc["FinishTime"] = now_ms;
    return tx.put(Kind::task, *rec);
  });
}

}  // namespace

TaskRuntime::TaskRuntime(catalog::Store& store, iam::SecretBox& secrets, repo::Repository& repository,
                         const engines::EngineRegistry& engines, const core::Clock& clock, RuntimeOptions options)
    : store_(store), secrets_(secrets), repository_(repository), engines_(engines), clock_(clock),
      options_(std::move(options)) {}

TaskRuntime::~TaskRuntime() { stop(); }

void TaskRuntime::start() {
  (void)beat_heartbeat();
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { worker_loop(i); });
  threads_.emplace_back([this] { keeper_loop(); });
  threads_.emplace_back([this] { scheduler_loop(); });
}

void TaskRuntime::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    for (auto& [id, task] : running_) task->shut_down();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::vector<LongRunning> long_running;
  {
    std::lock_guard lock(mu_);
    long_running.swap(long_running_);
  }
  for (auto& t : long_running) t.thread.join();
  (void)beat_heartbeat();  // records the node as stopped
}

// Joins the threads of log backups that have ended (their stacks are freed only when joined).
void TaskRuntime::reap_long_running() {
  for (auto it = long_running_.begin(); it != long_running_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = long_running_.erase(it);
    } else {
      ++it;
    }
  }
}

void TaskRuntime::wake() {
  {
    std::lock_guard lock(mu_);
    work_hint_ = true;
  }
  cv_.notify_all();
}

void TaskRuntime::downloads_revoked() {
  auto st = expire_downloads(store_, downloads_, clock_.now_ms());
  if (!st.ok()) core::log_event(core::LogLevel::warn, "download_expiry_failed", {{"Message", st.error().message}});
}

void TaskRuntime::cancel_now(const std::vector<std::string>& task_ids, const std::string& by_request_id) {
  std::lock_guard lock(mu_);
  for (const auto& id : task_ids) {
    auto it = running_.find(id);
    if (it != running_.end()) it->second->cancel(by_request_id);
  }
}

void TaskRuntime::worker_loop(int) {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    auto claimed = store_.claim_next_task(options_.node_id, clock_.now_ms(), options_.lease_ms);
    if (claimed.ok() && claimed->has_value()) {
      // A log backup runs until it is stopped: it gets a thread of its own so that it never holds one
      // of the workers that full backups, restores and prechecks need.
      // So does the release of a log backup's slot, which retries until the source can be reached.
      const auto claimed_kind = (*claimed)->doc.at("TaskKind").as_string();
      if (claimed_kind == task_kind::log_backup || claimed_kind == task_kind::release_log) {
        std::lock_guard lock(mu_);
        reap_long_running();
        auto done = std::make_shared<std::atomic<bool>>(false);
        long_running_.push_back({std::thread([this, done, task = std::move(**claimed)]() mutable {
                                   run_task(std::move(task));
                                   done->store(true);
                                 }),
                                 done});
        continue;
      }
      run_task(std::move(**claimed));
      continue;
    }
    if (!claimed.ok()) core::log_event(core::LogLevel::error, "task_claim_failed", {{"Message", claimed.error().message}});
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.heartbeat_ms), [this] { return stopping_ || work_hint_; });
    work_hint_ = false;
  }
}

void TaskRuntime::run_task(Record task) {
  const std::string kind(task.doc.at("TaskKind").as_string());
  auto local = std::make_shared<LocalTask>(task.id, kind, task.parent_id);
  const auto started = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    running_[task.id] = local;
    if (stopping_) local->shut_down();
  }
  // A cancel that arrived between the claim and now must not be lost.
  if (task.doc.contains("_CancelRequestedBy")) local->cancel(std::string(task.doc.at("_CancelRequestedBy").as_string()));
  core::log_event(core::LogLevel::info, "task", {{"TaskId", task.id}, {"Kind", kind}, {"Plan", task.parent_id},
                                                  {"State", "running"}, {"Attempt", task.doc.at("Attempts")}});
  TaskEnv env{store_, secrets_, repository_, engines_, clock_, downloads_.links ? &downloads_ : nullptr,
              options_.log_fetch, options_.restore_root};
  TaskResult result;
  try {
    if (kind == task_kind::precheck) result = run_precheck(env, task, *local);
    else if (kind == task_kind::full_backup) result = run_full_backup(env, task, *local);
    else if (kind == task_kind::log_backup) result = run_log_backup(env, task, *local);
    else if (kind == task_kind::restore) result = run_restore(env, task, *local);
    else if (kind == task_kind::release_log) result = run_release_log(env, task, *local);
    else if (kind == task_kind::download) result = run_download(env, task, *local);
    else result = {Outcome::failed, "EngineUnavailable", "task kind " + kind + " is not supported by this node yet"};
  } catch (const std::exception& e) {
    result = {Outcome::failed, "InternalError", std::string("task failed unexpectedly: ") + e.what()};
  }
  const char* state = result.outcome == Outcome::succeeded ? "succeeded"
                      : result.outcome == Outcome::failed  ? "failed"
                      : result.outcome == Outcome::cancelled ? "cancelled"
                                                              : "queued";
  auto st = store_.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto rec, tx.get(Kind::task, task.id));
    if (!rec) return {};
    rec->state = state;
    rec->doc["Progress"] = result.outcome == Outcome::succeeded ? 100 : local->percent();
    rec->doc["ErrCode"] = result.err_code;
    rec->doc["ErrMessage"] = result.err_message;
    // Whatever the runner did or did not record (an exception cuts it short), a task that ended without
    // success leaves no set, restore or download looking as if it were still running.
    if (result.outcome == Outcome::failed || result.outcome == Outcome::cancelled)
      OPENDBS_TRY(close_task_record(tx, *rec, result.outcome == Outcome::failed ? "failed" : "stop",
                                    result.err_message, clock_.now_ms()));
    rec->doc.erase("_LeaseOwner");
    rec->doc.erase("_LeaseExpiresMs");
    if (result.outcome != Outcome::requeue) rec->doc["FinishTime"] = clock_.now_ms();
    if (result.outcome == Outcome::cancelled && rec->doc.contains("_CancelRequestedBy"))
      rec->doc["ErrMessage"] = "stopped by request " + std::string(rec->doc.at("_CancelRequestedBy").as_string());
    return tx.put(Kind::task, *rec);
  });
  if (!st.ok() && (result.outcome == Outcome::failed || result.outcome == Outcome::cancelled)) {
    const auto alone = end_task_alone(store_, task.id, state, result, st.error().message, clock_.now_ms());
    if (!alone.ok()) st = alone.error();
  }
  core::log_event(result.outcome == Outcome::failed ? core::LogLevel::warn : core::LogLevel::info, "task",
                  {{"TaskId", task.id}, {"Kind", kind}, {"Plan", task.parent_id}, {"State", state},
                   {"Code", result.err_code}, {"Message", result.err_message},
                   {"Recorded", st.ok() ? "" : st.error().message}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (task_observer_) task_observer_(kind, state, seconds, local->take_uncounted_bytes());
  if (notifier_ && result.outcome == Outcome::failed)
    notifier_->notify("task.failed", {{"TaskId", task.id}, {"TaskKind", kind}, {"BackupPlanId", task.parent_id},
                                      {"ErrCode", result.err_code}, {"ErrMessage", result.err_message}});
  if (notifier_ && result.outcome == Outcome::succeeded)
    notifier_->notify("task.succeeded", {{"TaskId", task.id}, {"TaskKind", kind}, {"BackupPlanId", task.parent_id},
                                         {"Seconds", seconds}, {"Bytes", local->bytes()}});
  std::lock_guard lock(mu_);
  running_.erase(task.id);
}

std::vector<RunningTaskInfo> TaskRuntime::running_tasks() {
  std::lock_guard lock(mu_);
  std::vector<RunningTaskInfo> out;
  for (const auto& [id, t] : running_)
    out.push_back({id, t->kind, t->plan_id, t->percent(), t->bytes(), t->lag_bytes(), t->lag_seconds()});
  return out;
}

std::map<std::string, uint64_t> TaskRuntime::take_running_task_bytes() {
  std::lock_guard lock(mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [id, t] : running_) out[t->kind] += t->take_uncounted_bytes();
  return out;
}

// One log_backup.lag alert when a log backup falls behind the threshold, and none again until it caught up.
void TaskRuntime::alert_on_lag() {
  if (!notifier_) return;
  for (const auto& t : running_tasks()) {
    if (t.kind != task_kind::log_backup) continue;
    bool newly_lagging = false;
    {
      std::lock_guard lock(mu_);
      if (t.lag_seconds > options_.lag_alert_seconds) newly_lagging = lagging_.insert(t.plan_id).second;
      else lagging_.erase(t.plan_id);
    }
    if (newly_lagging)
      notifier_->notify("log_backup.lag", {{"BackupPlanId", t.plan_id}, {"TaskId", t.task_id},
                                           {"LagSeconds", t.lag_seconds}, {"LagBytes", t.lag_bytes},
                                           {"ThresholdSeconds", options_.lag_alert_seconds}});
  }
}

// A plan is stale when its newest finished full backup (or its start) is older than the moment its
// schedule wanted the next one plus the lease: one plan.stale alert until a backup succeeds again.
core::Status TaskRuntime::alert_on_stale_plans(catalog::Tx& tx, const std::vector<Record>& running_plans, int64_t now) {
  if (!notifier_) return {};
  for (const auto& plan : running_plans) {
    if (plan.doc.at("BackupStrategyType").as_string() != "simple") continue;
    catalog::Query q{Kind::backup_set};
    q.parent_id = plan.id;
    q.states = {"finish"};
    q.limit = 1;
    OPENDBS_ASSIGN(auto newest, tx.list(q));
    const int64_t last = !newest.empty()                      ? newest.front().doc.at("EndTime").as_int64()
                         : plan.doc.contains("_StartedAtMs") ? plan.doc.at("_StartedAtMs").as_int64()
                                                              : now;
    auto due = next_run_after(std::string(plan.doc.at("BackupPeriod").as_string()),
                              std::string(plan.doc.at("BackupStartTime").as_string()), last);
    const bool stale = due && now > *due + options_.lease_ms;
    bool newly_stale = false;
    {
      std::lock_guard lock(mu_);
      if (stale) newly_stale = stale_.insert(plan.id).second;
      else stale_.erase(plan.id);
    }
    if (newly_stale)
      notifier_->notify("plan.stale", {{"BackupPlanId", plan.id}, {"LastFullBackupTime", last}, {"DueTime", *due}});
  }
  return {};
}

void TaskRuntime::keeper_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto st = keep_leases();
    if (!st.ok()) core::log_event(core::LogLevel::warn, "lease_renewal_failed", {{"Message", st.error().message}});
    (void)beat_heartbeat();
    alert_on_lag();
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.heartbeat_ms), [this] { return stopping_; });
  }
}

// Renews the leases of this node's running tasks, records their progress, and cancels those whose
// record asks for it (StopBackupPlan ALL from any node) or that another node has taken over.
core::Status TaskRuntime::keep_leases() {
  std::vector<std::shared_ptr<LocalTask>> tasks;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, t] : running_) tasks.push_back(t);
  }
  if (tasks.empty()) return {};
  const int64_t now = clock_.now_ms();
  return store_.transact([&](catalog::Tx& tx) -> core::Status {
    for (auto& t : tasks) {
      OPENDBS_ASSIGN(auto rec, tx.get(Kind::task, t->id));
      if (!rec || rec->state != "running") continue;
      if (rec->doc.contains("_CancelRequestedBy"))
        t->cancel(std::string(rec->doc.at("_CancelRequestedBy").as_string()));
      if (rec->doc.contains("_LeaseOwner") && rec->doc.at("_LeaseOwner").as_string() != options_.node_id) {
        t->cancel("lease lost to " + std::string(rec->doc.at("_LeaseOwner").as_string()));
        continue;
      }
      rec->doc["_LeaseExpiresMs"] = now + options_.lease_ms;
      rec->doc["Progress"] = t->percent();
      rec->doc["BytesDone"] = static_cast<int64_t>(t->bytes());
      OPENDBS_TRY(tx.put(Kind::task, *rec));
      if (rec->doc.at("TaskKind").as_string() == task_kind::full_backup) {
        OPENDBS_ASSIGN(auto set, tx.get(Kind::backup_set, t->id));
        if (set && set->state == "running") {
          set->doc["Progress"] = t->percent();
          set->doc["BackupDataSize"] = static_cast<int64_t>(t->bytes());
          OPENDBS_TRY(tx.put(Kind::backup_set, *set));
        }
      }
      if (rec->doc.at("TaskKind").as_string() == task_kind::restore) {
        OPENDBS_ASSIGN(auto restore, tx.get(Kind::restore_task, t->id));
        if (restore && restore->state == "running") {
          restore->doc["FullDataRestoreProgress"] = t->percent();
          OPENDBS_TRY(tx.put(Kind::restore_task, *restore));
        }
      }
    }
    return {};
  });
}

core::Status TaskRuntime::beat_heartbeat() {
  const int64_t now = clock_.now_ms();
  return store_.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto node, tx.get(Kind::node, options_.node_id));
    Record r = node ? *node : Record{options_.node_id, "", "", "online", now, {}};
    if (!node) {
      r.doc["BackupGatewayId"] = options_.node_id;
      r.doc["BackupGatewayCreateTime"] = now;
    }
    r.state = stopping_ ? "stopped" : "online";
    r.doc["Identifier"] = options_.node_identifier;
    r.doc["DisplayName"] = options_.node_identifier;
    r.doc["Region"] = options_.region;
    r.doc["SourceEndpointHostname"] = options_.node_identifier;
    r.doc["SourceEndpointIntranetIP"] = "";
    r.doc["SourceEndpointInternetIP"] = "";
    r.doc["LastHeartbeatTime"] = now;
    return tx.put(Kind::node, r);
  });
}

void TaskRuntime::scheduler_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto st = schedule_once();
    if (!st.ok()) core::log_event(core::LogLevel::warn, "scheduler_failed", {{"Message", st.error().message}});
    st = expire_downloads(store_, downloads_, clock_.now_ms());
    if (!st.ok()) core::log_event(core::LogLevel::warn, "download_expiry_failed", {{"Message", st.error().message}});
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.scheduler_interval_ms), [this] { return stopping_; });
  }
}

// Forgets the repository sets of expired log files: each file's set and its partial copies (an
// UNCOMPLETED file may have only those).
void TaskRuntime::forget_log_sets(const std::vector<std::pair<std::string, std::string>>& files) {
  if (files.empty()) return;
  auto stored = repository_.list_sets();
  if (!stored.ok()) {
    core::log_event(core::LogLevel::warn, "retention_list_failed", {{"Message", stored.error().message}});
    return;
  }
  for (const auto& [plan_id, name] : files) {
    const std::string whole = engines::log_set_id(plan_id, name), partial = engines::log_partial_prefix(plan_id, name);
    int forgotten = 0;
    for (const auto& id : *stored)
      if ((id == whole || id.starts_with(partial)) && repository_.forget_set(id).ok()) ++forgotten;
    core::log_event(core::LogLevel::info, "retention",
                    {{"Plan", plan_id}, {"LogFile", name}, {"SetsForgotten", forgotten}});
  }
}

// Queues scheduled full backups that are due (once, however many runs were missed while the node was
// down), keeps a log backup task for every running plan that wants one, and expires old sets and log
// files (jobs/retention.h).
core::Status TaskRuntime::schedule_once() {
  const int64_t now = clock_.now_ms();
  bool queued = false;
  std::vector<std::string> expired;
  std::vector<std::pair<std::string, std::string>> expired_logs;  // (log chain id, file name)
  OPENDBS_TRY(store_.transact([&](catalog::Tx& tx) -> core::Status {
    catalog::Query running{Kind::plan};
    running.states = {"running"};
    OPENDBS_ASSIGN(auto plans, tx.list(running));
    OPENDBS_TRY(alert_on_stale_plans(tx, plans, now));
    for (auto& plan : plans) {
      OPENDBS_TRY(ensure_log_backup(tx, plan, now));
      if (plan.doc.at("BackupStrategyType").as_string() != "simple") continue;
      const int64_t base = plan.doc.contains("_LastScheduledRunMs") ? plan.doc.at("_LastScheduledRunMs").as_int64()
                           : plan.doc.contains("_StartedAtMs")       ? plan.doc.at("_StartedAtMs").as_int64()
                                                                     : now;
      auto due = next_run_after(std::string(plan.doc.at("BackupPeriod").as_string()),
                                std::string(plan.doc.at("BackupStartTime").as_string()), base);
      if (!due || *due > now) continue;
      OPENDBS_TRY(queue_full_backup(tx, plan, now, "schedule").ok() ? core::Status() : core::Status(core::errors::internal("queue failed")));
      plan.doc["_LastScheduledRunMs"] = now;
      OPENDBS_TRY(tx.put(Kind::plan, plan));
      queued = true;
    }
    OPENDBS_ASSIGN(auto due, expire_due(tx, now));
    expired = std::move(due.sets);
    expired_logs = std::move(due.logs);
    catalog::Query tokens{Kind::client_token};
    tokens.sort_to_ms = now - kClientTokenLifetimeMs;
    OPENDBS_ASSIGN(auto old_tokens, tx.list(tokens));
    for (const auto& t : old_tokens) OPENDBS_TRY(tx.remove(Kind::client_token, t.id));
    return {};
  }));
  for (const auto& id : expired) {
    auto st = repository_.forget_set(id);
    core::log_event(core::LogLevel::info, "retention", {{"BackupSetId", id}, {"Forgotten", st.ok()}});
  }
  forget_log_sets(expired_logs);
  if ((!expired.empty() || !expired_logs.empty()) && sets_forgotten_) sets_forgotten_();
  if (queued) wake();
  return {};
}

}  // namespace opendbs::jobs
