#include "repo/backend/retrying_backend.h"

#include <algorithm>
#include <random>
#include <thread>

#include "core/log.h"

namespace opendbs::repo {
namespace {

int64_t jittered_delay_ms(int64_t ceiling_ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(0, ceiling_ms))(rng);
}

}  // namespace

bool is_transient(const core::Error& error) { return error.code == "ServiceUnavailable"; }

Sleeper real_sleeper() {
  return [](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); };
}

core::Status run_with_retries(const RetryPolicy& policy, const Sleeper& sleep,
                              const std::function<core::Status()>& attempt) {
  int64_t ceiling_ms = policy.backoff_initial_ms;
  int64_t slept_ms = 0;
  for (int retry = 0;; ++retry) {
    core::Status status = attempt();
    if (status.ok() || !is_transient(status.error())) return status;
    if (retry >= policy.retry_count_max && slept_ms >= policy.retry_for_ms) {
      return status.error().with_context("gave up after " + std::to_string(retry + 1) + " attempts in " +
                                         std::to_string((slept_ms + 500) / 1000) + " s");
    }
    const int64_t delay_ms = jittered_delay_ms(ceiling_ms);
    slept_ms += delay_ms;
    core::log_event(core::LogLevel::warn, "backend_retry",
                    {{"attempt", retry + 1}, {"delay_ms", delay_ms}, {"error", status.error().message}});
    sleep(std::chrono::milliseconds(delay_ms));
    ceiling_ms = std::min(policy.backoff_max_ms, ceiling_ms * 2);
  }
}

RetryingBackend::RetryingBackend(std::unique_ptr<Backend> inner, RetryPolicy policy, Sleeper sleep)
    : inner_(std::move(inner)), policy_(policy), sleep_(std::move(sleep)) {}

template <class T>
core::Result<T> RetryingBackend::retry(const std::function<core::Result<T>()>& operation) {
  std::optional<core::Result<T>> last;
  core::Status status = run_with_retries(policy_, sleep_, [&]() -> core::Status {
    last.emplace(operation());
    if (last->ok()) return {};
    return last->error();
  });
  if (!status.ok()) return status.error();  // carries the "gave up after N attempts" context
  return std::move(*last);
}

core::Status RetryingBackend::put(const std::string& name, std::string_view data) {
  return run_with_retries(policy_, sleep_, [&] { return inner_->put(name, data); });
}

core::Result<std::string> RetryingBackend::get(const std::string& name) {
  return retry<std::string>([&] { return inner_->get(name); });
}

core::Result<std::string> RetryingBackend::get_range(const std::string& name, uint64_t offset, uint64_t length) {
  return retry<std::string>([&] { return inner_->get_range(name, offset, length); });
}

core::Result<std::optional<ObjectInfo>> RetryingBackend::stat(const std::string& name) {
  return retry<std::optional<ObjectInfo>>([&] { return inner_->stat(name); });
}

core::Result<std::vector<ObjectInfo>> RetryingBackend::list(const std::string& prefix) {
  return retry<std::vector<ObjectInfo>>([&] { return inner_->list(prefix); });
}

core::Status RetryingBackend::remove(const std::string& name) {
  return run_with_retries(policy_, sleep_, [&] { return inner_->remove(name); });
}

}  // namespace opendbs::repo
