#include "engines/postgres/matviews.h"

#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "core/log.h"
#include "engines/postgres/database_properties.h"

namespace opendbs::engines::postgres {
namespace {

// Every materialized view (not of an extension), oldest first, with the materialized views its query
// reads directly or through plain views (`uses`: oids, comma-separated).
constexpr const char* kMatviewsSql = R"(
WITH RECURSIVE reads(mv, rel) AS (
  SELECT r.ev_class, d.refobjid FROM pg_catalog.pg_rewrite r
  JOIN pg_catalog.pg_class m ON m.oid = r.ev_class AND m.relkind = 'm'
  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
   AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> r.ev_class
  UNION
  SELECT reads.mv, d.refobjid FROM reads
  JOIN pg_catalog.pg_class v ON v.oid = reads.rel AND v.relkind = 'v'
  JOIN pg_catalog.pg_rewrite r ON r.ev_class = v.oid
  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
   AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> v.oid
)
SELECT c.oid, n.nspname, c.relname, c.relispopulated,
  (SELECT string_agg(DISTINCT reads.rel::text, ',') FROM reads
   JOIN pg_catalog.pg_class u ON u.oid = reads.rel AND u.relkind = 'm' WHERE reads.mv = c.oid) AS uses
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'm' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog.pg_class'::regclass
  AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY c.oid)";

struct Matview {
  std::string oid, schema, name;
  bool populated = false;
  std::set<std::string> uses;
};

std::set<std::string> split_oids(const std::string& list) {
  std::set<std::string> out;
  for (size_t at = 0; at < list.size();) {
    size_t end = list.find(',', at);
    if (end == std::string::npos) end = list.size();
    out.insert(list.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// The views ordered so that each comes after the views it uses, otherwise oldest first (a cycle,
// which PostgreSQL does not allow, would keep the rest in oid order).
std::vector<const Matview*> refresh_order(const std::vector<Matview>& views) {
  std::vector<const Matview*> order;
  std::set<std::string> placed, known;
  for (const auto& v : views) known.insert(v.oid);
  for (bool progress = true; progress && order.size() < views.size();) {
    progress = false;
    for (const auto& v : views) {
      if (placed.count(v.oid)) continue;
      bool ready = true;
      for (const auto& u : v.uses) ready = ready && (placed.count(u) || !known.count(u));
      if (!ready) continue;
      order.push_back(&v);
      placed.insert(v.oid);
      progress = true;
    }
  }
  for (const auto& v : views)
    if (!placed.count(v.oid)) order.push_back(&v);
  return order;
}

using Name = std::pair<std::string, std::string>;  // schema, name


// The views a manifest database entry records as populated, in refresh order; nullopt for a set from
// before the record.
std::optional<std::vector<Name>> recorded_views(const boost::json::object& db) {
  const auto* list = db.if_contains("populated_matviews");
  if (!list || !list->is_array()) return std::nullopt;
  std::vector<Name> out;
  for (const auto& v : list->as_array()) {
    const auto* o = v.if_object();
    const auto* schema = o ? o->if_contains("schema") : nullptr;
    const auto* name = o ? o->if_contains("name") : nullptr;
    if (schema && name && schema->is_string() && name->is_string())
      out.emplace_back(schema->as_string(), name->as_string());
  }
  return out;
}

// The views a restore refreshes: those the set records, or for an older set every view of the
// database that is unpopulated now.
core::Result<std::vector<Name>> views_to_refresh(PgConnection& conn, const boost::json::object& db) {
  if (auto recorded = recorded_views(db)) return *recorded;
  std::vector<Name> out;
  OPENDBS_ASSIGN(auto rows, conn.query("SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
                                       " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                                       " WHERE c.relkind = 'm' AND NOT c.relispopulated ORDER BY c.oid"));
  for (const auto& row : rows.rows) out.emplace_back(row[0].value_or(""), row[1].value_or(""));
  return out;
}

std::string refresh_statement(const Name& view) {
  return "REFRESH MATERIALIZED VIEW " + quote_ident(view.first) + "." + quote_ident(view.second) + ";";
}

// Runs `sql`, waiting in slices that watch `control`. The outer result: cancellation or a lost
// connection; the inner one: the server's answer.
core::Result<core::Status> run(PgConnection& conn, const std::string& sql, TaskControl& control) {
  OPENDBS_TRY(conn.send(sql));
  core::Status answer;
  for (;;) {
    OPENDBS_ASSIGN(auto r, conn.next_result(&control));
    if (!r) break;
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && answer.ok())
      answer = source_error(sql, PQresultErrorMessage(r.get()));
  }
  if (PQstatus(conn.raw()) != CONNECTION_OK) return source_error(sql, conn.error_message());
  return answer;
}

}  // namespace

core::Result<boost::json::array> populated_matviews(PgConnection& conn) {
  OPENDBS_ASSIGN(auto rows, conn.query(kMatviewsSql));
  std::vector<Matview> views;
  for (const auto& row : rows.rows)
    views.push_back({row[0].value_or(""), row[1].value_or(""), row[2].value_or(""), row[3].value_or("f") == "t",
                     split_oids(row[4].value_or(""))});
  boost::json::array out;
  for (const auto* v : refresh_order(views))
    if (v->populated) out.push_back(boost::json::object{{"schema", v->schema}, {"name", v->name}});
  return out;
}

core::Status refresh_matviews(PgConnection& conn, const boost::json::object& db, TaskControl& control) {
  OPENDBS_ASSIGN(auto pending, views_to_refresh(conn, db));
  if (pending.empty()) return {};
  // pg_dump's script empties search_path; a function a view calls may name tables unqualified, as it
  // did when the source refreshed the view with the database's own search_path.
  OPENDBS_TRY(conn.query(database_search_path_sql(db)));
  std::map<Name, std::string> errors;
  while (!pending.empty()) {
    std::vector<Name> failed;
    for (const auto& view : pending) {
      if (control.cancelled()) return cancelled_error();
      OPENDBS_ASSIGN(auto answer, run(conn, refresh_statement(view), control));
      if (answer.ok()) continue;
      errors[view] = answer.error().message;
      failed.push_back(view);
    }
    if (failed.size() == pending.size()) break;  // no view got further: retrying changes nothing
    pending = std::move(failed);
  }
  for (const auto& view : pending) {
    core::log_event(core::LogLevel::warn, "postgres_restore_matview_unpopulated",
                    {{"schema", view.first}, {"matview", view.second}, {"error", errors[view]}});
    control.warning("materialized view " + quote_ident(view.first) + "." + quote_ident(view.second) +
                    " could not be refreshed and stays unpopulated: " + errors[view]);
  }
  return {};
}

std::string refresh_matviews_sql(const boost::json::object& db) {
  const auto recorded = recorded_views(db);
  if (!recorded)  // an older set: every view left unpopulated, oldest first
    return "\n-- Materialized views: the set does not record which were populated; refresh them all.\n" +
           database_search_path_sql(db) +
           "\nDO $opendbs$\nDECLARE v record;\nBEGIN\n"
           "  FOR v IN SELECT n.nspname, c.relname FROM pg_catalog.pg_class c\n"
           "           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
           "           WHERE c.relkind = 'm' AND NOT c.relispopulated ORDER BY c.oid LOOP\n"
           "    EXECUTE format('REFRESH MATERIALIZED VIEW %I.%I', v.nspname, v.relname);\n"
           "  END LOOP;\nEND $opendbs$;\n";
  std::string sql;
  for (const auto& view : *recorded) sql += refresh_statement(view) + "\n";
  if (sql.empty()) return "";
  return "\n-- Materialized views populated in the backup's snapshot\n" + database_search_path_sql(db) + "\n" + sql;
}

}  // namespace opendbs::engines::postgres
