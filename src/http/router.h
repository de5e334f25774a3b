// Routes the node's HTTP requests: "/" is the DBS RPC endpoint, "/healthz" the liveness probe,
// "/metrics" the Prometheus text, "/api/schema" the operation schema (for the CLI and the console),
// "/console/" the web console's embedded files, "/downloads/" the files of download tasks at their
// signed links (jobs/download_links.h).
#pragma once

#include <string_view>

#include "api/dispatcher.h"
#include "core/metrics.h"
#include "http/server.h"
#include "jobs/download_links.h"

namespace opendbs::http {

class Router {
 public:
  // `downloads` nullptr: "/downloads/" is not served.
  Router(api::Dispatcher& dispatcher, core::MetricsRegistry& metrics, const jobs::DownloadLinks* downloads = nullptr)
      : dispatcher_(dispatcher), metrics_(metrics), downloads_(downloads) {}
  Response handle(const Request& request);
  // The response the server sends for limits and malformed requests, in DBS's error shape.
  static Response error(int status, const std::string& code, const std::string& message);

 private:
  static Response console(std::string_view path);
  Response download(const Request& request) const;

  api::Dispatcher& dispatcher_;
  core::MetricsRegistry& metrics_;
  const jobs::DownloadLinks* downloads_;
};

}  // namespace opendbs::http
