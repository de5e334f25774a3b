#include "jobs/local_runs.h"

#include <algorithm>
#include <cassert>

#include "jobs/tasks.h"

namespace opendbs::jobs {

bool LocalRuns::runs_log_backup_of(const std::string& plan_id) const {
  return std::any_of(runs_.begin(), runs_.end(), [&](const auto& entry) {
    return entry.second->kind == task_kind::log_backup && entry.second->plan_id == plan_id;
  });
}

bool LocalRuns::may_start(const catalog::Record& task) const {
  std::lock_guard lock(mu_);
  if (runs_.contains(task.id)) return false;
  const auto* kind = task.doc.if_contains("TaskKind");
  const bool log_backup = kind && kind->is_string() && kind->as_string() == task_kind::log_backup;
  return !(log_backup && runs_log_backup_of(task.parent_id));
}

void LocalRuns::add(std::shared_ptr<LocalTask> run) {
  std::lock_guard lock(mu_);
  assert(!runs_.contains(run->id));
  runs_.emplace(run->id, std::move(run));
}

void LocalRuns::remove(const LocalTask& run) {
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run.id);
    if (it != runs_.end() && it->second.get() == &run) runs_.erase(it);
  }
  ended_.notify_all();
}

std::vector<std::shared_ptr<LocalTask>> LocalRuns::all() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<LocalTask>> out;
  for (const auto& [id, run] : runs_) out.push_back(run);
  return out;
}

std::shared_ptr<LocalTask> LocalRuns::find(const std::string& task_id) const {
  std::lock_guard lock(mu_);
  auto it = runs_.find(task_id);
  return it == runs_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<LocalTask>> LocalRuns::of_plan(const std::string& plan_id,
                                                           const std::vector<std::string_view>& kinds) const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<LocalTask>> out;
  for (const auto& [id, run] : runs_)
    if (run->plan_id == plan_id && (kinds.empty() || std::find(kinds.begin(), kinds.end(), run->kind) != kinds.end()))
      out.push_back(run);
  return out;
}

std::vector<std::shared_ptr<LocalTask>> LocalRuns::wait_until_ended(std::chrono::steady_clock::time_point deadline) {
  {
    std::unique_lock lock(mu_);
    ended_.wait_until(lock, deadline, [this] { return runs_.empty(); });
  }
  return all();
}

}  // namespace opendbs::jobs
