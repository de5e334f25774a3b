// Test support: an HTTP/1.1 proxy between S3Backend and s3rver that misbehaves on request, so that
// retries are tested against real sockets and real libcurl errors rather than against a mock.
//
// Each connection carries one request (the proxy answers with "Connection: close"). Faults queued by
// inject() apply to the next requests in arrival order, one fault per request; then requests pass.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace opendbs::repo::testing {

enum class Fault {
  pass,            // forward to the upstream server and relay its answer
  slow_down,       // answer 503 with an S3 <Error><Code>SlowDown</Code>
  internal_error,  // answer 500 with an S3 <Error><Code>InternalError</Code>
  truncate_body,   // forward, then relay the answer's headers and only half of its body
  reset,           // close the connection without answering
  stall,           // accept the request, then send nothing for two seconds
};

class FaultProxy {
 public:
  explicit FaultProxy(int upstream_port);  // upstream on 127.0.0.1; the proxy listens on 127.0.0.1:0
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  void inject(std::vector<Fault> faults);
  int request_count() const { return request_count_.load(); }

 private:
  void accept_loop();
  void serve(int client);
  Fault next_fault();

  const int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> request_count_{0};
  std::mutex mutex_;
  std::deque<Fault> faults_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace opendbs::repo::testing
