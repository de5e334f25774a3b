// RAM policy documents: parsing and evaluation.
//
// A document is {"Version": "1", "Statement": [{"Effect", "Action", "Resource", "Condition"}, ...]}.
// Action and Resource are a string or a list of patterns with `*` (any run) and `?` (one byte)
// wildcards; actions match case-insensitively, resources case-sensitively. A Condition is
// {Operator: {Key: value or [values]}}: every (operator, key) pair must hold, and the values of one
// pair are alternatives (for negated operators: the request matches none of them).
//
// Supported condition keys: acs:SourceIp (IPv4/IPv6 address or CIDR), acs:CurrentTime (ISO-8601 with
// Z or an offset, or a date), acs:SecureTransport (true/false). Operators: StringEquals,
// StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike,
// IpAddress, NotIpAddress, Bool, DateEquals, DateNotEquals, DateGreaterThan, DateGreaterThanEquals,
// DateLessThan, DateLessThanEquals. Anything else (unknown elements such as NotAction, unknown keys or
// operators, a value of the wrong type) is rejected when the document is parsed, so that no part of a
// policy is silently ignored.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace opendbs::iam {

enum class Effect { allow, deny };

enum class ConditionOperator {
  string_equals,
  string_not_equals,
  string_equals_ignore_case,
  string_not_equals_ignore_case,
  string_like,
  string_not_like,
  ip_address,
  not_ip_address,
  boolean,
  date_equals,
  date_not_equals,
  date_greater_than,
  date_greater_than_equals,
  date_less_than,
  date_less_than_equals,
};

enum class ConditionKey { source_ip, current_time, secure_transport };

// An IPv4 network is stored as its IPv4-mapped IPv6 form (::ffff:a.b.c.d/96+n), so one comparison
// serves both families.
struct IpNetwork {
  std::array<uint8_t, 16> address{};
  int prefix_bits = 128;
};

struct Condition {
  ConditionOperator op;
  ConditionKey key;
  std::vector<std::string> values;  // as written (booleans and numbers stringified)
  std::vector<IpNetwork> networks;  // IpAddress / NotIpAddress, parsed from values
  std::vector<int64_t> times_ms;    // Date*, parsed from values
};

struct Statement {
  Effect effect = Effect::deny;
  std::vector<std::string> actions;
  std::vector<std::string> resources;
  std::vector<Condition> conditions;
};

struct Policy {
  std::vector<Statement> statements;
};

// Errors are InvalidParameterValid whose message says where (Statement[1].Condition...) and what is
// expected.
core::Result<Policy> parse_policy(std::string_view json);

struct AccessRequest {
  std::string action;    // "dbs:StopBackupPlan"
  std::string resource;  // "acs:dbs:{region}:{account}:backupplan/{id}", or "acs:dbs:{region}:{account}:*"
                         // for account-wide operations; "*" is matched only by the pattern "*"
  std::string source_ip;
  int64_t now_ms = 0;
  bool secure_transport = false;
};

enum class Decision { allow, explicit_deny, implicit_deny };

// A matching Deny statement in any policy wins; else a matching Allow allows; else implicit deny.
Decision evaluate(const std::vector<Policy>& policies, const AccessRequest& request);

// `*` matches any run of bytes (also empty), `?` exactly one byte; everything else literally
// (ASCII case-folded when `case_insensitive`).
bool wildcard_match(std::string_view pattern, std::string_view text, bool case_insensitive);

// Parses "1.2.3.4", "10.0.0.0/8", "2001:db8::/32"; false when malformed.
bool parse_ip_network(std::string_view text, IpNetwork& out);

}  // namespace opendbs::iam
