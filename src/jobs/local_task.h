// A task running on this node: its cancellation flags, lease and progress, shared between the worker
// that runs it and the keeper that renews its lease.
//
// A run stops for one of two reasons: cancelled (StopBackupPlan ALL, ReleaseBackupPlan, ...: the task
// ends `cancelled`) or handed back (the node stops, or the run cannot keep its lease: the task goes
// back to the queue and runs again later, here or on another node).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engines/engine.h"

namespace opendbs::jobs {

class LocalTask final : public engines::TaskControl {
 public:
  LocalTask(std::string id, std::string kind, std::string plan_id)
      : id(std::move(id)), kind(std::move(kind)), plan_id(std::move(plan_id)) {}

  bool cancelled() const override { return cancelled_.load() || handed_back_.load(); }
  void progress(int percent, uint64_t bytes) override {
    percent_.store(percent);
    bytes_.store(bytes);
  }

  void cancel(const std::string& by) {
    std::lock_guard lock(mu_);
    if (cancelled_by_.empty()) cancelled_by_ = by;
    cancelled_.store(true);
  }
  // Stops the run to hand the task back; `why` is logged with the outcome.
  void hand_back(const std::string& why) {
    std::lock_guard lock(mu_);
    if (handed_back_why_.empty()) handed_back_why_ = why;
    handed_back_.store(true);
  }
  void shut_down() { hand_back("the node is stopping"); }
  // Stopped to be handed back, and not cancelled by a request as well.
  bool is_handed_back() const { return handed_back_.load() && !cancelled_.load(); }
  std::string cancelled_by() const {
    std::lock_guard lock(mu_);
    return cancelled_by_;
  }
  std::string handed_back_why() const {
    std::lock_guard lock(mu_);
    return handed_back_why_;
  }
  // The runner has returned; only its outcome is still being recorded.
  void mark_ended() { ended_.store(true); }
  bool ended() const { return ended_.load(); }
  // Until when (catalog clock, ms) the catalog record holds this run's lease, as last written.
  void leased_until(int64_t ms) { lease_expires_ms_.store(ms); }
  int64_t lease_expires_ms() const { return lease_expires_ms_.load(); }
  void lag(uint64_t bytes, double seconds) override {
    lag_bytes_.store(bytes);
    lag_seconds_.store(seconds);
  }
  void restored_as(const std::string& database, const std::string& name) override {
    std::lock_guard lock(mu_);
    restored_as_.emplace_back(database, name);
  }
  void warning(const std::string& text) override {
    std::lock_guard lock(mu_);
    warnings_.push_back(text);
  }
  // The warnings as one ErrMessage of a task that finished all the same ("" when none).
  std::string warnings_text() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& w : warnings_) out += (out.empty() ? "" : "; ") + w;
    return out;
  }
  // (database in the set, the name it was restored under) for each name the engine chose.
  std::vector<std::pair<std::string, std::string>> renamed_databases() const {
    std::lock_guard lock(mu_);
    return restored_as_;
  }
  uint64_t lag_bytes() const { return lag_bytes_.load(); }
  double lag_seconds() const { return lag_seconds_.load(); }
  int percent() const { return percent_.load(); }
  uint64_t bytes() const { return bytes_.load(); }
  // The bytes reported since the last call (0 when the count did not grow): what /metrics has not
  // counted yet, taken while the task runs and once more when it ends, so that none counts twice.
  uint64_t take_uncounted_bytes() {
    const uint64_t now = bytes_.load();
    uint64_t before = counted_bytes_.load();
    while (now > before && !counted_bytes_.compare_exchange_weak(before, now)) {
    }
    return now > before ? now - before : 0;
  }

  const std::string id, kind, plan_id;

 private:
  std::atomic<bool> cancelled_{false}, handed_back_{false}, ended_{false};
  std::atomic<int64_t> lease_expires_ms_{0};
  std::atomic<int> percent_{0};
  std::atomic<uint64_t> bytes_{0}, counted_bytes_{0}, lag_bytes_{0};
  std::atomic<double> lag_seconds_{0};
  mutable std::mutex mu_;
  std::string cancelled_by_, handed_back_why_;
  std::vector<std::pair<std::string, std::string>> restored_as_;
  std::vector<std::string> warnings_;
};

}  // namespace opendbs::jobs
