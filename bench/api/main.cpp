// opendbs-bench-api: the API load generator of bench/api (see README.md there).
//
// Against a running node: optionally creates the plans (setup), then runs each measured workload for
// --seconds after --warmup seconds on --connections keep-alive connections, every API request signed
// afresh, and prints throughput, latency percentiles, the signed/healthz ratios and the verdict on
// the targets.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include "core/errors.h"
#include "fleet.h"
#include "load_driver.h"
#include "report.h"
#include "requests.h"

namespace opendbs::bench {
namespace {

constexpr double kTargetPerSecond = 5000;
constexpr double kTargetP99Ms = 20;

struct Options {
  std::string endpoint = "127.0.0.1:8080";
  std::string access_key_id, access_key_secret;
  std::string signature = "v1";
  std::string method = "POST";
  std::string stop_method = "PLAN";
  std::vector<std::string> workloads = {"setup", "stop", "list", "healthz"};
  int plans = 10000, paused = 300, page_size = 30;
  int connections = 64, threads = 1;
  double seconds = 10, warmup = 1;
  int settle_timeout = 300;
  int server_pid = 0;
};

core::Result<Endpoint> parse_endpoint(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return core::errors::io("--endpoint wants HOST:PORT, got " + text);
  Endpoint e;
  e.host = text.substr(0, colon);
  const int port = std::atoi(text.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return core::errors::io("--endpoint has a bad port: " + text);
  e.port = static_cast<uint16_t>(port);
  return e;
}

// One measured workload: --warmup seconds unrecorded, then --seconds recorded.
core::Result<Summary> measure(const Options& o, const Endpoint& endpoint, const std::string& name,
                              const std::function<Workload(int thread)>& workload_for) {
  DriveOptions d;
  d.endpoint = endpoint;
  d.connections = o.connections;
  d.measure_from = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup));
  d.until = d.measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  CpuMeter cpu(o.server_pid);
  cpu.start();
  OPENDBS_ASSIGN(auto stats, drive_threads(d, o.threads, workload_for));
  auto summary = summarize(name, o.connections, o.seconds, stats);
  std::tie(summary.client_cores, summary.server_cores) = cpu.stop();
  std::fprintf(stderr, "bench: %s: %.0f ok/s\n", name.c_str(), summary.ok_per_second);
  return summary;
}

// A random-choice workload: every request made by make(rng) of its thread.
std::function<Workload(int)> random_workload(std::function<std::string(std::mt19937_64&)> make) {
  return [make](int thread) {
    auto rng = std::make_shared<std::mt19937_64>(0x0bdb5 + thread);
    Workload w;
    w.next = [make, rng]() -> std::optional<Outgoing> { return Outgoing{make(*rng), 0}; };
    return w;
  };
}

void print_verdict(const std::vector<Summary>& rows) {
  const Summary* healthz = nullptr;
  for (const auto& r : rows)
    if (r.name.starts_with("GET /healthz")) healthz = &r;
  std::printf("\n");
  for (const auto& r : rows) {
    if (&r == healthz) continue;
    const bool met = r.failed == 0 && r.ok_per_second >= kTargetPerSecond && r.p99_ms <= kTargetP99Ms;
    std::printf("%-34s %s (target: >= %.0f ok/s with p99 <= %.0f ms, no errors)", r.name.c_str(),
                met ? "MET    " : "NOT MET", kTargetPerSecond, kTargetP99Ms);
    if (healthz && healthz->ok_per_second > 0)
      std::printf("; signed/healthz = %.2f", r.ok_per_second / healthz->ok_per_second);
    std::printf("\n");
  }
}

core::Status run(const Options& o) {
  OPENDBS_ASSIGN(const Endpoint endpoint, parse_endpoint(o.endpoint));
  const std::set<std::string> wanted(o.workloads.begin(), o.workloads.end());
  Signer signer{endpoint.host_header(), o.access_key_id, o.access_key_secret,
                o.signature == "v3" ? Signature::v3 : Signature::v1, o.method == "POST"};
  const std::string style = std::string(o.signature == "v3" ? "V3 " : "V1 ") + o.method;

  if (wanted.contains("setup")) {
    SetupOptions so{o.plans, o.paused, o.connections, o.server_pid};
    std::fprintf(stderr, "bench: creating %d plans, %d of them configured, started and paused...\n", o.plans, o.paused);
    OPENDBS_ASSIGN(auto phases, create_fleet(endpoint, signer, so));
    print_table(stdout, "setup (" + style + ", every call writes the catalog)", phases);
    std::fprintf(stderr, "bench: waiting for the tasks queued by setup to finish...\n");
    OPENDBS_TRY(settle(endpoint, o.settle_timeout));
  }

  std::vector<Summary> rows;
  if (wanted.contains("stop") || wanted.contains("list")) {
    OPENDBS_ASSIGN(const Fleet fleet, discover(endpoint, signer));
    std::printf("\ncatalog: %lld visible plans, %zu paused\n", static_cast<long long>(fleet.visible_plans),
                fleet.paused_plan_ids.size());
    if (wanted.contains("stop")) {
      if (fleet.paused_plan_ids.empty()) return core::errors::io("no paused plan to stop: run setup first");
      const auto& ids = fleet.paused_plan_ids;
      OPENDBS_ASSIGN(auto s, measure(o, endpoint, "StopBackupPlan " + o.stop_method + " (" + style + ")",
                                     random_workload([&](std::mt19937_64& rng) {
                                       const auto& id = ids[std::uniform_int_distribution<size_t>(0, ids.size() - 1)(rng)];
                                       return signer.call("StopBackupPlan",
                                                          {{"BackupPlanId", id}, {"StopMethod", o.stop_method}});
                                     })));
      rows.push_back(std::move(s));
    }
    if (wanted.contains("list")) {
      const int64_t pages = std::max<int64_t>(1, (fleet.visible_plans + o.page_size - 1) / o.page_size);
      OPENDBS_ASSIGN(auto s, measure(o, endpoint, "DescribeBackupPlanList (" + style + ")",
                                     random_workload([&](std::mt19937_64& rng) {
                                       const auto page = std::uniform_int_distribution<int64_t>(0, pages - 1)(rng);
                                       return signer.call("DescribeBackupPlanList",
                                                          {{"PageSize", std::to_string(o.page_size)},
                                                           {"PageNum", std::to_string(page)}});
                                     })));
      rows.push_back(std::move(s));
    }
  }
  if (wanted.contains("healthz")) {
    const std::string wire = plain_get(endpoint.host_header(), "/healthz");
    OPENDBS_ASSIGN(auto s, measure(o, endpoint, "GET /healthz (unsigned)",
                                   random_workload([&](std::mt19937_64&) { return wire; })));
    rows.push_back(std::move(s));
  }
  if (rows.empty()) return {};
  char title[160];
  std::snprintf(title, sizeof title, "measured: %.0f s each after %.0f s warm-up, %d connections on %d client thread(s)",
                o.seconds, o.warmup, o.connections, o.threads);
  print_table(stdout, title, rows);
  print_verdict(rows);
  return {};
}

}  // namespace
}  // namespace opendbs::bench

int main(int argc, char** argv) {
  using opendbs::bench::Options;
  Options o;
  if (const char* id = std::getenv("OPENDBS_ROOT_ACCESS_KEY_ID")) o.access_key_id = id;
  if (const char* secret = std::getenv("OPENDBS_ROOT_ACCESS_KEY_SECRET")) o.access_key_secret = secret;
  CLI::App app{"opendbs-bench-api: signed DBS API load against a running opendbs node"};
  app.add_option("--endpoint", o.endpoint, "HOST:PORT of the node's plain HTTP listener (IPv4)")->capture_default_str();
  app.add_option("--access-key-id", o.access_key_id, "AccessKeyId (default $OPENDBS_ROOT_ACCESS_KEY_ID)");
  app.add_option("--access-key-secret", o.access_key_secret, "AccessKeySecret (default $OPENDBS_ROOT_ACCESS_KEY_SECRET)");
  app.add_option("--workloads", o.workloads, "Any of setup, stop, list, healthz (in that order)")
      ->delimiter(',')
      ->check(CLI::IsMember({"setup", "stop", "list", "healthz"}))
      ->capture_default_str();
  app.add_flag_callback("--healthz", [&o] { o.workloads = {"healthz"}; }, "Only the unsigned GET /healthz workload");
  app.add_option("--plans", o.plans, "Plans created by setup")->capture_default_str()->check(CLI::Range(1, 10000000));
  app.add_option("--paused", o.paused, "Of those, plans configured, started and paused (StopBackupPlan targets)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_option("--connections,-c", o.connections, "Keep-alive connections")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--threads", o.threads, "Client threads driving the connections")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--seconds", o.seconds, "Measured seconds per workload")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup, "Unmeasured seconds before each workload")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--signature", o.signature, "v1 (HMAC-SHA1) or v3 (ACS3-HMAC-SHA256)")
      ->capture_default_str()
      ->check(CLI::IsMember({"v1", "v3"}));
  app.add_option("--method", o.method, "POST (V1: parameters in a form body) or GET (in the query)")
      ->capture_default_str()
      ->check(CLI::IsMember({"POST", "GET"}));
  app.add_option("--stop-method", o.stop_method, "StopMethod of the StopBackupPlan workload")
      ->capture_default_str()
      ->check(CLI::IsMember({"PLAN", "ALL"}));
  app.add_option("--page-size", o.page_size, "PageSize of the DescribeBackupPlanList workload")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--settle-timeout", o.settle_timeout, "Seconds to wait for setup's tasks to finish")->capture_default_str();
  app.add_option("--server-pid", o.server_pid, "The node's pid, for its CPU use (cpu srv column)");
  CLI11_PARSE(app, argc, argv);
  if (o.access_key_id.empty() || o.access_key_secret.empty()) {
    std::fprintf(stderr, "opendbs-bench-api: give --access-key-id and --access-key-secret (or the environment)\n");
    return 2;
  }
  auto status = opendbs::bench::run(o);
  if (!status.ok()) {
    std::fprintf(stderr, "opendbs-bench-api: %s\n", status.error().message.c_str());
    return 1;
  }
  return 0;
}
