#include "jobs/notifier.h"

#include <curl/curl.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <random>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/log.h"

namespace opendbs::jobs {
namespace {

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

Notifier::Notifier(WebhookOptions options) : options_(std::move(options)) {
  if (!options_.url.empty()) thread_ = std::thread([this] { run(); });
}

Notifier::~Notifier() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string Notifier::signature(const std::string& secret, const std::string& body) {
  return core::to_hex(core::hmac_sha256(secret, body));
}

void Notifier::notify(const std::string& event, boost::json::object fields) {
  if (!wants(event)) return;
  const std::string id = core::new_request_id();
  fields["Event"] = event;
  fields["DeliveryId"] = id;
  fields["Time"] = core::SystemClock::instance().now_ms();
  std::lock_guard lock(mu_);
  if (queue_.size() >= options_.queue_max) {
    core::log_event(core::LogLevel::warn, "webhook_dropped", {{"Event", queue_.front().event}, {"DeliveryId", queue_.front().id}});
    queue_.pop_front();
  }
  queue_.push_back({event, id, boost::json::serialize(fields)});
  cv_.notify_all();
}

void Notifier::run() {
  std::mt19937_64 jitter(std::random_device{}());
  for (;;) {
    Pending next;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    int64_t backoff = options_.backoff_first_ms;
    for (int attempt = 1; attempt <= options_.attempts_max; ++attempt) {
      if (deliver(next.event, next.id, next.body)) break;
      if (attempt == options_.attempts_max) {
        core::log_event(core::LogLevel::error, "webhook_failed", {{"Event", next.event}, {"DeliveryId", next.id},
                                                                   {"Attempts", attempt}});
        break;
      }
      // Full jitter: sleep a random time up to the current backoff, then double it.
      const auto wait = std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(backoff / 2, backoff)(jitter));
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return stopping_; })) return;
      backoff = std::min(backoff * 2, options_.backoff_max_ms);
    }
  }
}

bool Notifier::deliver(const std::string& event, const std::string& id, const std::string& body) {
  CURL* curl = curl_easy_init();
  if (!curl) return false;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("X-Opendbs-Event: " + event).c_str());
  headers = curl_slist_append(headers, ("X-Opendbs-Delivery: " + id).c_str());
  if (!options_.secret.empty())
    headers = curl_slist_append(headers, ("X-Opendbs-Signature: sha256=" + signature(options_.secret, body)).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  const bool ok = rc == CURLE_OK && status >= 200 && status < 300;
  core::log_event(ok ? core::LogLevel::info : core::LogLevel::warn, "webhook",
                  {{"Event", event}, {"DeliveryId", id}, {"Status", status},
                   {"Error", rc == CURLE_OK ? "" : curl_easy_strerror(rc)}});
  return ok;
}

}  // namespace opendbs::jobs
