#include "jobs/slot_watch.h"

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "jobs/notifier.h"
#include "jobs/plan_spec.h"
#include "jobs/plan_warning.h"
#include "jobs/tasks.h"

namespace opendbs::jobs {
namespace {

using catalog::Kind;
using catalog::Record;

// The plan's doc field holding the warning SlotWatch last put into ErrMessage, so that it can be
// replaced or removed without touching the rest of the message.
constexpr const char* kWarningField = "_LogRetentionWarning";

std::string doc_text(const boost::json::object& doc, const char* field) {
  auto it = doc.find(field);
  return it != doc.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

bool log_backup_enabled(const Record& plan) {
  auto it = plan.doc.find("EnableBackupLog");
  return it != plan.doc.end() && it->value().is_bool() && it->value().as_bool();
}

std::string human_bytes(uint64_t n) {
  char out[32];
  if (n >= (1ULL << 30)) std::snprintf(out, sizeof out, "%.1f GiB", static_cast<double>(n) / (1ULL << 30));
  else std::snprintf(out, sizeof out, "%.1f MiB", static_cast<double>(n) / (1ULL << 20));
  return out;
}

}  // namespace

SlotWatch::SlotWatch(catalog::Store& store, const iam::SecretBox& secrets, const engines::EngineRegistry& engines,
                     SlotWatchOptions options)
    : store_(store), secrets_(secrets), engines_(engines), options_(options) {}

SlotWatch::~SlotWatch() { stop(); }

void SlotWatch::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      auto st = check_once();
      if (!st.ok()) core::log_event(core::LogLevel::warn, "slot_watch_failed", {{"error", st.error().message}});
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(options_.interval_ms), [this] { return stopping_; });
    }
  });
}

void SlotWatch::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, uint64_t> SlotWatch::retained_bytes() {
  std::lock_guard lock(mu_);
  return retained_;
}

std::vector<PendingRelease> SlotWatch::pending_releases() {
  std::lock_guard lock(mu_);
  return pending_;
}

std::string SlotWatch::warning_for(const Finding& f) const {
  const auto& r = f.retention;
  if (r.lost)
    return "the source has removed log that the log backup had not stored: the log chain has a gap, and restores "
           "after it need a new full backup";
  const std::string kept = "the source keeps " + human_bytes(r.retained_bytes) + " of log for this plan";
  // A running log backup that keeps up needs no advice, even where the source keeps little log
  // (max_slot_wal_keep_size below the bound): only one that has fallen behind by at least as much as
  // the source still allows is near a gap.
  const bool near_gap = r.safe_bytes && *r.safe_bytes < options_.warn_bytes &&
                        (!f.log_backup_running || r.retained_bytes >= *r.safe_bytes);
  if (f.log_backup_running) {
    const std::string state = "log backup is behind: " + kept;
    if (near_gap)
      return state + ", and removes it (a gap in the log chain) after " + human_bytes(*r.safe_bytes) + " more";
    if (r.retained_bytes >= options_.warn_bytes) return state + " (warning at " + human_bytes(options_.warn_bytes) + ")";
    return "";
  }
  const std::string state = "log backup is not running: " + kept;
  if (near_gap)
    return state + ", and removes it (a gap in the log chain) after " + human_bytes(*r.safe_bytes) +
           " more; StartBackupPlan resumes the log backup";
  if (r.retained_bytes >= options_.warn_bytes)
    return state + " (warning at " + human_bytes(options_.warn_bytes) +
           "); StartBackupPlan resumes the log backup, DisableBackupLog releases the log";
  return "";
}

// Plans with log backup enabled (and whether their log backup runs now), and plans that carry a
// warning although log backup has been disabled since.
core::Status SlotWatch::read_plans(std::vector<Finding>& watched, std::vector<std::string>& to_clear,
                                   std::vector<PendingRelease>& pending) {
  const int64_t now = core::SystemClock::instance().now_ms();
  return store_.read([&](catalog::Tx& tx) -> core::Status {
    watched.clear();
    to_clear.clear();
    pending.clear();
    catalog::Query unfinished{Kind::task};
    unfinished.states = {"queued", "running"};
    OPENDBS_ASSIGN(auto open_tasks, tx.list(unfinished));
    for (const auto& t : open_tasks) {
      const auto* attempts = t.doc.if_contains("ReleaseAttempts");
      if (doc_text(t.doc, "TaskKind") != task_kind::release_log || !attempts || !attempts->is_int64()) continue;
      pending.push_back({t.parent_id, t.id, doc_text(t.doc, "ReleaseSource"), doc_text(t.doc, "ErrMessage"),
                         attempts->as_int64()});
    }
    OPENDBS_ASSIGN(auto plans, tx.list(catalog::Query{Kind::plan}));
    for (auto& plan : plans) {
      if (plan.state == "released") continue;
      if (!log_backup_enabled(plan)) {
        if (!doc_text(plan.doc, kWarningField).empty()) to_clear.push_back(plan.id);
        continue;
      }
      OPENDBS_ASSIGN(auto tasks, unfinished_tasks(tx, plan.id, {task_kind::log_backup}));
      bool running = false;
      for (const auto& t : tasks) {
        auto lease = t.doc.find("_LeaseExpiresMs");  // a dead node's task stays "running" until then
        running = running || (t.state == "running" && lease != t.doc.end() && lease->value().is_int64() &&
                              lease->value().as_int64() > now);
      }
      watched.push_back(Finding{std::move(plan), {}, running});
    }
    return {};
  });
}

core::Status SlotWatch::check_once() {
  std::vector<Finding> watched;
  std::vector<std::string> to_clear;
  std::vector<PendingRelease> pending;
  OPENDBS_TRY(read_plans(watched, to_clear, pending));
  announce_releases(pending);
  std::map<std::string, uint64_t> retained;
  for (auto& f : watched) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return {};  // each source may take a connect timeout: do not hold up a shutdown
    }
    auto spec = plan_spec(secrets_, f.plan);
    auto engine = spec.ok() ? engines_.find(spec->database_type) : nullptr;
    if (!engine) continue;
    auto r = engine->log_retention(*spec);
    if (!r.ok()) {  // the source is unreachable: nothing new is known, the warning stays as it was
      core::log_event(core::LogLevel::debug, "log_retention_unknown", {{"plan", f.plan.id}, {"error", r.error().message}});
      continue;
    }
    f.retention = *r;
    if (r->held) retained[f.plan.id] = r->retained_bytes;  // engines that keep nothing get no series
    const std::string warning = warning_for(f);
    OPENDBS_TRY(record(f.plan.id, warning));
    bool newly_warned;
    {
      std::lock_guard lock(mu_);
      newly_warned = warning.empty() ? (warned_.erase(f.plan.id), false) : warned_.insert(f.plan.id).second;
    }
    if (newly_warned) announce(f, warning);
  }
  for (const auto& id : to_clear) OPENDBS_TRY(record(id, ""));

  std::lock_guard lock(mu_);
  for (auto& [id, bytes] : retained_) bytes = 0;
  for (const auto& [id, bytes] : retained) retained_[id] = bytes;
  for (const auto& id : to_clear) warned_.erase(id);
  return {};
}

// The start of a warning episode: one log line and one webhook.
void SlotWatch::announce(const Finding& f, const std::string& warning) {
  core::log_event(core::LogLevel::warn, "log_retention_warning", {{"plan", f.plan.id}, {"warning", warning}});
  if (!notifier_) return;
  const auto& r = f.retention;
  notifier_->notify("log_backup.retention",
                    {{"BackupPlanId", f.plan.id}, {"RetainedBytes", r.retained_bytes},
                     {"ThresholdBytes", options_.warn_bytes},
                     {"SafeBytes", r.safe_bytes ? boost::json::value(*r.safe_bytes) : boost::json::value(nullptr)},
                     {"Lost", r.lost}, {"LogBackupRunning", f.log_backup_running}, {"Message", warning}});
}

// Keeps the pending releases for pending_releases() and announces each new one: one log line, one
// webhook (the plan may be gone: nothing else would tell that its source keeps WAL).
void SlotWatch::announce_releases(const std::vector<PendingRelease>& pending) {
  std::vector<PendingRelease> fresh;
  {
    std::lock_guard lock(mu_);
    std::set<std::string> ids;
    for (const auto& r : pending) {
      ids.insert(r.task_id);
      if (!announced_releases_.contains(r.task_id)) fresh.push_back(r);
    }
    announced_releases_ = std::move(ids);
    pending_ = pending;
  }
  for (const auto& r : fresh) {
    core::log_event(core::LogLevel::warn, "log_release_pending",
                    {{"plan", r.plan_id}, {"task", r.task_id}, {"source", r.source}, {"attempts", r.attempts},
                     {"error", r.error}});
    if (notifier_)
      notifier_->notify("log_backup.release_pending", {{"BackupPlanId", r.plan_id}, {"TaskId", r.task_id},
                                                       {"Source", r.source}, {"Attempts", r.attempts},
                                                       {"ErrMessage", r.error}});
  }
}

// Puts `warning` into the plan's ErrMessage in place of the one recorded before ("" = remove it).
core::Status SlotWatch::record(const std::string& plan_id, const std::string& warning) {
  return store_.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, tx.get(Kind::plan, plan_id));
    if (!plan || plan->state == "released") return {};
    if (!set_plan_warning(*plan, kWarningField, warning)) return {};
    return tx.put(Kind::plan, *plan);
  });
}

}  // namespace opendbs::jobs
