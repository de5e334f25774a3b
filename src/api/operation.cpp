#include "api/operation.h"

#include <boost/json.hpp>
#include <charconv>

#include "core/errors.h"
#include "core/utf8.h"

namespace opendbs::api {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::optional<int64_t> parse_int(std::string_view text) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view text) {
  if (iequals(text, "true")) return true;
  if (iequals(text, "false")) return false;
  return std::nullopt;
}

const char* type_name(ParamType t) {
  switch (t) {
    case ParamType::string:
      return "String";
    case ParamType::integer:
      return "Integer";
    case ParamType::long_integer:
      return "Long";
    case ParamType::boolean:
      return "Boolean";
  }
  return "String";
}

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : "|") + v;
  return out;
}

}  // namespace

const std::string& Context::str(const std::string& name) const {
  static const std::string empty;
  auto it = params_.find(name);
  return it == params_.end() ? empty : it->second;
}

std::optional<std::string> Context::opt(const std::string& name) const {
  if (!has(name)) return std::nullopt;
  return params_.at(name);
}

std::optional<int64_t> Context::opt_int(const std::string& name) const {
  if (!has(name)) return std::nullopt;
  return parse_int(params_.at(name));
}

std::optional<bool> Context::opt_bool(const std::string& name) const {
  if (!has(name)) return std::nullopt;
  return parse_bool(params_.at(name));
}

core::Status validate_params(const OperationSpec& spec, const std::map<std::string, std::string>& params) {
  for (const auto& p : spec.params) {
    auto it = params.find(p.name);
    if (it == params.end() || it->second.empty()) {
      if (p.required) return core::errors::missing_parameter(p.name);
      continue;
    }
    const std::string& v = it->second;
    // JSON answers and catalog documents are UTF-8 text; a value that is not cannot be kept or quoted.
    if (!core::is_valid_utf8(v))
      return core::errors::invalid_parameter(p.name, core::to_valid_utf8(core::utf8_prefix(v, 64)), "UTF-8 text");
    switch (p.type) {
      case ParamType::integer:
      case ParamType::long_integer: {
        auto n = parse_int(v);
        if (!n) return core::errors::invalid_parameter(p.name, v, "an integer");
        if (p.min < p.max && (*n < p.min || *n > p.max))
          return core::errors::invalid_parameter(
              p.name, v, "a number from " + std::to_string(p.min) + " to " + std::to_string(p.max));
        break;
      }
      case ParamType::boolean:
        if (!parse_bool(v)) return core::errors::invalid_parameter(p.name, v, "true or false");
        break;
      case ParamType::string:
        if (v.size() > 65536)
          return core::errors::invalid_parameter(p.name, std::string(core::utf8_prefix(v, 32)) + "...", "at most 65536 characters");
        break;
    }
    if (!p.allowed.empty()) {
      bool ok = false;
      for (const auto& a : p.allowed) ok = ok || iequals(a, v);
      if (!ok) return core::errors::invalid_parameter(p.name, v, "one of " + join(p.allowed));
    }
  }
  return {};
}

const OperationSpec* find_operation(std::string_view action) {
  for (const auto& op : operations())
    if (op.name == action) return &op;
  return nullptr;
}

boost::json::object schema_json() {
  boost::json::array ops;
  for (const auto& op : operations()) {
    boost::json::array params;
    for (const auto& p : op.params) {
      boost::json::object o{
          {"Name", p.name}, {"Type", type_name(p.type)}, {"Required", p.required}, {"Description", p.description}};
      if (!p.allowed.empty()) {
        boost::json::array a;
        for (const auto& v : p.allowed) a.emplace_back(v);
        o["Enum"] = std::move(a);
      }
      if (p.min < p.max) {
        o["Minimum"] = p.min;
        o["Maximum"] = p.max;
      }
      params.push_back(std::move(o));
    }
    const char* support = op.support == Support::implemented ? "implemented"
                          : op.support == Support::recorded  ? "recorded"
                                                             : "not_applicable";
    ops.push_back(boost::json::object{{"Name", op.name},
                                      {"Summary", op.summary},
                                      {"Support", support},
                                      {"PlanScoped", op.plan_scoped},
                                      {"Parameters", std::move(params)}});
  }
  return boost::json::object{{"Version", "2019-03-06"}, {"Operations", std::move(ops)}};
}

}  // namespace opendbs::api
