#include "engines/postgres/database_properties.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include <boost/json.hpp>

#include "core/log.h"

namespace opendbs::engines::postgres {
namespace {

// The default collation's provider and locale: pg_database has them from 15 on; 16 adds ICU rules;
// 17 renames daticulocale to datlocale, which also holds the builtin provider's locale.
std::string locale_columns(int server_version) {
  if (server_version >= 170000) return "d.datlocprovider::text AS provider, d.datlocale AS locale, d.daticurules AS rules";
  if (server_version >= 160000) return "d.datlocprovider::text AS provider, d.daticulocale AS locale, d.daticurules AS rules";
  if (server_version >= 150000) return "d.datlocprovider::text AS provider, d.daticulocale AS locale, NULL AS rules";
  return "'c' AS provider, NULL AS locale, NULL AS rules";
}

core::Status read_locale_and_limits(PgConnection& conn, boost::json::object& entry) {
  OPENDBS_ASSIGN(auto db, conn.query("SELECT d.datconnlimit AS connlimit, shobj_description(d.oid, 'pg_database') AS comment,"
                                     " d.datacl IS NULL AS default_acl, " + locale_columns(conn.server_version()) +
                                     " FROM pg_database d WHERE d.datname = current_database()"));
  if (auto comment = db.value(0, "comment"); comment && !comment->empty()) entry["comment"] = *comment;
  if (const auto limit = db.value(0, "connlimit").value_or("-1"); limit != "-1") entry["connection_limit"] = std::stoll(limit);
  const std::string provider = db.value(0, "provider").value_or("c");
  if (provider == "i" || provider == "b") {
    entry["locale_provider"] = provider == "i" ? "icu" : "builtin";
    entry["locale"] = db.value(0, "locale").value_or("");
    if (auto rules = db.value(0, "rules"); rules && !rules->empty()) entry["icu_rules"] = *rules;
  }
  if (db.value(0, "default_acl").value_or("t") == "t") return {};
  // The owner's own privileges go with ownership, which a logical restore does not carry over.
  OPENDBS_ASSIGN(auto acl, conn.query(
      "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE r.rolname END AS grantee, a.privilege_type AS privilege,"
      " a.is_grantable AS grantable FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a"
      " LEFT JOIN pg_roles r ON r.oid = a.grantee"
      " WHERE d.datname = current_database() AND a.grantee <> d.datdba AND (a.grantee = 0 OR r.rolname IS NOT NULL)"
      " ORDER BY 1, 2"));
  boost::json::array grants;
  for (const auto& row : acl.rows)
    grants.push_back({{"grantee", row[0].value_or("")}, {"privilege", row[1].value_or("")},
                      {"grantable", row[2].value_or("f") == "t"}});
  entry["grants"] = std::move(grants);
  return {};
}

core::Status read_settings(PgConnection& conn, boost::json::object& entry) {
  OPENDBS_ASSIGN(auto rows, conn.query(
      "SELECT coalesce(r.rolname, '') AS role, c.setting FROM pg_db_role_setting s"
      " LEFT JOIN pg_roles r ON r.oid = s.setrole CROSS JOIN LATERAL unnest(s.setconfig) WITH ORDINALITY AS c(setting, n)"
      " WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())"
      " AND (s.setrole = 0 OR r.rolname IS NOT NULL) ORDER BY s.setrole <> 0, 1, c.n"));
  boost::json::array settings;
  for (const auto& row : rows.rows) {
    const std::string setting = row[1].value_or("");
    const size_t eq = setting.find('=');
    if (eq == std::string::npos) continue;
    settings.push_back({{"role", row[0].value_or("")}, {"name", setting.substr(0, eq)}, {"value", setting.substr(eq + 1)}});
  }
  if (!settings.empty()) entry["settings"] = std::move(settings);
  return {};
}

// The elements of a list PostgreSQL stored quoted (SplitGUCList of pg_dump): separated by commas,
// each "double-quoted" (with "" for ") or a bare word; whitespace around them is not part of them.
std::vector<std::string> split_quoted_list(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  skip_space();
  while (i < s.size()) {
    std::string element;
    if (s[i] == '"') {
      element = unquote_ident(s, i);
    } else {
      while (i < s.size() && s[i] != ',' && !std::isspace(static_cast<unsigned char>(s[i]))) element += s[i++];
    }
    out.push_back(std::move(element));
    skip_space();
    if (i < s.size() && s[i] == ',') ++i;
    skip_space();
  }
  return out;
}

std::string lowered(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

bool is_quoted_list(const std::string& name) {
  static const std::array<const char*, 6> kLists{"local_preload_libraries", "search_path",
                                                 "session_preload_libraries", "shared_preload_libraries",
                                                 "temp_tablespaces", "unix_socket_directories"};
  return std::any_of(kLists.begin(), kLists.end(), [&](const char* n) { return lowered(name) == n; });
}

// Runs `sql`; a refusal is a warning to `control` and the log naming `what`, a lost connection an error.
core::Status apply_or_warn(PgConnection& admin, const std::string& sql, const std::string& target,
                           const std::string& what, TaskControl& control) {
  auto done = admin.query(sql);
  if (done.ok()) return {};
  if (PQstatus(admin.raw()) != CONNECTION_OK) return done.error();
  core::log_event(core::LogLevel::warn, "postgres_restore_property_skipped",
                  {{"database", target}, {"property", what}, {"error", done.error().message}});
  control.warning("database " + target + ": " + what + " was not restored: " + done.error().message);
  return {};
}

}  // namespace

core::Status read_database_properties(PgConnection& conn, boost::json::object& entry) {
  OPENDBS_TRY(read_locale_and_limits(conn, entry));
  return read_settings(conn, entry);
}

std::string text_of(const boost::json::object& entry, const char* key) {
  auto it = entry.find(key);
  return it != entry.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

std::string database_comment(const boost::json::object& entry) { return text_of(entry, "comment"); }

std::string database_search_path_sql(const boost::json::object& entry) {
  std::string path;
  if (auto it = entry.find("settings"); it != entry.end() && it->value().is_array())
    for (const auto& s : it->value().as_array()) {
      const std::string name = text_of(s.as_object(), "name");
      if (text_of(s.as_object(), "role").empty() && lowered(name) == "search_path")
        path = setting_value_sql(name, text_of(s.as_object(), "value"));
    }
  return path.empty() ? "RESET search_path;" : "SET search_path = " + path + ";";
}

std::string setting_value_sql(const std::string& name, const std::string& value) {
  if (!is_quoted_list(name)) return quote_literal(value);
  std::string out;
  for (const auto& element : split_quoted_list(value)) out += (out.empty() ? "" : ", ") + quote_literal(element);
  return out.empty() ? "''" : out;
}

std::vector<PropertyStatement> database_property_statements(const boost::json::object& entry) {
  std::vector<PropertyStatement> out;
  if (auto it = entry.find("grants"); it != entry.end() && it->value().is_array()) {
    out.push_back({"REVOKE ALL ON DATABASE ", " FROM PUBLIC", "the revocation of PUBLIC's default privileges", ""});
    for (const auto& g : it->value().as_array()) {
      const auto& grant = g.as_object();
      const std::string grantee = text_of(grant, "grantee"), privilege = text_of(grant, "privilege");
      const bool grantable = grant.contains("grantable") && grant.at("grantable").is_bool() && grant.at("grantable").as_bool();
      if (privilege != "CONNECT" && privilege != "CREATE" && privilege != "TEMPORARY") continue;  // no other on databases
      out.push_back({"GRANT " + privilege + " ON DATABASE ",
                     " TO " + (grantee == "PUBLIC" ? grantee : quote_ident(grantee)) + (grantable ? " WITH GRANT OPTION" : ""),
                     "GRANT " + privilege + " TO " + grantee, grantee == "PUBLIC" ? "" : grantee});
    }
  }
  if (auto it = entry.find("connection_limit"); it != entry.end() && it->value().is_int64())
    out.push_back({"ALTER DATABASE ", " CONNECTION LIMIT " + std::to_string(it->value().as_int64()), "CONNECTION LIMIT", ""});
  if (auto it = entry.find("settings"); it != entry.end() && it->value().is_array()) {
    for (const auto& s : it->value().as_array()) {
      const auto& setting = s.as_object();
      const std::string role = text_of(setting, "role"), name = text_of(setting, "name");
      const std::string assignment = " SET " + quote_ident(name) + " = " + setting_value_sql(name, text_of(setting, "value"));
      out.push_back({role.empty() ? "ALTER DATABASE " : "ALTER ROLE " + quote_ident(role) + " IN DATABASE ", assignment,
                     (role.empty() ? "" : "ALTER ROLE " + role + " IN DATABASE: ") + "the setting " + name, role});
    }
  }
  return out;
}

PropertyStatement database_comment_statement(const std::string& comment) {
  return {"COMMENT ON DATABASE ", " IS " + (comment.empty() ? std::string("NULL") : quote_literal(comment)), "the comment", ""};
}

std::string database_properties_sql(const boost::json::object& entry) {
  auto statements = database_property_statements(entry);
  if (const std::string comment = database_comment(entry); !comment.empty())
    statements.push_back(database_comment_statement(comment));
  if (statements.empty()) return "";
  std::string sql =
      "\n-- The database's own properties (grants, connection limit, settings, comment), given to the database\n"
      "-- this part was loaded into. A statement this server refuses (a role it lacks, a setting it does not\n"
      "-- take, a privilege the loading role lacks) is left out with a WARNING and the script goes on.\n";
  for (const auto& st : statements) {
    sql += "-- " + st.what + (st.role.empty() ? "" : " (needs role " + st.role + " on this server)") + "\n";
    // The statement is one literal inside the DO body, itself one literal: quotes doubled twice, and
    // no dollar-quote a value could end.
    const std::string body = "BEGIN EXECUTE " + quote_literal(st.before_db) +
                             " || pg_catalog.quote_ident(pg_catalog.current_database()) || " + quote_literal(st.after_db) +
                             "; EXCEPTION WHEN OTHERS THEN RAISE WARNING '% was not restored: %', " +
                             quote_literal(st.what) + ", SQLERRM; END";
    sql += "DO " + quote_literal(body) + ";\n";
  }
  return sql;
}

core::Status apply_database_properties(PgConnection& admin, const boost::json::object& entry,
                                       const std::string& target, TaskControl& control) {
  for (const auto& st : database_property_statements(entry)) {
    if (!st.role.empty()) {  // a role the destination lacks leaves the statement out, with a warning
      OPENDBS_ASSIGN(auto found, admin.query_params("SELECT 1 FROM pg_roles WHERE rolname = $1", {st.role}));
      if (found.rows.empty()) {
        core::log_event(core::LogLevel::warn, "postgres_restore_property_skipped",
                        {{"database", target}, {"property", st.what}, {"error", "role " + st.role + " does not exist"}});
        control.warning("database " + target + ": " + st.what + " was not restored: role " + st.role +
                        " does not exist on the destination");
        continue;
      }
    }
    OPENDBS_TRY(apply_or_warn(admin, st.on(target), target, st.what, control));
  }
  return {};
}

}  // namespace opendbs::engines::postgres
