// An API operation: its name, RAM scope, parameter schema and handler. The registry of all 36 DBS
// operations is built from these; the dispatcher validates every request against the schema before
// a handler runs, and the CLI and the console's API Explorer render their forms from the same schema.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/store.h"
#include "core/clock.h"
#include "core/result.h"
#include "iam/directory.h"
#include "iam/secret_box.h"

namespace opendbs::jobs {
class Runtime;
}

namespace opendbs::api {

enum class ParamType { string, integer, long_integer, boolean };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::string;
  bool required = false;
  std::vector<std::string> allowed;  // enumeration (matched case-insensitively), empty = free
  std::string description;
  int64_t min = 0, max = 0;  // for numbers, when min < max
};

enum class Support { implemented, recorded, not_applicable };

// What a node offers its operations.
struct Services {
  catalog::Store& store;
  iam::SecretBox& secrets;
  jobs::Runtime* jobs = nullptr;  // null in tests that exercise validation only
  const core::Clock& clock;
  std::string node_id;  // this node's BackupGatewayId
  std::string region = "cn-hangzhou";
  std::string restore_root;  // opendbs serve --restore-root: RestoreDir must be below it ("" = anywhere)
};

class Context {
 public:
  Context(Services& services, const iam::Principal& caller, std::string request_id,
          std::map<std::string, std::string> params)
      : services(services), caller(caller), request_id(std::move(request_id)), params_(std::move(params)) {}

  Services& services;
  const iam::Principal& caller;
  const std::string request_id;

  bool has(const std::string& name) const { return params_.count(name) && !params_.at(name).empty(); }
  // The raw value ("" when absent). Validation against the schema happened before the handler ran.
  const std::string& str(const std::string& name) const;
  std::optional<std::string> opt(const std::string& name) const;
  std::optional<int64_t> opt_int(const std::string& name) const;
  std::optional<bool> opt_bool(const std::string& name) const;
  const std::map<std::string, std::string>& params() const { return params_; }
  int64_t now_ms() const { return services.clock.now_ms(); }

 private:
  std::map<std::string, std::string> params_;
};

using Handler = std::function<core::Result<boost::json::object>(Context&)>;

// A handler may answer {kRawMembers: "\"A\":1,\"B\":[...]"} — its members serialised already, without the
// braces — and the dispatcher splices them into the envelope (used for cached pages).
inline constexpr std::string_view kRawMembers = "_RawJsonMembers";

struct OperationSpec {
  std::string name;
  Support support = Support::implemented;
  std::string summary;       // one line, for docs/API.md, the CLI help and the API Explorer
  bool plan_scoped = false;  // RAM resource is backupplan/{BackupPlanId}
  std::vector<ParamSpec> params;
  Handler handler;
};

// Every operation, in the order of api-reference.md.
const std::vector<OperationSpec>& operations();
const OperationSpec* find_operation(std::string_view action);

// Checks presence, type, range and enumeration of every parameter the spec names; the first problem
// is returned as MissingParameter / InvalidParameterValid naming the parameter.
core::Status validate_params(const OperationSpec& spec, const std::map<std::string, std::string>& params);

// The schema as JSON ({Operations:[{Name, Summary, Support, Parameters:[...]}]}) for the console and CLI.
boost::json::object schema_json();

}  // namespace opendbs::api
