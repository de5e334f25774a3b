// RepoPrune — the node's repository maintenance: it frees the data no backup set references any more.
//
// Retention and the PostgreSQL WAL stream only forget sets (they delete the manifest); the packs of
// expired sets, of aborted backups and of superseded partial WAL sets stay in the repository until a
// prune (docs/REPOSITORY.md §10). RepoPrune runs Repository::prune() on a thread: every interval, and
// soon after retention forgot sets (request_soon). Prune needs an exclusive lock and gives up at once
// while any set is being written (a shared lock): such a pass is "skipped_locked", not an error, and
// is tried again after retry_ms until it gets through. A failed pass is logged and tried again at the
// next interval; neither touches tasks. One pass runs at a time. A pass that finds packs lost from the
// repository, or chunks reads found damaged (docs/REPOSITORY.md §9), logs them and the sets they damage
// at error level, and marks those full sets failed. A pass stopped by a damaged manifest (prune cannot
// tell that set's data from garbage, so it deletes nothing) fails at error level naming the set and the
// remedy, and marks the set failed. A read that finds damage asks for a pass soon, so that the sets it
// damages are marked without waiting for the interval.
//
// Reading one stream (logical and delta restores, downloads) takes no repository lock, and a prune that
// repacks a pack under such a read makes it fail. With a catalog (skip_while_tasks_read), a pass is
// therefore also skipped (as "skipped_locked") while a restore or download task runs.
//
// Stopping: prune has no cancellation point (it stops early only when its lock lease lapses), so
// stop() returns once a pass in progress has finished. A pass is crash-safe at every step, so a node
// that is killed meanwhile leaves nothing the next pass does not finish.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "catalog/store.h"
#include "repo/repository.h"

namespace opendbs::jobs {

struct RepoPruneOptions {
  int64_t interval_ms = 6LL * 3600 * 1000;  // between passes; 0 = the node never prunes
  int64_t retry_ms = 60000;                 // after a pass skipped for a lock, and after request_soon()
};

enum class PruneResult { done, skipped_locked, failed };
const char* to_string(PruneResult r);

struct PruneRun {
  PruneResult result = PruneResult::failed;
  repo::PruneReport report;  // what a "done" pass freed, and the damage it found
  std::vector<std::string> sets_marked_failed;  // damaged full sets whose catalog records it marked failed
  std::map<std::string, std::string> unreadable_sets;  // a failed pass: sets whose manifest is damaged → why
  double seconds = 0;
  int64_t finished_ms = 0;   // wall clock, ms since the epoch
  std::string error;         // why it was skipped or failed
};

class RepoPrune {
 public:
  // Registers as the repository's damage observer (request_soon) until destroyed.
  RepoPrune(repo::Repository& repository, RepoPruneOptions options);
  ~RepoPrune();
  RepoPrune(const RepoPrune&) = delete;
  RepoPrune& operator=(const RepoPrune&) = delete;

  // Called after every pass (on the pass's thread), e.g. to update metrics. Set before start().
  void set_observer(std::function<void(const PruneRun&)> observer) { observer_ = std::move(observer); }
  // The node's catalog. Passes are skipped while it has a running restore or download task, and the
  // full sets a pass finds damaged (lost packs) are marked failed in it (damaged_sets.h). Set before start().
  void skip_while_tasks_read(catalog::Store& store) { store_ = &store; }

  void start();  // the first pass after retry_ms, then every interval; nothing when interval_ms is 0
  void stop();   // promptly, or when the pass in progress ends

  // Asks for a pass within retry_ms (e.g. retention just forgot sets); several requests make one pass.
  void request_soon();

  // One pass now, waiting for a pass in progress first (also called by tests).
  PruneRun run_once();

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  void loop();
  std::string reading_task();  // a running task that reads the repository unlocked, if any
  void mark_damaged_manifests(PruneRun& run);  // after a pass failed on damaged manifests

  repo::Repository& repository_;
  const RepoPruneOptions options_;
  std::function<void(const PruneRun&)> observer_;
  catalog::Store* store_ = nullptr;

  std::mutex pass_mu_;  // one pass at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  SteadyTime due_;  // the next pass; guarded by mu_
  std::thread thread_;
};

}  // namespace opendbs::jobs
