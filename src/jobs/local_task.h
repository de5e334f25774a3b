// A task running on this node: its cancellation flags and progress, shared between the worker that
// runs it and the keeper that renews its lease.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "engines/engine.h"

namespace opendbs::jobs {

class LocalTask final : public engines::TaskControl {
 public:
  explicit LocalTask(std::string id) : id(std::move(id)) {}

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
  int percent() const { return percent_.load(); }
  uint64_t bytes() const { return bytes_.load(); }

  const std::string id;

 private:
  std::atomic<bool> cancelled_{false}, shutting_down_{false};
  std::atomic<int> percent_{0};
  std::atomic<uint64_t> bytes_{0};
  mutable std::mutex mu_;
  std::string cancelled_by_;
};

}  // namespace opendbs::jobs
