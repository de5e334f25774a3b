#include "jobs/slot_release.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/log.h"
#include "jobs/plan_warning.h"
#include "jobs/runner_steps.h"
#include "jobs/tasks.h"

namespace opendbs::jobs {
namespace {

using catalog::Kind;
using catalog::Record;

bool task_unfinished(const std::optional<Record>& t) { return t && (t->state == "queued" || t->state == "running"); }

// A field of the task's payload (nullptr when absent: a task queued by an older version has none).
const boost::json::value* payload_field(const Record& task, const char* name) {
  const auto* payload = task.doc.if_contains("Payload");
  return payload && payload->is_object() ? payload->as_object().if_contains(name) : nullptr;
}

// Waits (up to a minute: a cancelled log backup stops within about a second) for the log backup tasks
// the release was queued after — those in the payload's WaitFor, or with none listed (a task queued
// by an older version) every log backup of the plan. The release itself waits for an active slot too.
core::Status wait_for_log_backup(TaskEnv& env, const Record& task, LocalTask& control) {
  const auto* wait_for = payload_field(task, "WaitFor");
  for (int i = 0; i < 300 && !control.cancelled(); ++i) {
    bool running = false;
    OPENDBS_TRY(env.store.read([&](catalog::Tx& tx) -> core::Status {
      if (!wait_for || !wait_for->is_array()) {
        OPENDBS_ASSIGN(auto tasks, unfinished_tasks(tx, task.parent_id, {task_kind::log_backup}));
        running = !tasks.empty();
        return {};
      }
      for (const auto& id : wait_for->as_array()) {
        if (!id.is_string()) continue;
        OPENDBS_ASSIGN(auto t, tx.get(Kind::task, std::string(id.as_string())));
        running = running || task_unfinished(t);
      }
      return {};
    }));
    if (!running) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return {};
}

// The plan as the release sees its source: the endpoint recorded when the release was queued (a task
// queued by an older version records none and takes the plan's).
Record release_target(const Record& plan, const Record& task) {
  Record target = plan;
  const auto* source = payload_field(task, "Source");
  if (source && source->is_object() && !source->as_object().empty())
    for (const auto& [k, v] : source->as_object()) target.doc[k] = v;
  return target;
}

// Records a failed attempt (or, with attempt 0, the end of the episode) on the task and the plan.
void record_attempt(TaskEnv& env, const Record& task, const std::string& source, int attempt,
                    const core::Error& error, int64_t next_ms) {
  const std::string warning =
      attempt == 0 ? "" : "the log backup's hold on source " + source + " could not be released (attempt " +
                              std::to_string(attempt) + ", retrying): " + error.message +
                              "; until it is, the source keeps its WAL for this plan";
  (void)env.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto rec, tx.get(Kind::task, task.id));
    if (rec && attempt > 0) {
      rec->doc["ErrCode"] = error.code;
      rec->doc["ErrMessage"] = error.message;
      rec->doc["ReleaseAttempts"] = attempt;
      rec->doc["NextAttemptTime"] = next_ms;
      rec->doc["ReleaseSource"] = source;
      OPENDBS_TRY(tx.put(Kind::task, *rec));
    }
    OPENDBS_ASSIGN(auto plan, tx.get(Kind::plan, task.parent_id));
    if (!plan || plan->state == "released") return {};
    const std::string field = release_warning_field(task.id);
    if (attempt == 0 && plan_warning(*plan, field.c_str()).empty()) return {};
    set_plan_warning(*plan, field.c_str(), warning);
    if (attempt == 0) plan->doc.erase(field);
    return tx.put(Kind::plan, *plan);
  });
}

// Sleeps `ms` unless the task is cancelled or the node stops meanwhile.
void pause(const LocalTask& control, int64_t ms) {
  for (int64_t slept = 0; slept < ms && !control.cancelled(); slept += 100)
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(100, ms - slept)));
}

}  // namespace

std::string release_warning_field(const std::string& task_id) { return "_LogReleaseWarning-" + task_id; }

TaskResult run_release_log(TaskEnv& env, const Record& task, LocalTask& control, const ReleaseBackoff& backoff) {
  if (auto st = wait_for_log_backup(env, task, control); !st.ok()) return failed(st.error());
  int64_t wait_ms = backoff.first_ms;
  const auto* before = task.doc.if_contains("ReleaseAttempts");  // attempts of an earlier run (a node restart)
  for (int attempt = before && before->is_int64() ? static_cast<int>(before->as_int64()) + 1 : 1;; ++attempt) {
    if (control.cancelled()) return stopped(control);
    auto plan = load(env, Kind::plan, task.parent_id);
    if (!plan.ok()) return failed(plan.error());
    const Record target = release_target(*plan, task);
    const std::string source = text(target.doc, "SourceEndpointIpPort");
    // EnableBackupLog again on the same source (and generation): the new log backup needs what this
    // would release (a slot dropped under a reconnecting stream would leave a gap in the chain).
    const auto* wants = plan->doc.if_contains("EnableBackupLog");
    if (plan->state != "released" && wants && wants->is_bool() && wants->as_bool() &&
        !source_server_changed(target, *plan) && source_epoch(target.doc) == source_epoch(plan->doc)) {
      core::log_event(core::LogLevel::info, "release_log_skipped",
                      {{"plan", plan->id}, {"source", source}, {"reason", "log backup enabled again"}});
      record_attempt(env, task, source, 0, {}, 0);
      return {};
    }
    auto spec = plan_spec(env, target);
    if (!spec.ok()) return failed(spec.error());
    auto engine = engine_for(env, *spec);
    if (!engine.ok()) return {};  // no engine, nothing kept on the source
    auto st = (*engine)->release_log(*spec);
    if (st.ok()) {
      core::log_event(core::LogLevel::info, "log_released",
                      {{"plan", plan->id}, {"source", source}, {"attempt", attempt}});
      record_attempt(env, task, source, 0, {}, 0);
      return {};
    }
    core::log_event(core::LogLevel::warn, "log_release_failed",
                    {{"plan", plan->id}, {"source", source}, {"attempt", attempt}, {"error", st.error().message},
                     {"retry_in_ms", wait_ms}, {"plan_released", plan->state == "released"}});
    record_attempt(env, task, source, attempt, st.error(), env.clock.now_ms() + wait_ms);
    pause(control, wait_ms);
    wait_ms = std::min(wait_ms * 2, backoff.max_ms);
  }
}

}  // namespace opendbs::jobs
