#include "iam/policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <optional>

#include "core/clock.h"
#include "core/errors.h"

namespace opendbs::iam {
namespace {

namespace json = boost::json;

struct OperatorName {
  std::string_view name;
  ConditionOperator op;
};

constexpr std::array<OperatorName, 15> kOperators = {{
    {"StringEquals", ConditionOperator::string_equals},
    {"StringNotEquals", ConditionOperator::string_not_equals},
    {"StringEqualsIgnoreCase", ConditionOperator::string_equals_ignore_case},
    {"StringNotEqualsIgnoreCase", ConditionOperator::string_not_equals_ignore_case},
    {"StringLike", ConditionOperator::string_like},
    {"StringNotLike", ConditionOperator::string_not_like},
    {"IpAddress", ConditionOperator::ip_address},
    {"NotIpAddress", ConditionOperator::not_ip_address},
    {"Bool", ConditionOperator::boolean},
    {"DateEquals", ConditionOperator::date_equals},
    {"DateNotEquals", ConditionOperator::date_not_equals},
    {"DateGreaterThan", ConditionOperator::date_greater_than},
    {"DateGreaterThanEquals", ConditionOperator::date_greater_than_equals},
    {"DateLessThan", ConditionOperator::date_less_than},
    {"DateLessThanEquals", ConditionOperator::date_less_than_equals},
}};

char fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return fold(x) == fold(y); });
}

core::Error invalid(const std::string& where, const std::string& what) {
  return core::make_error("InvalidParameterValid", "The policy document is not valid: " + where + ": " + what + ".");
}

bool is_negated(ConditionOperator op) {
  using O = ConditionOperator;
  return op == O::string_not_equals || op == O::string_not_equals_ignore_case || op == O::string_not_like ||
         op == O::not_ip_address || op == O::date_not_equals;
}

bool is_date(ConditionOperator op) { return op >= ConditionOperator::date_equals; }
bool is_ip(ConditionOperator op) {
  return op == ConditionOperator::ip_address || op == ConditionOperator::not_ip_address;
}

// ISO-8601 as RAM documents it: "2024-01-15T08:30:00Z", with fractional seconds, with an offset
// ("2024-01-15T16:30:00+08:00"), or a bare date (midnight UTC).
std::optional<int64_t> parse_time(std::string_view text) {
  if (text.size() == 10) return core::parse_iso8601(std::string(text) + "T00:00:00Z");
  if (text.ends_with('Z') || text.ends_with('z'))
    return core::parse_iso8601(std::string(text.substr(0, text.size() - 1)) + "Z");
  if (text.size() < 25) return std::nullopt;
  const std::string_view offset = text.substr(text.size() - 6);
  if ((offset[0] != '+' && offset[0] != '-') || offset[3] != ':') return std::nullopt;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!digit(offset[1]) || !digit(offset[2]) || !digit(offset[4]) || !digit(offset[5])) return std::nullopt;
  const int hours = (offset[1] - '0') * 10 + (offset[2] - '0');
  const int minutes = (offset[4] - '0') * 10 + (offset[5] - '0');
  if (hours > 23 || minutes > 59) return std::nullopt;
  const auto local = core::parse_iso8601(std::string(text.substr(0, text.size() - 6)) + "Z");
  if (!local) return std::nullopt;
  const int64_t offset_ms = (hours * 60 + minutes) * 60'000LL;
  return offset[0] == '+' ? *local - offset_ms : *local + offset_ms;
}

bool in_network(const IpNetwork& network, const IpNetwork& address) {
  const int full_bytes = network.prefix_bits / 8, rest_bits = network.prefix_bits % 8;
  if (std::memcmp(network.address.data(), address.address.data(), full_bytes) != 0) return false;
  if (rest_bits == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest_bits));
  return (network.address[full_bytes] & mask) == (address.address[full_bytes] & mask);
}

// A Condition value (string, boolean or number) or a list of them, as strings.
core::Result<std::vector<std::string>> read_values(const json::value& v, const std::string& where) {
  auto one = [&](const json::value& item) -> core::Result<std::string> {
    if (item.is_string()) return std::string(item.as_string());
    if (item.is_bool()) return std::string(item.as_bool() ? "true" : "false");
    if (item.is_number()) return json::serialize(item);
    return invalid(where, "expected a string, boolean or number");
  };
  std::vector<std::string> out;
  if (!v.is_array()) {
    OPENDBS_ASSIGN(auto s, one(v));
    out.push_back(std::move(s));
    return out;
  }
  for (const auto& item : v.as_array()) {
    OPENDBS_ASSIGN(auto s, one(item));
    out.push_back(std::move(s));
  }
  if (out.empty()) return invalid(where, "expected at least one value");
  return out;
}

// Action and Resource: a non-empty string or a non-empty list of them.
core::Result<std::vector<std::string>> read_patterns(const json::object& statement, std::string_view name,
                                                     const std::string& where) {
  const json::value* v = statement.if_contains(name);
  const std::string here = where + "." + std::string(name);
  if (!v) return invalid(here, "is missing");
  std::vector<std::string> out;
  auto add = [&](const json::value& item) -> core::Status {
    if (!item.is_string() || item.as_string().empty()) return invalid(here, "expected a non-empty string");
    out.emplace_back(item.as_string());
    return core::ok_status();
  };
  if (v->is_array()) {
    for (const auto& item : v->as_array()) OPENDBS_TRY(add(item));
  } else {
    OPENDBS_TRY(add(*v));
  }
  if (out.empty()) return invalid(here, "expected at least one pattern");
  return out;
}

core::Result<ConditionKey> read_key(std::string_view name, ConditionOperator op, const std::string& where) {
  ConditionKey key;
  if (iequals(name, "acs:SourceIp")) {
    key = ConditionKey::source_ip;
  } else if (iequals(name, "acs:CurrentTime")) {
    key = ConditionKey::current_time;
  } else if (iequals(name, "acs:SecureTransport")) {
    key = ConditionKey::secure_transport;
  } else {
    return invalid(where,
                   "unsupported condition key; supported are acs:SourceIp, acs:CurrentTime, acs:SecureTransport");
  }
  if (is_ip(op) && key != ConditionKey::source_ip)
    return invalid(where, "IpAddress operators apply to acs:SourceIp only");
  if (is_date(op) && key != ConditionKey::current_time)
    return invalid(where, "Date operators apply to acs:CurrentTime only");
  if (op == ConditionOperator::boolean && key != ConditionKey::secure_transport)
    return invalid(where, "Bool applies to acs:SecureTransport only");
  return key;
}

core::Result<Condition> read_condition(ConditionOperator op, std::string_view key_name, const json::value& value,
                                       const std::string& where) {
  OPENDBS_ASSIGN(const ConditionKey key, read_key(key_name, op, where));
  OPENDBS_ASSIGN(auto values, read_values(value, where));
  Condition c{op, key, std::move(values), {}, {}};
  for (const auto& v : c.values) {
    if (is_ip(op)) {
      IpNetwork n;
      if (!parse_ip_network(v, n)) return invalid(where, "\"" + v + "\" is not an IP address or CIDR block");
      c.networks.push_back(n);
    } else if (is_date(op)) {
      const auto t = parse_time(v);
      if (!t) return invalid(where, "\"" + v + "\" is not an ISO-8601 time such as 2024-01-15T08:30:00Z");
      c.times_ms.push_back(*t);
    } else if (op == ConditionOperator::boolean && v != "true" && v != "false") {
      return invalid(where, "\"" + v + "\" is not true or false");
    }
  }
  return c;
}

core::Result<std::vector<Condition>> read_conditions(const json::value& block, const std::string& where) {
  if (!block.is_object()) return invalid(where, "expected an object of operators");
  std::vector<Condition> out;
  for (const auto& [op_name, keys] : block.as_object()) {
    const std::string op_where = where + "." + std::string(op_name);
    const auto it = std::find_if(kOperators.begin(), kOperators.end(),
                                 [&](const OperatorName& o) { return iequals(o.name, op_name); });
    if (it == kOperators.end()) return invalid(op_where, "unknown condition operator");
    if (!keys.is_object() || keys.as_object().empty()) return invalid(op_where, "expected an object of condition keys");
    for (const auto& [key_name, value] : keys.as_object()) {
      OPENDBS_ASSIGN(auto c, read_condition(it->op, key_name, value, op_where + "." + std::string(key_name)));
      out.push_back(std::move(c));
    }
  }
  return out;
}

core::Result<Statement> read_statement(const json::value& v, const std::string& where) {
  if (!v.is_object()) return invalid(where, "expected an object");
  const json::object& o = v.as_object();
  for (const auto& [name, value] : o) {
    if (name != "Effect" && name != "Action" && name != "Resource" && name != "Condition" && name != "Sid")
      return invalid(where, "element \"" + std::string(name) + "\" is not supported");
  }
  Statement s;
  const json::value* effect = o.if_contains("Effect");
  if (!effect) return invalid(where + ".Effect", "is missing; expected \"Allow\" or \"Deny\"");
  if (effect->is_string() && iequals(effect->as_string(), "Allow")) {
    s.effect = Effect::allow;
  } else if (effect->is_string() && iequals(effect->as_string(), "Deny")) {
    s.effect = Effect::deny;
  } else {
    return invalid(where + ".Effect", "expected \"Allow\" or \"Deny\"");
  }
  OPENDBS_ASSIGN(s.actions, read_patterns(o, "Action", where));
  OPENDBS_ASSIGN(s.resources, read_patterns(o, "Resource", where));
  if (const json::value* c = o.if_contains("Condition")) {
    OPENDBS_ASSIGN(s.conditions, read_conditions(*c, where + ".Condition"));
  }
  return s;
}

std::string request_value(ConditionKey key, const AccessRequest& r) {
  switch (key) {
    case ConditionKey::source_ip:
      return r.source_ip;
    case ConditionKey::current_time:
      return core::format_iso8601(r.now_ms);
    case ConditionKey::secure_transport:
      return r.secure_transport ? "true" : "false";
  }
  return {};
}

// Whether the request matches one value of the condition (before negation).
bool matches_value(const Condition& c, size_t i, const AccessRequest& r, const std::optional<IpNetwork>& source) {
  using O = ConditionOperator;
  switch (c.op) {
    case O::string_equals:
    case O::string_not_equals:
      return c.values[i] == request_value(c.key, r);
    case O::string_equals_ignore_case:
    case O::string_not_equals_ignore_case:
      return iequals(c.values[i], request_value(c.key, r));
    case O::string_like:
    case O::string_not_like:
      return wildcard_match(c.values[i], request_value(c.key, r), false);
    case O::ip_address:
    case O::not_ip_address:
      return source && in_network(c.networks[i], *source);
    case O::boolean:
      return c.values[i] == request_value(c.key, r);
    case O::date_equals:
    case O::date_not_equals:
      return r.now_ms == c.times_ms[i];
    case O::date_greater_than:
      return r.now_ms > c.times_ms[i];
    case O::date_greater_than_equals:
      return r.now_ms >= c.times_ms[i];
    case O::date_less_than:
      return r.now_ms < c.times_ms[i];
    case O::date_less_than_equals:
      return r.now_ms <= c.times_ms[i];
  }
  return false;
}

bool condition_holds(const Condition& c, const AccessRequest& r, const std::optional<IpNetwork>& source) {
  bool any = false;
  for (size_t i = 0; i < c.values.size() && !any; ++i) any = matches_value(c, i, r, source);
  return is_negated(c.op) ? !any : any;
}

bool statement_applies(const Statement& s, const AccessRequest& r, const std::optional<IpNetwork>& source) {
  auto any_match = [](const std::vector<std::string>& patterns, std::string_view text, bool ci) {
    return std::any_of(patterns.begin(), patterns.end(), [&](const auto& p) { return wildcard_match(p, text, ci); });
  };
  if (!any_match(s.actions, r.action, true) || !any_match(s.resources, r.resource, false)) return false;
  return std::all_of(s.conditions.begin(), s.conditions.end(),
                     [&](const Condition& c) { return condition_holds(c, r, source); });
}

}  // namespace

bool parse_ip_network(std::string_view text, IpNetwork& out) {
  const size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  int max_bits = 128, offset_bits = 0;
  in_addr v4;
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    out.address = {};
    out.address[10] = out.address[11] = 0xFF;
    std::memcpy(out.address.data() + 12, &v4, 4);
    max_bits = 32;
    offset_bits = 96;
  } else if (inet_pton(AF_INET6, address.c_str(), out.address.data()) != 1) {
    return false;
  }
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return false;
    bits = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      bits = bits * 10 + (c - '0');
    }
    if (bits > max_bits) return false;
  }
  out.prefix_bits = offset_bits + bits;
  return true;
}

bool wildcard_match(std::string_view pattern, std::string_view text, bool case_insensitive) {
  // Greedy matching that backtracks only to the last `*`: linear in practice, never exponential.
  size_t p = 0, t = 0, star = std::string_view::npos, star_text = 0;
  auto same = [&](char a, char b) { return case_insensitive ? fold(a) == fold(b) : a == b; };
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || same(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

core::Result<Policy> parse_policy(std::string_view text) {
  boost::system::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec) return invalid("document", "not valid JSON (" + ec.message() + ")");
  if (!doc.is_object()) return invalid("document", "expected a JSON object");
  const json::object& o = doc.as_object();
  for (const auto& [name, value] : o) {
    if (name != "Version" && name != "Statement")
      return invalid("document", "element \"" + std::string(name) + "\" is not supported");
  }
  const json::value* version = o.if_contains("Version");
  if (!version || !version->is_string() || version->as_string() != "1") return invalid("Version", "expected \"1\"");
  const json::value* statements = o.if_contains("Statement");
  if (!statements || !statements->is_array()) return invalid("Statement", "expected a list of statements");
  Policy policy;
  for (size_t i = 0; i < statements->as_array().size(); ++i) {
    OPENDBS_ASSIGN(auto s, read_statement(statements->as_array()[i], "Statement[" + std::to_string(i) + "]"));
    policy.statements.push_back(std::move(s));
  }
  return policy;
}

Decision evaluate(const std::vector<Policy>& policies, const AccessRequest& request) {
  std::optional<IpNetwork> source;
  IpNetwork parsed;
  if (request.source_ip.find('/') == std::string::npos && parse_ip_network(request.source_ip, parsed)) source = parsed;
  bool allowed = false;
  for (const Policy& policy : policies) {
    for (const Statement& s : policy.statements) {
      if (!statement_applies(s, request, source)) continue;
      if (s.effect == Effect::deny) return Decision::explicit_deny;
      allowed = true;
    }
  }
  return allowed ? Decision::allow : Decision::implicit_deny;
}

}  // namespace opendbs::iam
