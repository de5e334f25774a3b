#include "cli/call_command.h"

#include <boost/json.hpp>
#include <iostream>

#include "api/operation.h"
#include "cli/api_client.h"
#include "cli/output_format.h"
#include "core/errors.h"

namespace opendbs::cli {
namespace {

struct CallArgs {
  ClientConfig client;
  std::string action, output = "json";
  bool help = false, list = false;
};

std::string operation_help(const api::OperationSpec& op) {
  std::string out = "opendbs call " + op.name + " — " + op.summary + "\n\nParameters:\n";
  for (const auto& p : op.params) {
    out += "  --" + p.name + (p.required ? " (required)" : "") + "  " + p.description;
    if (!p.allowed.empty()) {
      out += " [";
      for (size_t i = 0; i < p.allowed.size(); ++i) out += (i ? "|" : "") + p.allowed[i];
      out += "]";
    }
    out += "\n";
  }
  return out;
}

// --Name value / --Name=value pairs from the arguments CLI11 did not recognise, checked against the schema.
core::Result<api::ParamList> parse_params(const api::OperationSpec& op, const std::vector<std::string>& extras) {
  api::ParamList params;
  for (size_t i = 0; i < extras.size(); ++i) {
    const std::string& arg = extras[i];
    if (arg.rfind("--", 0) != 0)
      return core::make_error("InvalidParameter", "unexpected argument \"" + arg + "\": parameters are --Name value");
    std::string name = arg.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= extras.size()) return core::make_error("InvalidParameter", "--" + name + " needs a value");
      value = extras[++i];
    }
    bool known = false;
    for (const auto& p : op.params) known = known || p.name == name;
    if (!known)
      return core::make_error("InvalidParameter", op.name + " has no parameter --" + name +
                                                      " (see: opendbs call " + op.name + " --help)");
    params.emplace_back(name, value);
  }
  for (const auto& p : op.params) {
    if (!p.required) continue;
    bool given = false;
    for (const auto& [k, v] : params) given = given || k == p.name;
    if (!given) return core::errors::missing_parameter(p.name);
  }
  return params;
}

int run_call(CallArgs& a, const std::vector<std::string>& extras) {
  if (a.list || a.action.empty()) {
    for (const auto& op : api::operations()) std::cout << op.name << "  " << op.summary << "\n";
    return a.list ? 0 : 2;
  }
  const api::OperationSpec* op = api::find_operation(a.action);
  if (!op) {
    std::cerr << "opendbs call: " << a.action << " is not a DBS 2019-03-06 action (opendbs call --list)\n";
    return 2;
  }
  if (a.help) {
    std::cout << operation_help(*op);
    return 0;
  }
  auto fail = [](const core::Error& e) {
    std::cerr << "opendbs call: " << e.code << ": " << e.message << "\n";
    return core::error_kind(e.code).exit_code;
  };
  auto params = parse_params(*op, extras);
  if (!params.ok()) return fail(params.error());
  auto st = resolve_client_config(a.client);
  if (!st.ok()) return fail(st.error());
  auto answer = call_api(a.client, a.action, *params);
  if (!answer.ok()) return fail(answer.error());
  const bool failed = answer->http_status >= 400 || answer->body.contains("Code");
  auto& out = failed ? std::cerr : std::cout;
  out << (a.output == "table" && !failed ? as_table(answer->body) : pretty_json(answer->body));
  if (!failed) return 0;
  const auto code = answer->body.contains("Code") ? std::string(answer->body.at("Code").as_string()) : "InternalError";
  return core::error_kind(code).exit_code;
}

}  // namespace

void add_call_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<CallArgs>();
  auto* call = app.add_subcommand("call", "Call any DBS action, signed: opendbs call ACTION --Param value ...");
  call->allow_extras();
  call->set_help_flag();
  call->add_flag("-h,--help", a->help, "Help for ACTION (its parameters)");
  call->add_flag("--list", a->list, "List the actions");
  call->add_option("ACTION", a->action, "The action, e.g. StopBackupPlan");
  call->add_option("--endpoint", a->client.endpoint, "Node URL (default: OPENDBS_ENDPOINT or http://127.0.0.1:8080)");
  call->add_option("--access-key-id", a->client.access_key_id, "Default: ALIBABA_CLOUD_ACCESS_KEY_ID");
  call->add_option("--access-key-secret", a->client.access_key_secret, "Default: ALIBABA_CLOUD_ACCESS_KEY_SECRET");
  call->add_option("--profile", a->client.profile, "Profile in ~/.opendbs/config.json or ~/.aliyun/config.json");
  call->add_option("--signature", a->client.signature, "v3 (default) or v1");
  call->add_option("--output", a->output, "json (default) or table")->check(CLI::IsMember({"json", "table"}));
  call->add_flag("--insecure", a->client.insecure, "Do not verify the node's TLS certificate");
  call->add_option("--ca-file", a->client.ca_file, "Trust this CA (e.g. DATA_DIR/tls/cert.pem)");
  call->callback([a, call, &exit_code] { exit_code = run_call(*a, call->remaining()); });
}

}  // namespace opendbs::cli
