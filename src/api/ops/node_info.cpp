// Operations about the service itself: regions, this node as a backup gateway, its addresses.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <boost/json.hpp>

#include "api/ops/common.h"
#include "api/ops/families.h"
#include "api/ops/param_lists.h"
#include "core/errors.h"

namespace opendbs::api::ops {
namespace {

using boost::json::array;
using boost::json::object;
using catalog::Kind;

// A node whose heartbeat is older than this is shown OFFLINE.
constexpr int64_t kHeartbeatTimeoutMs = 30000;

std::vector<std::string> local_ipv4_addresses(bool loopback) {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (auto* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
    const bool is_loopback = std::string_view(buf).starts_with("127.");
    if (is_loopback == loopback) out.emplace_back(buf);
  }
  freeifaddrs(list);
  return out;
}

core::Result<object> describe_regions(Context& ctx) {
  return object{{"Regions", object{{"RegionCode", array{boost::json::value(ctx.services.region)}}}}};
}

core::Result<object> describe_node_cidr_list(Context&) {
  array intranet, internet;
  for (const auto& ip : local_ipv4_addresses(false)) intranet.emplace_back(ip + "/32");
  for (const auto& ip : local_ipv4_addresses(true)) intranet.emplace_back(ip + "/32");
  return object{{"IntranetIPs", object{{"IntranetIP", std::move(intranet)}}},
                {"InternetIPs", object{{"InternetIP", std::move(internet)}}}};
}

core::Result<object> describe_backup_gateway_list(Context& ctx) {
  const Page page = page_of(ctx);
  catalog::Query q{Kind::node};
  q.offset = page.num * page.size;
  q.limit = page.size;
  // The catalog filters on one value per field: of a list of identifiers, the first is used.
  if (auto ids = split_list(ctx.str("Identifier")); !ids.empty()) q.doc_equals.push_back({"Identifier", ids.front()});
  int64_t total = 0;
  array items;
  OPENDBS_TRY(ctx.services.store.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(total, tx.count(q));
    OPENDBS_ASSIGN(auto nodes, tx.list(q));
    for (const auto& n : nodes) {
      auto item = public_view(n.doc);
      const bool fresh = ctx.now_ms() - n.doc.at("LastHeartbeatTime").as_int64() <= kHeartbeatTimeoutMs;
      item["BackupGatewayStatus"] = n.state == "stopped" ? "STOPPED" : fresh ? "ONLINE" : "OFFLINE";
      items.push_back(std::move(item));
    }
    return {};
  }));
  return page_answer(page, total, "BackupGateway", std::move(items));
}

core::Result<object> initialize_service_linked_role(Context&) {
  // Non-standard envelope (api-reference.md §2.6): Success is a string. A self-hosted node needs no role.
  return object{{"Success", "true"}, {"Data", ""}, {"ErrorCode", ""}, {"ErrMessage", ""}};
}

core::Result<object> not_applicable(const std::string& why) {
  return core::make_error("OperationDenied.NotApplicable", why);
}

}  // namespace

std::vector<OperationSpec> node_operations() {
  const std::string agent_why =
      "Listing databases through a separate backup gateway agent does not apply to opendbs: the node itself is the "
      "gateway. Name the databases in BackupObjects of ConfigureBackupPlan.";
  return {
      {"DescribeRegions", Support::implemented, "The node's region.", false, common_params(), describe_regions},
      {"DescribeNodeCidrList", Support::implemented, "Addresses the node connects from (to allow in firewalls).", false,
       concat({{str_param("Region", true, "Region")}, common_params()}), describe_node_cidr_list},
      {"DescribeBackupGatewayList", Support::implemented, "The nodes of this service, with heartbeat and status.", false,
       concat({{str_param("Region", true, "Region"), str_param("Identifier", false, "Node identifier"),
                int_param("PageNum", false, "Page number from 0", 0, 1000000),
                int_param("PageSize", false, "Items per page (1-100)", 1, 100)},
               common_params()}),
       describe_backup_gateway_list},
      {"CreateGetDBListFromAgentTask", Support::not_applicable, agent_why, false,
       concat({{long_param("BackupGatewayId", false, "Gateway"), str_param("DatabaseType", false, "Engine"),
                str_param("SourceEndpointIP", false, "Host"), int_param("SourceEndpointPort", false, "Port", 1, 65535),
                str_param("SourceEndpointRegion", false, "Region")},
               common_params()}),
       [agent_why](Context&) { return not_applicable(agent_why); }},
      {"GetDBListFromAgent", Support::not_applicable, agent_why, false,
       concat({{long_param("BackupGatewayId", false, "Gateway"), long_param("TaskId", false, "Task"),
                str_param("SourceEndpointRegion", false, "Region")},
               common_params()}),
       [agent_why](Context&) { return not_applicable(agent_why); }},
      {"DescribeDLAService", Support::not_applicable,
       "Data Lake Analytics is an Alibaba Cloud service; a self-hosted node has none.", true,
       concat({{str_param("BackupPlanId", true, "The backup plan")}, common_params()}),
       [](Context&) { return not_applicable("Data Lake Analytics is an Alibaba Cloud service; opendbs has none."); }},
      {"InitializeDbsServiceLinkedRole", Support::implemented,
       "Succeeds: a self-hosted node needs no service-linked role.", false, {}, initialize_service_linked_role},
  };
}

}  // namespace opendbs::api::ops
