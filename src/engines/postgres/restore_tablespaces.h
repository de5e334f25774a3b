// Tablespaces of a logical restore. pg_dump places tables, partitioned tables, materialized views,
// indexes and constraint indexes with `SET default_tablespace = name;` lines (and `= '';` for the
// database's default). A destination that lacks a tablespace of that name would refuse the SET and
// stop the restore; such lines become `SET default_tablespace = '';`, so that the objects go into the
// destination database's default tablespace, and the name is reported. The SQL download, whose
// destination is not known, chooses when psql runs it.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {

struct TablespaceFit {
  std::string script;                // the script with SETs of missing tablespaces reset to ''
  std::set<std::string> missing;     // the tablespaces the destination lacks, by name
};

// `script` (pg_dump output) with its tablespaces fitted to `existing`, the destination's tablespaces.
TablespaceFit fit_tablespaces(const std::string& script, const std::set<std::string>& existing);

// `script` for a psql run on a server not known yet (the SQL download): each SET of a named tablespace
// becomes a set_config that takes the tablespace when the server has it and the default otherwise.
std::string tablespaces_chosen_at_load(const std::string& script);

// The names of the server's tablespaces.
core::Result<std::set<std::string>> server_tablespaces(PgConnection& conn);

}  // namespace opendbs::engines::postgres
