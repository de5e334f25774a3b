// Summaries of measured runs and the table the benchmark prints: throughput, latency percentiles,
// the CPU the load generator and the node used while it ran.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "load_driver.h"

namespace opendbs::bench {

// CPU time of this process and (when pid > 0) of the node, between start() and stop().
class CpuMeter {
 public:
  explicit CpuMeter(int server_pid) : server_pid_(server_pid) {}
  void start();
  // Cores used on average over the wall time since start(): {client, server}; server < 0 if unknown.
  std::pair<double, double> stop();

 private:
  int server_pid_;
  Clock::time_point wall_;
  double client_s_ = 0, server_s_ = -1;
};

struct Summary {
  std::string name;
  int connections = 0;
  double seconds = 0;  // measured window
  int64_t ok = 0, failed = 0;
  double ok_per_second = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  double client_cores = 0, server_cores = -1;
  std::string first_failure;
};

// Sorts stats.latencies_us in place.
Summary summarize(std::string name, int connections, double seconds, DriveStats& stats);

void print_table(std::FILE* out, const std::string& title, const std::vector<Summary>& rows);

}  // namespace opendbs::bench
