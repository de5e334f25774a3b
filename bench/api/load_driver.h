// A closed-loop HTTP/1.1 load driver on plain epoll sockets: N keep-alive connections, each sending
// its next request as soon as the previous response has been read whole. One call of drive() runs
// on the calling thread; drive_threads() splits the connections over several threads.
//
// Latency is measured from just before the request's first byte is written to the moment its
// response has been read completely; building (and signing) the request happens before the clock
// starts, so it costs throughput but not latency. Being closed-loop, a slow server slows the
// offered load down with it: the numbers are "what N busy clients get", not an open-loop arrival rate.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace opendbs::bench {

using Clock = std::chrono::steady_clock;

struct Endpoint {
  std::string host = "127.0.0.1";  // an IPv4 address
  uint16_t port = 8080;
  std::string host_header() const { return host + ":" + std::to_string(port); }
};

// One request: its bytes on the wire and a tag that comes back with its response.
struct Outgoing {
  std::string wire;
  int64_t tag = 0;
};

// What one thread of the driver sends and what it does with the answers.
struct Workload {
  // The next request, or nullopt when there is nothing more to send (that connection goes idle).
  std::function<std::optional<Outgoing>()> next;
  // Called for every response (optional). The body is valid during the call only.
  std::function<void(int64_t tag, int status, std::string_view body)> on_reply;
};

struct DriveOptions {
  Endpoint endpoint;
  int connections = 64;
  // Responses completed in [measure_from, until) are counted; no request is sent at or after `until`.
  // Defaults: measure everything, stop only when the workload runs dry.
  Clock::time_point measure_from = Clock::time_point::min();
  Clock::time_point until = Clock::time_point::max();
};

struct DriveStats {
  std::vector<uint32_t> latencies_us;  // of the counted responses
  int64_t ok = 0;                       // counted responses with a 2xx status
  int64_t failed = 0;                   // counted responses with any other status
  int64_t replies = 0;                  // all responses, counted or not
  std::string first_failure;            // "HTTP <status>: <body prefix>" of the first failed response

  void merge(DriveStats other);
};

// Runs the workload over `connections` connections until it runs dry or `until` passes, then waits
// for the requests in flight. A connection that fails or is closed by the server is an error.
core::Result<DriveStats> drive(const DriveOptions& options, Workload& workload);

// drive() on `threads` threads, connections split as evenly as possible; workload_for(i) gives
// thread i its own Workload (so that workloads need not be thread-safe).
core::Result<DriveStats> drive_threads(const DriveOptions& options, int threads,
                                       const std::function<Workload(int thread)>& workload_for);

// One request on a fresh connection; the status and body of its response.
core::Result<std::pair<int, std::string>> exchange(const Endpoint& endpoint, std::string wire);

}  // namespace opendbs::bench
