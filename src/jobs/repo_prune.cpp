#include "jobs/repo_prune.h"

#include <algorithm>
#include <exception>

#include <boost/json.hpp>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "jobs/damaged_sets.h"
#include "jobs/tasks.h"
#include "repo/lock.h"

namespace opendbs::jobs {
namespace {

void log_run(const PruneRun& run) {
  switch (run.result) {
    case PruneResult::done: {
      boost::json::object fields{{"Result", "done"}, {"PacksDeleted", run.report.packs_deleted},
                                 {"PacksRepacked", run.report.packs_repacked}, {"BytesFreed", run.report.bytes_freed},
                                 {"IndexFilesReplaced", run.report.index_files_replaced},
                                 {"StaleLocksRemoved", run.report.locks_removed}, {"Seconds", run.seconds}};
      const bool damage = !run.report.lost_packs.empty() || !run.report.damaged_sets.empty();
      if (damage) {  // never "done" and quiet while sets cannot be restored
        boost::json::array lost, damaged, marked;
        for (const auto& p : run.report.lost_packs) lost.push_back({{"Pack", p.pack_id}, {"Chunks", p.chunks}});
        for (const auto& id : run.report.damaged_sets) damaged.push_back(boost::json::string(id));
        for (const auto& id : run.sets_marked_failed) marked.push_back(boost::json::string(id));
        fields["LostPacks"] = std::move(lost);
        fields["DamagedSets"] = std::move(damaged);
        fields["SetsMarkedFailed"] = std::move(marked);
      }
      core::log_event(damage ? core::LogLevel::error : core::LogLevel::info, "repo_prune", std::move(fields));
      return;
    }
    case PruneResult::skipped_locked:  // routine while log backup streams: no more than debug
      core::log_event(core::LogLevel::debug, "repo_prune", {{"Result", "skipped_locked"}, {"Reason", run.error}});
      return;
    case PruneResult::failed: {
      boost::json::object fields{{"Result", "failed"}, {"Error", run.error}, {"Seconds", run.seconds}};
      if (run.unreadable_sets.empty()) {
        core::log_event(core::LogLevel::warn, "repo_prune", std::move(fields));
        return;
      }
      // Every later pass stops the same way until the sets are forgotten: the repository grows meanwhile.
      boost::json::array unreadable, marked;
      for (const auto& [id, why] : run.unreadable_sets) unreadable.push_back(boost::json::string(id));
      for (const auto& id : run.sets_marked_failed) marked.push_back(boost::json::string(id));
      fields["UnreadableSets"] = std::move(unreadable);
      fields["SetsMarkedFailed"] = std::move(marked);
      core::log_event(core::LogLevel::error, "repo_prune", std::move(fields));
      return;
    }
  }
}

}  // namespace

const char* to_string(PruneResult r) {
  switch (r) {
    case PruneResult::done: return "done";
    case PruneResult::skipped_locked: return "skipped_locked";
    case PruneResult::failed: return "failed";
  }
  return "failed";
}

RepoPrune::RepoPrune(repo::Repository& repository, RepoPruneOptions options)
    : repository_(repository), options_(options) {
  repository_.set_damage_observer([this] { request_soon(); });
}

RepoPrune::~RepoPrune() {
  repository_.set_damage_observer({});
  stop();
}

void RepoPrune::start() {
  if (options_.interval_ms <= 0 || thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
    // Not at once: a node that just started is busy resuming its tasks.
    due_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.retry_ms);
  }
  thread_ = std::thread([this] { loop(); });
}

void RepoPrune::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RepoPrune::request_soon() {
  {
    std::lock_guard lock(mu_);
    due_ = std::min(due_, std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.retry_ms));
  }
  cv_.notify_all();
}

void RepoPrune::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (std::chrono::steady_clock::now() < due_) {
      cv_.wait_until(lock, due_);  // woken early by stop() or request_soon(); the loop looks again
      continue;
    }
    due_ = SteadyTime::max();  // requests made during the pass bring the next one forward
    lock.unlock();
    const PruneRun run = run_once();
    lock.lock();
    const int64_t delay =
        std::max<int64_t>(10, run.result == PruneResult::skipped_locked ? options_.retry_ms : options_.interval_ms);
    due_ = std::min(due_, std::chrono::steady_clock::now() + std::chrono::milliseconds(delay));
  }
}

std::string RepoPrune::reading_task() {
  if (!store_) return "";
  std::string found;
  auto st = store_->read([&](catalog::Tx& tx) -> core::Status {
    for (const auto kind : {task_kind::restore, task_kind::download}) {
      catalog::Query q{catalog::Kind::task};
      q.states = {"running"};
      q.doc_equals = {{"TaskKind", std::string(kind)}};
      OPENDBS_ASSIGN(auto n, tx.count(q));
      if (n > 0) {
        found = "a " + std::string(kind) + " task is reading the repository";
        return {};
      }
    }
    return {};
  });
  return st.ok() ? found : "the catalog could not be read: " + st.error().message;
}

// The sets a pass marked failed in the catalog, or the error that kept it from marking them.
static void record_marked(core::Result<std::vector<std::string>> marked, PruneRun& run) {
  if (marked.ok())
    run.sets_marked_failed = std::move(*marked);
  else
    core::log_event(core::LogLevel::error, "backup_set_damaged",
                    {{"Error", "could not mark the damaged sets failed: " + marked.error().message}});
}

void RepoPrune::mark_damaged_manifests(PruneRun& run) {
  auto unreadable = repository_.unreadable_sets();
  if (!unreadable.ok()) {
    run.error += "; the damaged sets could not be listed: " + unreadable.error().message;
    return;
  }
  run.unreadable_sets = std::move(*unreadable);
  if (!store_ || run.unreadable_sets.empty()) return;
  record_marked(mark_unreadable_sets(*store_, run.unreadable_sets, run.finished_ms), run);
}

PruneRun RepoPrune::run_once() {
  std::lock_guard pass(pass_mu_);
  PruneRun run;
  if (auto reader = reading_task(); !reader.empty()) {
    run.result = PruneResult::skipped_locked;
    run.error = reader;
    run.finished_ms = core::SystemClock::instance().now_ms();
    log_run(run);
    if (observer_) observer_(run);
    return run;
  }
  const auto started = std::chrono::steady_clock::now();
  // The repository reports errors as values; this thread must not take the node down if it throws anyway.
  core::Result<repo::PruneReport> report = core::errors::internal("prune threw");
  try {
    report = repository_.prune([this] {
      std::lock_guard lock(mu_);
      return stopping_;
    });
  } catch (const std::exception& e) {
    report = core::errors::internal(std::string("prune threw: ") + e.what());
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  run.finished_ms = core::SystemClock::instance().now_ms();
  if (report.ok()) {
    run.result = PruneResult::done;
    run.report = *report;
    if (store_ && !run.report.damaged_sets.empty())
      record_marked(mark_damaged_sets(*store_, run.report, run.finished_ms), run);
  } else {
    run.result = repo::locked_by_another(report.error()) ? PruneResult::skipped_locked : PruneResult::failed;
    run.error = report.error().message;
    if (report.error().code == "Corrupt") mark_damaged_manifests(run);
  }
  log_run(run);
  if (observer_) observer_(run);
  return run;
}

}  // namespace opendbs::jobs
