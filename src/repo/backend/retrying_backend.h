// RetryingBackend: wraps any Backend and repeats operations that failed for a reason a later attempt
// may not meet — the store's 5xx answers and SlowDown, timeouts, reset connections, truncated reads —
// with exponential backoff and full jitter, at least `retry_count_max` times and until the delays add
// up to `retry_for_ms` (a store restarting takes seconds, more than a few quick retries cover).
// Answers that would only repeat (NotFound, AccessDenied and other 4xx, a range past the end) are
// returned at once.
//
// What counts as transient is one rule for every backend: the error code "ServiceUnavailable".
// S3Backend and HttpClient give that code exactly to the failures above; LocalBackend never does.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "repo/backend/backend.h"

namespace opendbs::repo {

struct RetryPolicy {
  int retry_count_max = 5;           // attempts after the first one
  int64_t backoff_initial_ms = 100;  // the ceiling of the first delay; doubles on every retry
  int64_t backoff_max_ms = 10'000;   // the ceiling never grows past this
  int64_t retry_for_ms = 0;          // past retry_count_max, retries go on until the delays add up to this
};

bool is_transient(const core::Error& error);

// Sleeps for the given time; replaceable so that tests need not wait.
using Sleeper = std::function<void(std::chrono::milliseconds)>;
Sleeper real_sleeper();

// Runs `attempt` until it succeeds, fails with a non-transient error, or has been retried
// `policy.retry_count_max` times with delays adding up to `policy.retry_for_ms`; sleeps a random time in [0, ceiling] between attempts ("full
// jitter"), the ceiling doubling from backoff_initial_ms up to backoff_max_ms.
core::Status run_with_retries(const RetryPolicy& policy, const Sleeper& sleep,
                              const std::function<core::Status()>& attempt);

class RetryingBackend final : public Backend {
 public:
  RetryingBackend(std::unique_ptr<Backend> inner, RetryPolicy policy, Sleeper sleep = real_sleeper());

  core::Status put(const std::string& name, std::string_view data) override;
  core::Result<std::string> get(const std::string& name) override;
  core::Result<std::string> get_range(const std::string& name, uint64_t offset, uint64_t length) override;
  core::Result<std::optional<ObjectInfo>> stat(const std::string& name) override;
  core::Result<std::vector<ObjectInfo>> list(const std::string& prefix) override;
  core::Status remove(const std::string& name) override;
  std::string describe() const override { return inner_->describe(); }

 private:
  template <class T>
  core::Result<T> retry(const std::function<core::Result<T>()>& operation);

  std::unique_ptr<Backend> inner_;
  const RetryPolicy policy_;
  const Sleeper sleep_;
};

}  // namespace opendbs::repo
