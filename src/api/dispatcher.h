// The DBS RPC endpoint: from a received HTTP request to the JSON answer. In order: decode the request
// and its signature scheme, find the AccessKey, check the time window, verify the signature, refuse a
// reused nonce, find the operation, validate its parameters, authorise with RAM, honour the
// ClientToken, run the handler, and wrap the result in DBS's envelope (DESIGN.md §6).
#pragma once

#include <functional>
#include <string>

#include "api/client_tokens.h"
#include "api/nonce_cache.h"
#include "api/operation.h"
#include "api/request_decoder.h"
#include "iam/directory.h"

namespace opendbs::api {

struct ApiRequest {
  HttpRequestView http;
  std::string remote_ip;
  bool secure = false;  // arrived over TLS (acs:SecureTransport)
};

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON
  std::string request_id;
};

// What happened, for the request log and metrics.
struct RequestOutcome {
  std::string request_id, action, access_key_id, code;  // code empty on success
  int status = 200;
  double latency_seconds = 0;
};

class Dispatcher {
 public:
  Dispatcher(Services& services, iam::Directory& directory)
      : services_(services), directory_(directory), tokens_(services.store) {}

  ApiResponse handle(const ApiRequest& request);
  void set_observer(std::function<void(const RequestOutcome&)> observer) { observer_ = std::move(observer); }
  // Keeps used nonces in a journal so that a restart does not reopen the replay window.
  core::Status open_nonce_journal(const std::string& path) { return nonces_.open_journal(path, services_.clock.now_ms()); }

  // The error envelope for failures outside an operation (HTTP limits, bad paths).
  static std::string error_body(const std::string& request_id, const core::Error& error);

 private:
  core::Result<boost::json::object> authenticate_and_run(const ApiRequest& request, const std::string& request_id,
                                                         RequestOutcome& outcome);
  Services& services_;
  iam::Directory& directory_;
  ClientTokens tokens_;
  NonceCache nonces_;
  std::function<void(const RequestOutcome&)> observer_;
};

}  // namespace opendbs::api
