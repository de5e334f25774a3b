// The roles a logical set's schema names. `pg_dump --no-owner --no-privileges` leaves out owners and
// grants, but not the roles a row security policy applies to (`CREATE POLICY ... TO app_reader`) nor
// those a user mapping is for (`CREATE USER MAPPING FOR app SERVER ...`): on a destination without
// such a role the statement fails, and with it the whole restore — once everything was loaded. A
// policy is never opened to other roles instead (TO PUBLIC would widen access). So the backup records
// per database, in its manifest entry, what names which roles:
//   "roles_named": [{"object": "policy p_own on table app.sec", "roles": ["app_reader"]}]
// (policies of the tables the set keeps, without those left out with an excluded table), and the
// restore checks them against the destination before it creates or loads anything, naming the
// databases, objects and missing roles. Sets stored before the record have none to check.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/result.h"
#include "engines/postgres/excluded_dependents.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {

// What in `conn`'s database (on its snapshot) names roles: the policies of the `kept` tables but the
// `left_out` ones, and the user mappings for a role (not PUBLIC). The manifest's "roles_named".
core::Result<boost::json::array> roles_named(PgConnection& conn, const std::vector<TableName>& kept,
                                             const std::vector<LeftOutObject>& left_out);

// What of the manifest database entry `db` names roles not among `existing`.
struct MissingRoles {
  std::vector<std::string> objects;  // "policy p_own on table app.sec (role app_reader)"
  std::set<std::string> roles;
};
MissingRoles missing_roles(const boost::json::object& db, const std::set<std::string>& existing);

// The SQL download's note of them at the head of a database's part: comment lines naming each
// object and its roles, which must exist where the script is loaded; "" when none.
std::string roles_named_comment(const boost::json::object& db);

}  // namespace opendbs::engines::postgres
