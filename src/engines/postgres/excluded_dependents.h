// What a logical backup leaves out because BackupObjects' TableExcludes leave out tables it needs.
// `pg_dump --exclude-table` still writes the included objects that name an excluded table: a foreign
// key of an included table referencing it (post-data), a view or materialized view reading it and
// the views on those (pre-data), a rule or policy whose query reads it, a function of SQL-standard
// body or with its row type in its signature. Each would stop the restore (and the SQL download under
// ON_ERROR_STOP) with "relation ... does not exist". The backup finds them in the catalog on the
// snapshot (pg_depend, closed transitively), drops their entries from pg_dump's text, records them in
// the database's manifest entry ("left_out") and logs them; an included table that cannot exist
// without an excluded one (it inherits from it, or has a column of its row type) is excluded too.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>

#include "core/result.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {

// One object left out, named as pg_dump's TOC names it ("-- Name: <name>; Type: <type>; Schema: <schema>").
struct LeftOutObject {
  std::string type;     // "FK CONSTRAINT", "VIEW", "MATERIALIZED VIEW", "RULE", "TABLE", ...
  std::string schema;
  std::string name;     // "fk_a fk_a_b_id_fkey" for objects of a table, "v_b" for relations
  std::string because;  // what it needs that the set leaves out: "public.fk_b" (several joined by ", ")
};

// (schema, table)
using TableName = std::pair<std::string, std::string>;

// The objects of `conn`'s database (read in its transaction, i.e. on the backup's snapshot) that
// depend on the `excluded` tables, transitively. Objects that belong to an excluded table (its
// indexes, its own constraints and triggers) are not listed: pg_dump leaves them out itself.
core::Result<std::vector<LeftOutObject>> excluded_dependents(PgConnection& conn, const std::vector<TableName>& excluded);

// A condition on pg_sequences' (schemaname, sequencename) that leaves out the identity sequences of
// the `excluded` tables: pg_dump leaves them out with their table, so a set must not set their values.
// "true" when there are none.
core::Result<std::string> kept_sequences_condition(PgConnection& conn, const std::vector<TableName>& excluded);

// The tables among `objects` (type TABLE): included tables to exclude too.
std::vector<TableName> left_out_tables(const std::vector<LeftOutObject>& objects);

// `script` (pg_dump text) without the TOC entries of `objects` and the COMMENT / SECURITY LABEL
// entries that follow them; the SETs pg_dump writes before the next entry stay.
std::string without_left_out(const std::string& script, const std::vector<LeftOutObject>& objects);

// The manifest's "left_out" list: [{"type", "schema", "name", "because"}].
boost::json::array left_out_json(const std::vector<LeftOutObject>& objects);

// Logs a warning naming each object left out of database `database` (nothing when none).
void log_left_out(const std::string& database, const std::vector<LeftOutObject>& objects);

// `matviews` (populated_matviews entries {"schema", "name"}) without the materialized views left out.
boost::json::array without_left_out_matviews(const boost::json::array& matviews, const std::vector<LeftOutObject>& objects);

}  // namespace opendbs::engines::postgres
