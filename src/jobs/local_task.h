// A task running on this node: its cancellation flags and progress, shared between the worker that
// runs it and the keeper that renews its lease.
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

  bool cancelled() const override { return cancelled_.load() || shutting_down_.load(); }
  void progress(int percent, uint64_t bytes) override {
    percent_.store(percent);
    bytes_.store(bytes);
  }

  void cancel(const std::string& by) {
    std::lock_guard lock(mu_);
    if (cancelled_by_.empty()) cancelled_by_ = by;
    cancelled_.store(true);
  }
  void shut_down() { shutting_down_.store(true); }
  bool is_shutdown() const { return shutting_down_.load() && !cancelled_.load(); }
  std::string cancelled_by() const {
    std::lock_guard lock(mu_);
    return cancelled_by_;
  }
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
  std::atomic<bool> cancelled_{false}, shutting_down_{false};
  std::atomic<int> percent_{0};
  std::atomic<uint64_t> bytes_{0}, counted_bytes_{0}, lag_bytes_{0};
  std::atomic<double> lag_seconds_{0};
  mutable std::mutex mu_;
  std::string cancelled_by_;
  std::vector<std::pair<std::string, std::string>> restored_as_;
  std::vector<std::string> warnings_;
};

}  // namespace opendbs::jobs
