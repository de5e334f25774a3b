// The session settings at the head of a pg_dump script, fitted to the server that runs it.
//
// pg_dump opens each script with `SET name = value;` lines for the parameters of its own version
// (statement_timeout, client_encoding, row_security, ...). A server of an older version refuses a
// parameter it lacks ("unrecognized configuration parameter") and would stop the restore there:
// pg_dump 17 sets transaction_timeout, which PostgreSQL 16 and older lack. That happens whenever the
// node's pg_dump is newer than the source (the oldest pg_dump that can dump a 16 source may be 17's),
// and when a set is restored into a server older than its source.
//
// Such a setting cannot matter on a server without the parameter, so:
// - a logical backup stores the head's SETs of parameters the source lacks as set_config calls that
//   take effect only where the server has the parameter (the SQL download runs anywhere);
// - a logical restore drops the head's SETs of parameters the destination lacks (sets stored before,
//   and restores into an older server).
// Only the head is touched: a line inside a function body that reads like a SET is the user's code.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {

struct SettingsFit {
  std::string script;                // the script without the SETs of parameters the server lacks
  std::vector<std::string> dropped;  // those parameters
};

// `script` without the head's SETs of parameters not in `known` (the destination's parameters).
SettingsFit without_unknown_settings(const std::string& script, const std::set<std::string>& known);

// `script` with the head's SETs of parameters not in `known` (the source's parameters) written as
// `SELECT pg_catalog.set_config(...) FROM pg_catalog.pg_settings WHERE name = ...;`.
std::string unknown_settings_guarded(const std::string& script, const std::set<std::string>& known);

// The names of the server's parameters (pg_settings).
core::Result<std::set<std::string>> server_settings(PgConnection& conn);

}  // namespace opendbs::engines::postgres
