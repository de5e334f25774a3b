// Webhooks against a real local HTTP receiver: payload, HMAC signature, retries after failures.
#include "jobs/notifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <mutex>
#include <thread>

#include "http/server.h"

using namespace opendbs;

namespace {

struct Receiver {
  std::mutex mu;
  std::vector<http::Request> received;
  std::atomic<int> fail_first{0};
  http::Server server{http::ServerOptions{"127.0.0.1:0"}, [this](const http::Request& r) {
                        std::lock_guard lock(mu);
                        received.push_back(r);
                        http::Response response;
                        response.status = fail_first.fetch_sub(1) > 0 ? 500 : 200;
                        return response;
                      }};
  Receiver() { EXPECT_TRUE(server.start().ok()); }
  ~Receiver() {
    server.shutdown(0);
    server.wait();
  }
  std::string url() { return "http://127.0.0.1:" + std::to_string(server.port()) + "/hook"; }
  size_t count() {
    std::lock_guard lock(mu);
    return received.size();
  }
  bool wait_for(size_t n) {
    for (int i = 0; i < 200 && count() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return count() >= n;
  }
};

}  // namespace

TEST(Notifier, SignsThePayloadAndRetriesUntilTheReceiverAccepts) {
  Receiver receiver;
  receiver.fail_first = 2;
  jobs::WebhookOptions options;
  options.url = receiver.url();
  options.secret = "hook-secret";
  options.backoff_first_ms = 20;
  {
    jobs::Notifier notifier(options);
    notifier.notify("task.failed", {{"TaskId", "t1"}, {"ErrMessage", "boom"}});
    ASSERT_TRUE(receiver.wait_for(3));
  }
  std::lock_guard lock(receiver.mu);
  ASSERT_EQ(receiver.received.size(), 3u);  // two failures, then delivered; no more
  const auto& last = receiver.received.back();
  EXPECT_EQ(last.header("x-opendbs-event"), "task.failed");
  EXPECT_EQ(last.header("x-opendbs-signature"), "sha256=" + jobs::Notifier::signature("hook-secret", last.body));
  EXPECT_EQ(receiver.received.front().body, last.body);  // retries send the same delivery
  auto body = boost::json::parse(last.body).as_object();
  EXPECT_EQ(body.at("Event").as_string(), "task.failed");
  EXPECT_EQ(body.at("TaskId").as_string(), "t1");
  EXPECT_EQ(body.at("DeliveryId").as_string(), last.header("x-opendbs-delivery"));
  EXPECT_NE(jobs::Notifier::signature("other", last.body), jobs::Notifier::signature("hook-secret", last.body));
}

TEST(Notifier, SendsOnlyTheEventsAskedForAndGivesUpAfterTheLastAttempt) {
  Receiver receiver;
  receiver.fail_first = 100;
  jobs::WebhookOptions options;
  options.url = receiver.url();
  options.attempts_max = 3;
  options.backoff_first_ms = 10;
  {
    jobs::Notifier notifier(options);
    EXPECT_FALSE(notifier.wants("task.succeeded"));
    notifier.notify("task.succeeded", {{"TaskId", "t2"}});  // not asked for: never sent
    notifier.notify("plan.stale", {{"BackupPlanId", "p"}});
    ASSERT_TRUE(receiver.wait_for(3));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(receiver.count(), 3u);
  std::lock_guard lock(receiver.mu);
  for (const auto& r : receiver.received) EXPECT_EQ(r.header("x-opendbs-event"), "plan.stale");
}
