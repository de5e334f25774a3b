// Test support: an HTTP server on a free port of 127.0.0.1 that keeps the JSON body of every webhook
// posted to it, for tests of what the node notifies.
#pragma once

#include <boost/json.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "http/server.h"
#include "jobs/notifier.h"

namespace opendbs::jobs::testing {

class WebhookRecorder {
 public:
  WebhookRecorder()
      : server_(http::ServerOptions{"127.0.0.1:0"}, [this](const http::Request& r) {
          std::lock_guard lock(mu_);
          events_.push_back(boost::json::parse(r.body).as_object());
          return http::Response{};
        }) {}
  ~WebhookRecorder() { stop(); }

  core::Status start() { return server_.start(); }
  // Where a Notifier posts to reach this recorder.
  WebhookOptions options() const {
    WebhookOptions hook;
    hook.url = "http://127.0.0.1:" + std::to_string(server_.port()) + "/hook";
    return hook;
  }
  std::vector<boost::json::object> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  // Stops receiving (once the notifiers posting here are gone: they deliver what they queued first)
  // and gives every webhook that arrived.
  std::vector<boost::json::object> stop() {
    if (!stopped_) {
      stopped_ = true;
      server_.shutdown(0);
      server_.wait();
    }
    return events();
  }

 private:
  std::mutex mu_;
  std::vector<boost::json::object> events_;
  bool stopped_ = false;
  http::Server server_;  // last: its handler uses the members above
};

}  // namespace opendbs::jobs::testing
