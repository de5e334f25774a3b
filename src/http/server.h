// The node's HTTP/1.1 server: plain and TLS listeners on one io_context run by a few I/O threads.
//
// It reads requests (keep-alive and pipelining), enforces header and body limits and read timeouts,
// and hands each complete request to one Handler. It knows nothing of the API: routing, envelopes
// and error shapes belong to the caller, which shapes the server's own errors (413, 400, 500)
// through ServerOptions::error_response. Boost.Beast and Asio stay inside server.cpp, so including
// this header costs little.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace opendbs::http {

struct Request {
  std::string method;  // as on the request line, e.g. "GET"
  std::string target;  // as on the request line: path?query
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in arrival order
  std::string body;
  std::string remote_ip;  // the peer's address; an IPv4-mapped IPv6 address is given as IPv4
  bool secure = false;    // arrived over TLS

  // The value of the first header named `lower_name` (which must be lower case), or "" if absent.
  std::string_view header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json;charset=utf-8";  // empty = no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, written as given
  // When set, the body is this file, streamed from disk in pieces with its size as Content-Length
  // (`body` is ignored); a file that cannot be opened is answered 404. A 200 file response supports
  // single-range GETs (206/416, Accept-Ranges, ETag, Last-Modified, If-Range; see byte_range.h).
  std::string file_path;
};

// Called on an I/O thread for every complete request; must be thread-safe. An exception it throws
// becomes a 500 "InternalError" response. It should not block for long: it holds an I/O thread.
using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT ([v6]:PORT); port 0 = any free one; empty = none
  std::string tls_listen;                  // as listen; empty = no TLS listener
  std::string tls_cert_file, tls_key_file; // PEM; required when tls_listen is set
  int threads = 2;                         // I/O threads running the one io_context
  size_t header_limit_bytes = 16 * 1024;   // request line + headers; larger → 413
  size_t body_limit_bytes = 8 * 1024 * 1024;
  int read_timeout_ms = 30000;  // a request (or TLS handshake) must arrive whole within this, counted
                                // from its first byte; also bounds writing the response
  int keep_alive_idle_ms = 60000;  // an idle keep-alive connection is closed after this
  // Produces the response for errors the server detects itself: 413 "RequestTooLarge", 400
  // "BadRequest", 500 "InternalError". Unset = {"Code":code,"Message":message}.
  std::function<Response(int status, std::string code, std::string message)> error_response;
};

struct ServerRuntime;  // the io_context, listeners and connections; defined in server.cpp

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // shutdown(0) if still running, then wait()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners (an error names the address and the reason), loads the TLS certificate,
  // starts the I/O threads and returns at once. Call once.
  core::Status start();
  uint16_t port() const;      // the bound plain port (0 when there is no plain listener)
  uint16_t tls_port() const;  // the bound TLS port (0 when there is no TLS listener)

  // Stops accepting (new connections are refused), closes idle keep-alive connections, and lets
  // requests in flight finish, answering them with "Connection: close". Whatever still runs after
  // grace_ms is cut off. Returns at once; safe from any thread, including a handler; idempotent.
  void shutdown(int grace_ms);
  // Blocks until the I/O threads have exited (after shutdown, once every connection is closed).
  // Not from a handler: it would wait for its own thread.
  void wait();

 private:
  std::unique_ptr<ServerRuntime> runtime_;
};

}  // namespace opendbs::http
