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

bool TaskRuntime::stop(std::chrono::milliseconds wait_for_runs) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return true;
    stopping_ = true;
  }
  for (auto& run : runs_.all()) run->shut_down();
  cv_.notify_all();
  const auto deadline = wait_for_runs == kNoBound ? std::chrono::steady_clock::time_point::max()
                                                  : std::chrono::steady_clock::now() + wait_for_runs;
  const auto left = runs_.wait_until_ended(deadline);
  for (const auto& run : left)
    core::log_event(core::LogLevel::error, "task_not_ended",
                    {{"TaskId", run->id}, {"Kind", run->kind}, {"Plan", run->plan_id},
                     {"WaitedMs", wait_for_runs.count()},
                     {"effect", "its lease expires and the task is claimed again; the process must end to stop it"}});
  if (!left.empty()) return false;
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::vector<LongRunning> long_running;
  {
    std::lock_guard lock(mu_);
    long_running.swap(long_running_);
    stopped_ = true;
  }
  for (auto& t : long_running) t.thread.join();
  (void)beat_heartbeat();  // records the node as stopped
  return true;
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
  for (const auto& id : task_ids)
    if (auto run = runs_.find(id)) run->cancel(by_request_id);
}

void TaskRuntime::cancel_plan(const std::string& plan_id, const std::vector<std::string_view>& kinds,
                              const std::string& by_request_id) {
  for (auto& run : runs_.of_plan(plan_id, kinds)) run->cancel(by_request_id);
}

void TaskRuntime::worker_loop(int) {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    std::shared_ptr<LocalTask> run;
    if (auto claimed = claim(run)) {
      // A log backup runs until it is stopped: it gets a thread of its own so that it never holds one
      // of the workers that full backups, restores and prechecks need.
      // So does the release of a log backup's slot, which retries until the source can be reached.
      if (run->kind == task_kind::log_backup || run->kind == task_kind::release_log) {
        std::lock_guard lock(mu_);
        reap_long_running();
        auto done = std::make_shared<std::atomic<bool>>(false);
        long_running_.push_back({std::thread([this, done, run, task = std::move(*claimed)]() mutable {
                                   run_task(std::move(task), std::move(run));
                                   done->store(true);
                                 }),
                                 done});
        continue;
      }
      run_task(std::move(*claimed), std::move(run));
      continue;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.heartbeat_ms), [this] { return stopping_ || work_hint_; });
    work_hint_ = false;
  }
}

void TaskRuntime::run_task(Record task, std::shared_ptr<LocalTask> local) {
  const std::string kind = local->kind;
  const auto started = std::chrono::steady_clock::now();
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
  local->mark_ended();
  const auto st = record_outcome(task, *local, result, state);
  core::log_event(result.outcome == Outcome::failed ? core::LogLevel::warn : core::LogLevel::info, "task",
                  {{"TaskId", task.id}, {"Kind", kind}, {"Plan", task.parent_id}, {"State", state},
                   {"Code", result.err_code},
                   {"Message", result.outcome == Outcome::requeue ? "handed back: " + local->handed_back_why()
                                                                  : result.err_message},
                   {"Recorded", st.ok() ? "" : st.error().message}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (task_observer_) task_observer_(kind, state, seconds, local->take_uncounted_bytes());
  if (notifier_ && result.outcome == Outcome::failed)
    notifier_->notify("task.failed", {{"TaskId", task.id}, {"TaskKind", kind}, {"BackupPlanId", task.parent_id},
                                      {"ErrCode", result.err_code}, {"ErrMessage", result.err_message}});
  if (notifier_ && result.outcome == Outcome::succeeded)
    notifier_->notify("task.succeeded", {{"TaskId", task.id}, {"TaskKind", kind}, {"BackupPlanId", task.parent_id},
                                         {"Seconds", seconds}, {"Bytes", local->bytes()}});
  runs_.remove(*local);
}

std::vector<RunningTaskInfo> TaskRuntime::running_tasks() {
  std::vector<RunningTaskInfo> out;
  for (const auto& t : runs_.all())
    out.push_back({t->id, t->kind, t->plan_id, t->percent(), t->bytes(), t->lag_bytes(), t->lag_seconds()});
  return out;
}

std::map<std::string, uint64_t> TaskRuntime::take_running_task_bytes() {
  std::map<std::string, uint64_t> out;
  for (const auto& t : runs_.all()) out[t->kind] += t->take_uncounted_bytes();
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

// Goes on while the node stops, until its runs have ended: a run that takes long to hand its task back
// keeps its lease meanwhile, so that no other node starts the task while it winds down.
void TaskRuntime::keeper_loop() {
  const auto heartbeat = std::chrono::milliseconds(options_.heartbeat_ms);
  for (;;) {
    auto st = keep_leases();
    if (!st.ok()) {
      core::log_event(core::LogLevel::warn, "lease_renewal_failed", {{"Message", st.error().message}});
      hand_back_runs_losing_their_lease(st.error().message);
    }
    (void)beat_heartbeat();
    alert_on_lag();
    std::unique_lock lock(mu_);
    if (!stopping_) {
      cv_.wait_for(lock, heartbeat, [this] { return stopping_; });
      continue;
    }
    lock.unlock();
    if (runs_.wait_until_ended(std::chrono::steady_clock::now() + heartbeat).empty()) return;
  }
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
