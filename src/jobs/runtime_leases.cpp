// TaskRuntime: how a run holds its task — the claim, the lease renewal, the end of a run whose lease
// cannot be kept, and the recording of its outcome (only while the record is still this run's).
#include <boost/json.hpp>

#include "core/errors.h"
#include "core/log.h"
#include "jobs/runtime.h"
#include "jobs/task_runners.h"

namespace opendbs::jobs {
namespace {

using catalog::Kind;
using catalog::Record;

std::string text(const boost::json::object& doc, const char* field) {
  const auto* v = doc.if_contains(field);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Why the task record is no longer this node's run's to write ("" when it is): it ended, or another
// node holds its lease (this run's lapsed and the task was claimed again). The run must then leave
// the record to whoever holds it.
std::string not_this_runs(const Record& rec, const std::string& node_id) {
  if (rec.state != "running") return "its task record ended (" + rec.state + ") while this run went on";
  const std::string owner = text(rec.doc, "_LeaseOwner");
  if (owner != node_id) return "its lease was lost to " + (owner.empty() ? std::string("nobody") : owner);
  return "";
}

// The outcome could not be recorded together with the records the task closes (one of them unreadable,
// say): the task record alone still ends, saying why, so that the task is not leased and run again at
// every lease expiry. What it could not close stays as it was.
core::Status end_task_alone(catalog::Store& store, const std::string& node_id, const std::string& task_id,
                            const char* state, const TaskResult& result, const std::string& why, int64_t now_ms) {
  return store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto rec, tx.get(Kind::task, task_id));
    if (!rec || !not_this_runs(*rec, node_id).empty()) return {};
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

// One claim at a time on this node, and the run registered before the next: LocalRuns then knows every
// run the claim must pass over.
std::optional<Record> TaskRuntime::claim(std::shared_ptr<LocalTask>& run) {
  std::lock_guard claim_lock(claim_mu_);
  const int64_t now = clock_.now_ms();
  auto claimed = store_.claim_next_task(options_.node_id, now, options_.lease_ms,
                                        [this](const Record& task) { return runs_.may_start(task); });
  if (!claimed.ok()) {
    core::log_event(core::LogLevel::error, "task_claim_failed", {{"Message", claimed.error().message}});
    return std::nullopt;
  }
  if (!claimed->has_value()) return std::nullopt;
  const Record& task = **claimed;
  run = std::make_shared<LocalTask>(task.id, text(task.doc, "TaskKind"), task.parent_id);
  run->leased_until(now + options_.lease_ms);
  runs_.add(run);
  std::lock_guard lock(mu_);
  if (stopping_) run->shut_down();
  return std::move(*claimed);
}

// Renews the leases of this node's runs and records their progress. A run whose record asks for it
// (StopBackupPlan ALL from any node) is cancelled; so is one whose record is no longer its own.
core::Status TaskRuntime::keep_leases() {
  const auto runs = runs_.all();
  if (runs.empty()) return {};
  const int64_t now = clock_.now_ms();
  std::vector<std::shared_ptr<LocalTask>> renewed;
  OPENDBS_TRY(store_.transact([&](catalog::Tx& tx) -> core::Status {
    renewed.clear();
    for (auto& t : runs) {
      if (t->ended()) continue;
      OPENDBS_ASSIGN(auto rec, tx.get(Kind::task, t->id));
      const std::string lost = rec ? not_this_runs(*rec, options_.node_id) : "its task record is gone";
      if (!lost.empty()) {
        if (!t->cancelled())
          core::log_event(core::LogLevel::warn, "task_run_orphaned",
                          {{"TaskId", t->id}, {"Kind", t->kind}, {"Plan", t->plan_id}, {"Why", lost}});
        t->cancel("the node: " + lost);
        continue;
      }
      if (rec->doc.contains("_CancelRequestedBy")) t->cancel(text(rec->doc, "_CancelRequestedBy"));
      rec->doc["_LeaseExpiresMs"] = now + options_.lease_ms;
      rec->doc["Progress"] = t->percent();
      rec->doc["BytesDone"] = static_cast<int64_t>(t->bytes());
      OPENDBS_TRY(tx.put(Kind::task, *rec));
      renewed.push_back(t);
      if (t->kind == task_kind::full_backup) {
        OPENDBS_ASSIGN(auto set, tx.get(Kind::backup_set, t->id));
        if (set && set->state == "running") {
          set->doc["Progress"] = t->percent();
          set->doc["BackupDataSize"] = static_cast<int64_t>(t->bytes());
          OPENDBS_TRY(tx.put(Kind::backup_set, *set));
        }
      }
      if (t->kind == task_kind::restore) {
        OPENDBS_ASSIGN(auto restore, tx.get(Kind::restore_task, t->id));
        if (restore && restore->state == "running") {
          restore->doc["FullDataRestoreProgress"] = t->percent();
          OPENDBS_TRY(tx.put(Kind::restore_task, *restore));
        }
      }
    }
    return {};
  }));
  for (auto& t : renewed) t->leased_until(now + options_.lease_ms);
  return {};
}

// Renewals keep failing (the catalog cannot be written): a run whose lease has half its length or less
// left stops and hands its task back, so that it has ended before the lease expires and another
// claimant (a node, or this one once the catalog works again) may start the task anew.
void TaskRuntime::hand_back_runs_losing_their_lease(const std::string& why) {
  const int64_t now = clock_.now_ms();
  for (auto& run : runs_.all()) {
    const int64_t left_ms = run->lease_expires_ms() - now;
    if (run->cancelled() || run->ended() || left_ms > options_.lease_ms / 2) continue;
    core::log_event(core::LogLevel::warn, "lease_lapsing",
                    {{"TaskId", run->id}, {"Kind", run->kind}, {"Plan", run->plan_id}, {"LeaseLeftMs", left_ms},
                     {"Error", why},
                     {"effect", "the run stops and hands its task back; it runs again once its lease is claimed anew"}});
    run->hand_back("its lease could not be renewed (" + why + "); stopped " +
                   (left_ms > 0 ? std::to_string(left_ms) + " ms before it expires" : "as it expired") +
                   ", so that no second run of the task starts while this one goes on");
  }
}

// Records how the run ended, unless its record is no longer its own (then the outcome is only logged).
core::Status TaskRuntime::record_outcome(const Record& task, const LocalTask& local, const TaskResult& result,
                                         const char* state) {
  std::string not_ours;
  auto st = store_.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto rec, tx.get(Kind::task, task.id));
    if (!rec) return {};
    not_ours = not_this_runs(*rec, options_.node_id);
    if (!not_ours.empty()) return {};
    rec->state = state;
    rec->doc["Progress"] = result.outcome == Outcome::succeeded ? 100 : local.percent();
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
      rec->doc["ErrMessage"] = "stopped by request " + text(rec->doc, "_CancelRequestedBy");
    return tx.put(Kind::task, *rec);
  });
  if (st.ok() && !not_ours.empty()) return core::errors::internal("not recorded: " + not_ours);
  if (!st.ok() && (result.outcome == Outcome::failed || result.outcome == Outcome::cancelled)) {
    const auto alone = end_task_alone(store_, options_.node_id, task.id, state, result, st.error().message,
                                      clock_.now_ms());
    if (!alone.ok()) st = alone.error();
  }
  return st;
}

}  // namespace opendbs::jobs
