#include "fleet.h"

#include <boost/json.hpp>
#include <thread>

#include "core/errors.h"

namespace opendbs::bench {
namespace {

using MakeCall = std::function<std::string(size_t i)>;
using OnAnswer = std::function<void(size_t i, std::string_view body)>;

// Sends `count` calls (call i made by make(i)) over up to `connections` connections; every answer
// must be a 2xx. The Summary is of the whole phase.
core::Result<Summary> run_phase(const Endpoint& endpoint, const SetupOptions& options, const std::string& name,
                                size_t count, const MakeCall& make, const OnAnswer& on_answer = {}) {
  size_t sent = 0;
  Workload w;
  w.next = [&]() -> std::optional<Outgoing> {
    if (sent == count) return std::nullopt;
    const size_t i = sent++;
    return Outgoing{make(i), static_cast<int64_t>(i)};
  };
  w.on_reply = [&](int64_t tag, int status, std::string_view body) {
    if (on_answer && status / 100 == 2) on_answer(static_cast<size_t>(tag), body);
  };
  DriveOptions o;
  o.endpoint = endpoint;
  o.connections = static_cast<int>(std::clamp<size_t>(count, 1, static_cast<size_t>(options.connections)));
  CpuMeter cpu(options.server_pid);
  cpu.start();
  const auto started = Clock::now();
  OPENDBS_ASSIGN(auto stats, drive(o, w));
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  auto summary = summarize(name, o.connections, seconds, stats);
  std::tie(summary.client_cores, summary.server_cores) = cpu.stop();
  if (stats.failed > 0)
    return core::errors::io("setup " + name + ": " + std::to_string(stats.failed) + " calls failed; first: " +
                            stats.first_failure);
  return summary;
}

core::Result<boost::json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return core::errors::io("not a JSON object: " + std::string(body.substr(0, 200)));
  return std::move(v.as_object());
}

// One signed call that must succeed; its JSON answer.
core::Result<boost::json::object> call(const Endpoint& endpoint, const Signer& signer, const std::string& action,
                                       const api::ParamList& params) {
  OPENDBS_ASSIGN(auto answer, exchange(endpoint, signer.call(action, params)));
  if (answer.first != 200)
    return core::errors::io(action + " answered HTTP " + std::to_string(answer.first) + ": " + answer.second);
  return parse_object(answer.second);
}

// Sum of the opendbs_tasks gauges for queued and running tasks in a /metrics page.
int64_t busy_tasks(std::string_view metrics) {
  int64_t busy = 0;
  size_t at = 0;
  while (at < metrics.size()) {
    const size_t end = std::min(metrics.find('\n', at), metrics.size());
    const std::string_view line = metrics.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with("opendbs_tasks{")) continue;
    if (line.find("state=\"queued\"") == std::string_view::npos &&
        line.find("state=\"running\"") == std::string_view::npos)
      continue;
    busy += static_cast<int64_t>(std::stod(std::string(line.substr(line.rfind(' ') + 1))));
  }
  return busy;
}

}  // namespace

core::Result<std::vector<Summary>> create_fleet(const Endpoint& endpoint, const Signer& signer,
                                                const SetupOptions& options) {
  std::vector<Summary> phases;
  const size_t plans = static_cast<size_t>(std::max(0, options.plans));
  std::vector<std::string> ids(plans);
  std::string bad_answer;
  OPENDBS_ASSIGN(auto created, run_phase(
      endpoint, options, "CreateBackupPlan", plans,
      [&](size_t) {
        return signer.call("CreateBackupPlan",
                           {{"BackupMethod", "logical"}, {"DatabaseType", "MySQL"}, {"InstanceClass", "small"}});
      },
      [&](size_t i, std::string_view body) {
        auto answer = parse_object(body);
        if (answer.ok() && answer->contains("BackupPlanId") && answer->at("BackupPlanId").is_string())
          ids[i] = std::string(answer->at("BackupPlanId").as_string());
        else if (bad_answer.empty())
          bad_answer = std::string(body.substr(0, 300));
      }));
  if (!bad_answer.empty()) return core::errors::io("CreateBackupPlan answered without a BackupPlanId: " + bad_answer);
  phases.push_back(std::move(created));

  const size_t paused = std::min(plans, static_cast<size_t>(std::max(0, options.paused)));
  OPENDBS_ASSIGN(auto configured, run_phase(endpoint, options, "ConfigureBackupPlan", paused, [&](size_t i) {
    return signer.call("ConfigureBackupPlan",
                       {{"BackupPlanId", ids[i]}, {"BackupPlanName", "bench-" + std::to_string(i)},
                        {"SourceEndpointInstanceType", "Other"}, {"SourceEndpointIP", "127.0.0.1"},
                        {"SourceEndpointPort", "3306"}, {"SourceEndpointUserName", "bench"},
                        {"SourceEndpointPassword", "bench-password"}, {"BackupPeriod", "Monday"},
                        {"BackupStartTime", "01:00"}});
  }));
  phases.push_back(std::move(configured));
  OPENDBS_ASSIGN(auto started, run_phase(endpoint, options, "StartBackupPlan", paused, [&](size_t i) {
    return signer.call("StartBackupPlan", {{"BackupPlanId", ids[i]}});
  }));
  phases.push_back(std::move(started));
  OPENDBS_ASSIGN(auto stopped, run_phase(endpoint, options, "StopBackupPlan PLAN (running->pause)", paused,
                                         [&](size_t i) {
                                           return signer.call("StopBackupPlan",
                                                              {{"BackupPlanId", ids[i]}, {"StopMethod", "PLAN"}});
                                         }));
  phases.push_back(std::move(stopped));
  return phases;
}

core::Status settle(const Endpoint& endpoint, int timeout_s) {
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    OPENDBS_ASSIGN(auto answer, exchange(endpoint, plain_get(endpoint.host_header(), "/metrics")));
    if (answer.first != 200) return core::errors::io("/metrics answered HTTP " + std::to_string(answer.first));
    const int64_t busy = busy_tasks(answer.second);
    if (busy == 0) return {};
    if (Clock::now() > deadline)
      return core::errors::io(std::to_string(busy) + " tasks still queued or running after " +
                              std::to_string(timeout_s) + " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

core::Result<Fleet> discover(const Endpoint& endpoint, const Signer& signer) try {
  Fleet fleet;
  constexpr int kPage = 100;
  for (int page = 0;; ++page) {
    OPENDBS_ASSIGN(auto answer, call(endpoint, signer, "DescribeBackupPlanList",
                                     {{"BackupPlanStatus", "pause"},
                                      {"PageSize", std::to_string(kPage)},
                                      {"PageNum", std::to_string(page)}}));
    const auto& items = answer.at("Items").at("BackupPlanDetail").as_array();
    for (const auto& item : items)
      fleet.paused_plan_ids.emplace_back(item.at("BackupPlanId").as_string());
    if (items.size() < kPage) break;
  }
  OPENDBS_ASSIGN(auto all, call(endpoint, signer, "DescribeBackupPlanList", {{"PageSize", "1"}}));
  fleet.visible_plans = all.at("TotalElements").to_number<int64_t>();
  return fleet;
} catch (const std::exception& e) {  // an answer without the fields DescribeBackupPlanList documents
  return core::errors::io(std::string("DescribeBackupPlanList answered unexpectedly: ") + e.what());
}

}  // namespace opendbs::bench
