// The properties of a database itself that a logical set carries: pg_dump without --create (how the
// backup dumps each database) leaves them out, as they belong to the CREATE DATABASE it does not write.
// Read on the backup's snapshot into the database's manifest entry:
//   "settings":   [{"role": "", "name": "search_path", "value": "app, public"}]  ALTER DATABASE ... SET
//                 (role "") and ALTER ROLE <role> IN DATABASE ... SET, as pg_db_role_setting holds them
//   "comment":    COMMENT ON DATABASE (absent when none)
//   "connection_limit": datconnlimit (absent when -1, no limit)
//   "grants":     [{"grantee": "PUBLIC" | role, "privilege": "CONNECT", "grantable": false}], datacl
//                 without the owner's own entries; absent when datacl is NULL (the defaults)
//   "locale_provider" "icu" | "builtin", "locale", "icu_rules": the default collation's provider when
//                 it is not libc (PostgreSQL 15+), its locale, and on 16+ its ICU rules (create_database.h)
// A restore applies them (but the locale) once the database's data are loaded, so that a setting such
// as default_transaction_read_only = on or a search_path, or a connection limit, cannot get in the way
// of the load.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/result.h"
#include "engines/engine.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {

// One statement giving a database one of its properties, its name left out: a restore puts in the
// name it creates the database under, the SQL download the database psql runs in.
struct PropertyStatement {
  std::string before_db, after_db;  // the statement is before_db + <the quoted database name> + after_db
  std::string what;                 // names it in warnings: "GRANT CONNECT TO app", "the setting work_mem"
  std::string role;                 // a role it needs on the destination, "" when none
  std::string on(const std::string& database) const { return before_db + quote_ident(database) + after_db; }
};

// The statements giving a database `entry`'s grants (REVOKE ALL ... FROM PUBLIC, then each GRANT),
// connection limit and settings, in the order a restore applies them; the comment is not among them.
std::vector<PropertyStatement> database_property_statements(const boost::json::object& entry);

// COMMENT ON DATABASE ... IS `comment` (NULL when "").
PropertyStatement database_comment_statement(const std::string& comment);

// The SQL download's end of a database's part: `entry`'s properties and comment given to the database
// psql is connected to (current_database()), each in a DO block that turns a failure (a role this
// server lacks, a setting it refuses) into a WARNING naming what was left out, as a restore warns,
// so that the script goes on under ON_ERROR_STOP. "" when the entry records none.
std::string database_properties_sql(const boost::json::object& entry);

// Adds the connected database's properties, as `conn`'s transaction sees them, to `entry`.
core::Status read_database_properties(PgConnection& conn, boost::json::object& entry);

// Applies `entry`'s settings, grants and connection limit to database `target` through `admin` (a
// session in another database of the destination). What cannot be applied — a setting or grant for a
// role the destination lacks, a setting the destination refuses — is left out with a warning to
// `control`; only a lost connection fails. The comment is the caller's (the restore's last step).
core::Status apply_database_properties(PgConnection& admin, const boost::json::object& entry,
                                       const std::string& target, TaskControl& control);

// The string `key` of a manifest entry (or any JSON object), "" when absent or not a string.
std::string text_of(const boost::json::object& entry, const char* key);

// The comment `entry` records, "" when none.
std::string database_comment(const boost::json::object& entry);

// "SET search_path = ...;" with the search_path `entry`'s database sets for every role (ALTER DATABASE
// ... SET search_path), else "RESET search_path;": what the source's sessions used, so that the
// restore refreshes materialized views as the source did, before the settings themselves are applied.
std::string database_search_path_sql(const boost::json::object& entry);

// The value of a setting as ALTER ... SET takes it: one string literal, or for the list parameters
// PostgreSQL stores quoted (search_path, temp_tablespaces, the *_preload_libraries), each element of
// the list as a literal ('$user', 'public'), as pg_dump writes them.
std::string setting_value_sql(const std::string& name, const std::string& value);

}  // namespace opendbs::engines::postgres
