// Routes the node's HTTP requests: "/" is the DBS RPC endpoint, "/healthz" the liveness probe,
// "/metrics" the Prometheus text, "/api/schema" the operation schema (for the CLI and the console),
// "/console/" the web console's embedded files.
#pragma once

#include <string_view>

#include "api/dispatcher.h"
#include "core/metrics.h"
#include "http/server.h"

namespace opendbs::http {

class Router {
 public:
  Router(api::Dispatcher& dispatcher, core::MetricsRegistry& metrics) : dispatcher_(dispatcher), metrics_(metrics) {}
  Response handle(const Request& request);
  // The response the server sends for limits and malformed requests, in DBS's error shape.
  static Response error(int status, const std::string& code, const std::string& message);

 private:
  static Response console(std::string_view path);

  api::Dispatcher& dispatcher_;
  core::MetricsRegistry& metrics_;
};

}  // namespace opendbs::http
