#include "cli/node_client.h"

#include <boost/json.hpp>
#include <iostream>

#include "core/errors.h"

namespace opendbs::cli {

void add_client_options(CLI::App* command, ClientOptions& o) {
  const char* group = "Connection";
  command->add_option("--endpoint", o.config.endpoint, "Node URL (default: OPENDBS_ENDPOINT, the profile, or http://127.0.0.1:8080)")
      ->group(group);
  command->add_option("--access-key-id", o.config.access_key_id, "Default: ALIBABA_CLOUD_ACCESS_KEY_ID or the profile")
      ->group(group);
  command->add_option("--access-key-secret", o.config.access_key_secret,
                      "Default: ALIBABA_CLOUD_ACCESS_KEY_SECRET or the profile")
      ->group(group);
  command->add_option("--profile", o.config.profile, "Profile in ~/.opendbs/config.json or ~/.aliyun/config.json")
      ->group(group);
  command->add_option("--signature", o.config.signature, "v3 (default) or v1")
      ->check(CLI::IsMember({"v3", "v1"}))
      ->group(group);
  command->add_flag("--insecure", o.config.insecure, "Do not verify the node's TLS certificate")->group(group);
  command->add_option("--ca-file", o.config.ca_file, "Trust this CA (e.g. DATA_DIR/tls/cert.pem)")->group(group);
  command->add_option("--output", o.output, "human (tables, local times; default) or json (for scripts)")
      ->check(CLI::IsMember({"human", "json"}))
      ->group(group);
}

core::Result<NodeClient> NodeClient::connect(ClientConfig config) {
  OPENDBS_TRY(resolve_client_config(config));
  return NodeClient(std::move(config));
}

core::Result<boost::json::object> NodeClient::call(const std::string& action, const api::ParamList& params) const {
  OPENDBS_ASSIGN(auto answer, call_api(config_, action, params));
  if (answer.http_status < 400 && !answer.body.contains("Code")) return std::move(answer.body);
  const std::string code = answer.body.contains("Code") ? text(answer.body, "Code") : "InternalError";
  std::string message = text(answer.body, "Message");
  if (message.empty()) message = action + " failed with HTTP " + std::to_string(answer.http_status);
  const std::string request_id = text(answer.body, "RequestId");
  if (!request_id.empty()) message += " (RequestId " + request_id + ")";
  return core::Error{code, static_cast<int>(answer.http_status), message};
}

int report_error(const std::string& command, const core::Error& error) {
  std::cerr << "opendbs " << command << ": " << error.code << ": " << error.message << "\n";
  const int code = core::error_kind(error.code).exit_code;
  if (code == 3 && error.code != "IncompleteSignature")
    std::cerr << "hint: check the AccessKey (--profile, ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET) and the node (--endpoint, "
                 "OPENDBS_ENDPOINT)\n";
  return code;
}

std::string text(const boost::json::object& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end()) return "";
  if (it->value().is_string()) return std::string(it->value().as_string());
  if (it->value().is_null()) return "";
  return boost::json::serialize(it->value());
}

int64_t number(const boost::json::object& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end()) return 0;
  const auto& v = it->value();
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.as_uint64());
  if (v.is_double()) return static_cast<int64_t>(v.as_double());
  if (v.is_string()) {
    try {
      return std::stoll(std::string(v.as_string()));
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

bool flag(const boost::json::object& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end()) return false;
  if (it->value().is_bool()) return it->value().as_bool();
  return it->value().is_string() && it->value().as_string() == "true";
}

boost::json::array items(const boost::json::object& answer, const char* name) {
  auto it = answer.find("Items");
  if (it == answer.end() || !it->value().is_object()) return {};
  auto inner = it->value().as_object().find(name);
  if (inner == it->value().as_object().end() || !inner->value().is_array()) return {};
  return inner->value().as_array();
}

}  // namespace opendbs::cli
