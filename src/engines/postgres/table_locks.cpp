#include "engines/postgres/table_locks.h"

#include <map>

#include "core/errors.h"

namespace opendbs::engines::postgres {

const char* const kTableIdentityColumns =
    "c.oid::text AS oid, c.relfilenode::text AS relfilenode,"
    " (SELECT string_agg(a.attnum || ':' || a.attname, ',' ORDER BY a.attnum) FROM pg_attribute a"
    "  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes";

namespace {

constexpr size_t kTablesPerLock = 500;  // one LOCK statement per this many tables

}  // namespace

core::Result<std::string> lock_tables(PgConnection& conn, const std::vector<TableIdentity>& tables, int wait_ms) {
  if (wait_ms > 0) OPENDBS_TRY(conn.query("SET LOCAL lock_timeout = " + std::to_string(wait_ms)));
  for (size_t from = 0; from < tables.size(); from += kTablesPerLock) {
    std::string names;
    for (size_t i = from; i < std::min(tables.size(), from + kTablesPerLock); ++i)
      names += (names.empty() ? "" : ", ") + tables[i].qualified;
    auto locked = conn.query("LOCK TABLE ONLY " + names + " IN ACCESS SHARE MODE" + (wait_ms > 0 ? "" : " NOWAIT"));
    if (locked.ok()) continue;
    const std::string state = sqlstate_of(locked.error());
    if (state == "42P01" || (state == "55P03" && wait_ms == 0)) return locked.error().message;
    if (state == "55P03")
      return source_error("locking the tables to back up", "another session held a lock on one of them for over " +
                                                               std::to_string(wait_ms / 1000) + " s: " +
                                                               locked.error().message);
    return source_error("locking the tables to back up", locked.error().message);
  }
  return std::string();
}

core::Result<std::vector<std::string>> changed_tables(PgConnection& now, const std::vector<TableIdentity>& seen) {
  if (seen.empty()) return std::vector<std::string>{};
  std::string oids;
  for (const auto& t : seen) oids += (oids.empty() ? "{" : ",") + t.oid;
  OPENDBS_ASSIGN(auto rows, now.query_params(std::string("SELECT ") + kTableIdentityColumns +
                                                 " FROM pg_class c WHERE c.oid = ANY($1::oid[])",
                                             {oids + "}"}));
  std::map<std::string, std::pair<std::string, std::string>> current;  // oid → (relfilenode, attributes)
  for (size_t r = 0; r < rows.rows.size(); ++r)
    current[rows.value(r, "oid").value_or("")] = {rows.value(r, "relfilenode").value_or(""),
                                                  rows.value(r, "attributes").value_or("")};
  std::vector<std::string> changed;
  for (const auto& t : seen) {
    auto it = current.find(t.oid);
    if (it == current.end() || it->second != std::pair(t.relfilenode, t.attributes)) changed.push_back(t.qualified);
  }
  return changed;
}

}  // namespace opendbs::engines::postgres
