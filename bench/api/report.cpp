#include "report.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace opendbs::bench {
namespace {

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// utime + stime of a process (all its threads) from /proc/PID/stat; < 0 if it cannot be read.
double process_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  const size_t close_paren = line.rfind(')');  // the command name may contain spaces
  if (close_paren == std::string::npos) return -1;
  std::istringstream fields(line.substr(close_paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state; utime and stime are 14 and 15
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  return -1;
}

double percentile_ms(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)] / 1000.0;
}

}  // namespace

void CpuMeter::start() {
  wall_ = Clock::now();
  client_s_ = self_cpu_seconds();
  server_s_ = server_pid_ > 0 ? process_cpu_seconds(server_pid_) : -1;
}

std::pair<double, double> CpuMeter::stop() {
  const double wall = std::chrono::duration<double>(Clock::now() - wall_).count();
  const double client = (self_cpu_seconds() - client_s_) / wall;
  const double server_now = server_pid_ > 0 ? process_cpu_seconds(server_pid_) : -1;
  const double server = server_s_ >= 0 && server_now >= 0 ? (server_now - server_s_) / wall : -1;
  return {client, server};
}

Summary summarize(std::string name, int connections, double seconds, DriveStats& stats) {
  std::sort(stats.latencies_us.begin(), stats.latencies_us.end());
  Summary s;
  s.name = std::move(name);
  s.connections = connections;
  s.seconds = seconds;
  s.ok = stats.ok;
  s.failed = stats.failed;
  s.ok_per_second = seconds > 0 ? static_cast<double>(stats.ok) / seconds : 0;
  s.p50_ms = percentile_ms(stats.latencies_us, 0.50);
  s.p90_ms = percentile_ms(stats.latencies_us, 0.90);
  s.p99_ms = percentile_ms(stats.latencies_us, 0.99);
  s.max_ms = stats.latencies_us.empty() ? 0 : stats.latencies_us.back() / 1000.0;
  s.first_failure = stats.first_failure;
  return s;
}

void print_table(std::FILE* out, const std::string& title, const std::vector<Summary>& rows) {
  std::fprintf(out, "\n%s\n", title.c_str());
  std::fprintf(out, "%-36s %5s %8s %6s %8s %8s %8s %8s %8s %7s %7s %8s\n", "action", "conns", "ok", "errors",
               "ok/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "cpu cli", "cpu srv", "srv us/ok");
  for (const auto& r : rows) {
    // CPU of the node per answered request: the figure that least depends on what else the machine runs.
    char server[16] = "n/a", per_request[16] = "n/a";
    if (r.server_cores >= 0) {
      std::snprintf(server, sizeof server, "%.2f", r.server_cores);
      if (r.ok_per_second > 0) std::snprintf(per_request, sizeof per_request, "%.0f", r.server_cores * 1e6 / r.ok_per_second);
    }
    std::fprintf(out, "%-36s %5d %8lld %6lld %8.0f %8.2f %8.2f %8.2f %8.2f %7.2f %7s %8s\n", r.name.c_str(),
                 r.connections, static_cast<long long>(r.ok), static_cast<long long>(r.failed), r.ok_per_second,
                 r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms, r.client_cores, server, per_request);
  }
  for (const auto& r : rows)
    if (r.failed > 0) std::fprintf(out, "  %s: first failure: %s\n", r.name.c_str(), r.first_failure.c_str());
  std::fflush(out);
}

}  // namespace opendbs::bench
