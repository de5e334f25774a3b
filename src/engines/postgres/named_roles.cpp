#include "engines/postgres/named_roles.h"

#include <algorithm>
#include <map>

#include <boost/json.hpp>

namespace opendbs::engines::postgres {
namespace {

// Every policy naming a role, one row per role; PUBLIC (oid 0 in polroles) names none.
constexpr const char* kPolicyRolesSql =
    "SELECT n.nspname, c.relname, p.polname, r.rolname FROM pg_catalog.pg_policy p"
    " JOIN pg_catalog.pg_class c ON c.oid = p.polrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " JOIN pg_catalog.pg_roles r ON r.oid = ANY (p.polroles) ORDER BY 1, 2, 3, 4";
// pg_user_mappings (unlike pg_user_mapping) is readable by every role.
constexpr const char* kMappingRolesSql =
    "SELECT srvname, usename FROM pg_catalog.pg_user_mappings WHERE umuser <> 0 ORDER BY 1, 2";

// A name as a reader reads it: bare when lower-case letters, digits and underscores, else quoted.
std::string readable(std::string_view name) {
  bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  return plain ? std::string(name) : quote_ident(name);
}

bool left_out_policy(const std::vector<LeftOutObject>& left_out, const std::string& schema, const std::string& table,
                     const std::string& policy) {
  return std::any_of(left_out.begin(), left_out.end(), [&](const LeftOutObject& o) {
    return o.type == "POLICY" && o.schema == schema && o.name == table + " " + policy;
  });
}

}  // namespace

core::Result<boost::json::array> roles_named(PgConnection& conn, const std::vector<TableName>& kept,
                                             const std::vector<LeftOutObject>& left_out) {
  std::map<std::string, boost::json::array> named;  // object → its roles, in name order
  OPENDBS_ASSIGN(auto policies, conn.query(kPolicyRolesSql));
  for (const auto& row : policies.rows) {
    const std::string schema = row[0].value_or(""), table = row[1].value_or(""), policy = row[2].value_or("");
    if (std::find(kept.begin(), kept.end(), TableName{schema, table}) == kept.end()) continue;
    if (left_out_policy(left_out, schema, table, policy)) continue;
    named["policy " + readable(policy) + " on table " + readable(schema) + "." + readable(table)].push_back(
        boost::json::string(row[3].value_or("")));
  }
  OPENDBS_ASSIGN(auto mappings, conn.query(kMappingRolesSql));
  for (const auto& row : mappings.rows)
    named["user mapping for server " + readable(row[0].value_or(""))].push_back(boost::json::string(row[1].value_or("")));
  boost::json::array out;
  for (auto& [object, roles] : named) out.push_back(boost::json::object{{"object", object}, {"roles", std::move(roles)}});
  return out;
}

MissingRoles missing_roles(const boost::json::object& db, const std::set<std::string>& existing) {
  MissingRoles out;
  const auto* named = db.if_contains("roles_named");
  if (!named || !named->is_array()) return out;
  for (const auto& item : named->as_array()) {
    const auto* entry = item.if_object();
    const auto* object = entry ? entry->if_contains("object") : nullptr;
    const auto* roles = entry ? entry->if_contains("roles") : nullptr;
    if (!object || !object->is_string() || !roles || !roles->is_array()) continue;
    std::string lacking;
    for (const auto& r : roles->as_array()) {
      if (!r.is_string() || existing.count(std::string(r.as_string()))) continue;
      lacking += (lacking.empty() ? "" : ", ") + readable(r.as_string());
      out.roles.insert(std::string(r.as_string()));
    }
    if (!lacking.empty()) out.objects.push_back(std::string(object->as_string()) + " (role " + lacking + ")");
  }
  return out;
}

std::string roles_named_comment(const boost::json::object& db) {
  const auto everything = missing_roles(db, {});
  if (everything.objects.empty()) return "";
  std::string out = "\n-- Roles this database's schema names: create them first where the script is loaded\n";
  for (const auto& object : everything.objects) {
    std::string line = object;  // names are written as identifiers; no line break reaches the comment
    for (char& c : line)
      if (c == '\n' || c == '\r') c = ' ';
    out += "--   " + line + "\n";
  }
  return out;
}

}  // namespace opendbs::engines::postgres
