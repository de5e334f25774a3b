// Webhook notifications: task failures (and successes, if asked), log backup lag over a threshold, log
// kept on a source for a log backup over a bound (SlotWatch), and plans whose last successful full
// backup is older than their schedule allows. Each event is a JSON
// POST signed with HMAC-SHA256 of the body (header X-Opendbs-Signature: sha256=<hex>), delivered by a
// background thread and retried with exponential backoff; a full queue drops the oldest event (and
// says so in the log) rather than blocking the task engine.
#pragma once

#include <boost/json/object.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace opendbs::jobs {

struct WebhookOptions {
  std::string url;                  // empty = no notifications
  std::string secret;               // HMAC key; empty = unsigned
  // + "task.succeeded" when asked
  std::set<std::string> events = {"task.failed", "log_backup.lag", "log_backup.retention",
                                  "log_backup.release_pending", "plan.stale"};
  int attempts_max = 6;
  int64_t backoff_first_ms = 500;
  int64_t backoff_max_ms = 30000;
  size_t queue_max = 1000;
  int64_t timeout_ms = 10000;
};

class Notifier {
 public:
  explicit Notifier(WebhookOptions options);
  ~Notifier();  // delivers what it can within one timeout, then stops

  bool wants(const std::string& event) const { return !options_.url.empty() && options_.events.count(event); }
  // Queues {Event, Time, ...fields} for delivery if `event` is wanted.
  void notify(const std::string& event, boost::json::object fields);

  // The signature a receiver recomputes: lower-hex HMAC-SHA256(secret, body).
  static std::string signature(const std::string& secret, const std::string& body);

 private:
  void run();
  bool deliver(const std::string& event, const std::string& id, const std::string& body);

  WebhookOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  struct Pending {
    std::string event, id, body;
  };
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace opendbs::jobs
