// HttpClient: the few HTTP/1.1 exchanges S3Backend needs, on libcurl, safe to call from many threads.
//
// Connections are reused: finished easy handles go back to a pool (curl keeps each handle's
// connections alive across curl_easy_reset), and DNS answers and TLS sessions are shared through a
// curl share object. The client knows nothing of S3; it reports transport failures as errors and
// hands back every HTTP answer, whatever its status, for the caller to judge.
//
// Errors: a failure that a later attempt may not repeat (refused or reset connection, timeout, a
// stalled transfer, a body shorter than its Content-Length) has code "ServiceUnavailable"; a failure
// that will repeat (malformed URL, TLS certificate rejected) has code "IOError".
#pragma once

#include <curl/curl.h>

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace opendbs::repo {

struct HttpOptions {
  int64_t connect_timeout_ms = 10'000;
  // A transfer that moves no byte for this long is abandoned (a stall, not a slow link).
  int64_t stall_timeout_ms = 60'000;
  // Upper bound on a whole exchange; 0 means none (large parts on slow links may take long).
  int64_t request_timeout_ms = 0;
  bool verify_tls = true;
  std::string ca_file;  // PEM bundle to trust instead of the system's; empty for the system's
};

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;     // complete, with the path and query already percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // sent for PUT and POST (may be empty); must outlive perform()
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case; the last value wins
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  core::Result<HttpResponse> perform(const HttpRequest& request);

  // How many TCP connections the client has opened so far; shows whether connections are reused.
  uint64_t connections_opened() const { return connections_opened_.load(); }

 private:
  CURL* acquire();
  void release(CURL* handle);
  static void lock_share(CURL*, curl_lock_data data, curl_lock_access, void* self);
  static void unlock_share(CURL*, curl_lock_data data, void* self);

  const HttpOptions options_;
  CURLSH* share_;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks_;
  std::mutex pool_mutex_;
  std::vector<CURL*> idle_;  // easy handles with their live connections, ready for the next request
  std::atomic<uint64_t> connections_opened_{0};
};

}  // namespace opendbs::repo
