#include "engines/postgres/precheck.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "engines/postgres/backup_objects.h"
#include "engines/postgres/excluded_dependents.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/pg_dump_version.h"
#include "engines/postgres/wal_names.h"

namespace opendbs::engines::postgres {
namespace {

PrecheckItem pass(const char* name) { return {name, "finish", ""}; }
PrecheckItem fail(const char* name, std::string message) { return {name, "failed", std::move(message)}; }
PrecheckItem warn(const char* name, std::string message) { return {name, "warning", std::move(message)}; }

int64_t number(const Rows& rows, const char* column) { return std::stoll(rows.value(0, column).value_or("0")); }

// Whether synchronous_standby_names ("a, b", "FIRST 1 (a, b)", "ANY 2 (*)", names maybe quoted) names
// a walsender whose application_name is `name`: "*" or the name, compared without case as the
// server compares them.
bool names_synchronous_standby(std::string_view setting, std::string_view name) {
  std::string list(setting);
  if (auto open = list.find('('); open != std::string::npos) list = list.substr(open + 1, list.rfind(')') - open - 1);
  size_t at = 0;
  while (at <= list.size()) {
    size_t comma = list.find(',', at);
    if (comma == std::string::npos) comma = list.size();
    std::string entry = list.substr(at, comma - at);
    std::erase_if(entry, [](char c) { return c == ' ' || c == '\t' || c == '"'; });
    if (entry == "*" || (entry.size() == name.size() &&
                         std::equal(entry.begin(), entry.end(), name.begin(), [](char a, char b) {
                           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
                         })))
      return true;
    at = comma + 1;
  }
  return false;
}

// The WAL stream reports as flushed what is durable in the repository (its slot advances by it), so
// a server whose synchronous_standby_names match it counts it as a synchronous standby: commits wait
// for the log backup's next commit (up to ~0.5 s) and hang while it is stopped.
PrecheckItem check_sync_standby(const std::string& setting) {
  if (setting.empty() || !names_synchronous_standby(setting, kApplicationName)) return pass("CHECK_SYNC_STANDBY");
  return warn("CHECK_SYNC_STANDBY",
              "synchronous_standby_names = '" + setting + "' matches the log backup's WAL stream (application_name " +
                  kApplicationName + "): with synchronous commit, every commit on the source would wait for the "
                  "log backup to store its WAL (up to 0.5 s) and hang while the log backup is stopped; name your "
                  "standbys in synchronous_standby_names instead of '*' (e.g. FIRST 1 (standby1, standby2))");
}

// Physical backups work on 12-17 (BASE_BACKUP's legacy syntax and result sets before 15);
// logical ones also need a pg_dump on this node at least as new as the source.
PrecheckItem check_version(int version, bool physical) {
  const std::string shown = std::to_string(version / 10000) + "." + std::to_string(version % 10000);
  if (version < 120000) return fail("CHECK_VERSION", "PostgreSQL " + shown + " is not supported: upgrade the source to 12 or later");
  if (!physical)
    if (auto dump = check_pg_dump_for(version); !dump.ok()) return fail("CHECK_VERSION", dump.error().message);
  if (version >= 180000) return warn("CHECK_VERSION", "PostgreSQL " + shown + " is newer than the versions opendbs is tested with (12-17)");
  return pass("CHECK_VERSION");
}

// Why a replication connection was refused, and what to change. The server refuses it before
// pg_hba.conf is consulted when max_wal_senders leaves no walsender for it ("number of requested
// standby connections exceeds max_wal_senders"): then pg_hba.conf is not the cause.
std::string replication_refused_advice(const PlanSpec& plan, const std::string& error) {
  if (error.find("max_wal_senders") != std::string::npos)
    return "a replication connection is refused because max_wal_senders leaves no WAL sender free (" + error +
           "): raise max_wal_senders in postgresql.conf (at least 2 plus your standbys; see CHECK_WAL_SENDERS) "
           "and restart PostgreSQL";
  return "a replication connection is refused (" + error + "): add a line such as 'host replication " +
         plan.source.user + " <opendbs address>/32 scram-sha-256' to pg_hba.conf and reload PostgreSQL";
}

std::vector<PrecheckItem> physical_items(const PlanSpec& plan, PgConnection& sql) {
  std::vector<PrecheckItem> items;
  auto role = sql.query("SELECT rolreplication OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user");
  if (!role.ok() || role->value(0, "ok").value_or("f") != "t") {
    items.push_back(fail("CHECK_PRIVILEGES", "the role " + plan.source.user +
                                                 " lacks the REPLICATION attribute: run ALTER ROLE \"" +
                                                 plan.source.user + "\" REPLICATION"));
  } else if (auto repl = PgConnection::open(plan.source, ConnectionKind::replication); !repl.ok()) {
    items.push_back(fail("CHECK_PRIVILEGES", replication_refused_advice(plan, repl.error().message)));
  } else {
    items.push_back(pass("CHECK_PRIVILEGES"));
  }
  auto s = sql.query_params(
      "SELECT current_setting('wal_level') AS wal_level,"
      " current_setting('max_wal_senders')::int AS senders,"
      " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender') AS senders_used,"
      " current_setting('max_replication_slots')::int AS slots,"
      " (SELECT count(*) FROM pg_replication_slots) AS slots_used,"
      " (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1) AS own_slot,"
      " current_setting('synchronous_standby_names') AS sync_names",
      {slot_name(plan.plan_id)});
  if (!s.ok()) {
    items.push_back(fail("CHECK_WAL_LEVEL", "cannot read the server settings: " + s.error().message));
    return items;
  }
  const std::string level = s->value(0, "wal_level").value_or("");
  items.push_back(level == "replica" || level == "logical"
                      ? pass("CHECK_WAL_LEVEL")
                      : fail("CHECK_WAL_LEVEL", "wal_level is '" + level +
                                                    "': set wal_level = replica in postgresql.conf and restart PostgreSQL"));
  const int64_t senders = number(*s, "senders"), senders_free = senders - number(*s, "senders_used");
  if (senders < 2)
    items.push_back(fail("CHECK_WAL_SENDERS", "max_wal_senders is " + std::to_string(senders) +
                                                  ": set it to at least 2 (one for a full backup, one for the WAL "
                                                  "stream) plus your standbys, and restart PostgreSQL"));
  else if (senders_free < 2)
    items.push_back(warn("CHECK_WAL_SENDERS", "only " + std::to_string(senders_free) +
                                                  " of max_wal_senders are free: raise max_wal_senders"));
  else
    items.push_back(pass("CHECK_WAL_SENDERS"));
  const int64_t slots = number(*s, "slots"), used = number(*s, "slots_used");
  if (number(*s, "own_slot") == 0 && used >= slots)
    items.push_back(fail("CHECK_REPLICATION_SLOTS", "max_replication_slots is " + std::to_string(slots) + " and " +
                                                        std::to_string(used) +
                                                        " are in use: raise max_replication_slots and restart PostgreSQL "
                                                        "(the WAL backup needs one slot)"));
  else
    items.push_back(pass("CHECK_REPLICATION_SLOTS"));
  items.push_back(check_sync_standby(s->value(0, "sync_names").value_or("")));
  return items;
}

// What a logical backup would fail to read in one database: the selected tables (and every
// sequence, whose values it also takes) without SELECT for the role, as "schema.name"; and the
// selected tables it may read but whose row-level security applies to the role.
struct Unreadable {
  std::string database;
  std::vector<std::string> relations;
  std::set<std::string> schemas;
  bool sequences = false;
  std::vector<std::string> row_secured;
};

// The relations a logical backup considers (extension members are the extension's): columns nspname,
// relname, oid, the partition parent's oid, relkind, whether the role may read it, and whether
// row-level security applies to the role on it (a table with rows: not the owner — or FORCE ROW LEVEL
// SECURITY — and neither superuser nor BYPASSRLS; row_security_active decides as the server does).
// The databases a logical plan may select.
constexpr const char* kDatabasesSql =
    "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname";

constexpr const char* kRelationsSql =
    "SELECT n.nspname, c.relname, c.oid::text AS oid, (SELECT i.inhparent::text FROM pg_inherits i"
    "  WHERE i.inhrelid = c.oid AND c.relispartition) AS parent, c.relkind::text AS relkind,"
    " has_table_privilege(c.oid, 'SELECT') AS readable,"
    " c.relkind = 'r' AND c.relrowsecurity AND row_security_active(c.oid) AS row_secured"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    " AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid"
    "                 AND d.deptype = 'e')"
    " ORDER BY 1, 2";

// Which rows of kRelationsSql the backup keeps (logical_backup.cpp): tables as BackupObjects choose
// them, partitions with their partitioned ancestors; every sequence.
std::vector<bool> kept_rows(const Rows& rows, const BackupObjects& objects, const std::string& db) {
  std::map<std::string, size_t> by_oid;
  for (size_t i = 0; i < rows.rows.size(); ++i) by_oid[rows.rows[i][2].value_or("")] = i;
  std::vector<BackupObjects::Table> tables;
  for (const auto& row : rows.rows) {
    tables.push_back({row[0].value_or(""), row[1].value_or(""), {}});
    if (auto it = by_oid.find(row[3].value_or("")); it != by_oid.end()) tables.back().parent = it->second;
  }
  auto kept = objects.kept_tables(db, tables);
  for (size_t i = 0; i < rows.rows.size(); ++i)
    if (rows.rows[i][4].value_or("") == "S") kept[i] = true;
  return kept;
}

Unreadable unreadable_of(const Rows& rows, const BackupObjects& objects, const std::string& db) {
  const auto kept = kept_rows(rows, objects, db);
  Unreadable out;
  out.database = db;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    const auto& row = rows.rows[i];
    if (kept[i] && row[5].value_or("") == "t" && row[6].value_or("") == "t")
      out.row_secured.push_back(quote_ident(row[0].value_or("")) + "." + quote_ident(row[1].value_or("")));
    if (!kept[i] || row[5].value_or("") == "t") continue;
    const std::string schema = row[0].value_or(""), name = row[1].value_or("");
    out.relations.push_back(quote_ident(schema) + "." + quote_ident(name));
    out.schemas.insert(quote_ident(schema));
    out.sequences = out.sequences || row[4].value_or("") == "S";
  }
  return out;
}

// "in database shop: GRANT SELECT ON public.a, public.b TO role": the relations themselves when
// few, else their schemas.
std::string grant_for(const Unreadable& u, const std::string& role) {
  std::string what, schemas;
  for (const auto& r : u.relations) what += (what.empty() ? "" : ", ") + r;
  for (const auto& s : u.schemas) schemas += (schemas.empty() ? "" : ", ") + s;
  const std::string grant = u.relations.size() <= 5
                                ? "GRANT SELECT ON " + what + " TO " + role
                                : "GRANT SELECT ON ALL TABLES IN SCHEMA " + schemas + " TO " + role +
                                      (u.sequences ? " and GRANT SELECT ON ALL SEQUENCES IN SCHEMA " + schemas + " TO " + role
                                                   : "") +
                                      " (" + std::to_string(u.relations.size()) + " of them, e.g. " + u.relations[0] + ")";
  return "in database " + quote_ident(u.database) + ": " + grant;
}

// The backup reads with row_security = off (dump_session.h), so that a policy never silently leaves rows
// out: the server then refuses the COPY of a table whose policies apply to the role, and the backup
// fails.
struct RowSecured {
  size_t count = 0;
  std::string found;  // in database "shop": "public"."accounts", …; in database …
};

PrecheckItem row_security_item(const PlanSpec& plan, const RowSecured& tables) {
  if (tables.count == 0) return pass("CHECK_ROW_SECURITY");
  const std::string role = quote_ident(plan.source.user);
  return fail("CHECK_ROW_SECURITY",
              "row-level security applies to the role " + plan.source.user + " on " + std::to_string(tables.count) +
                  " of the tables the plan backs up, so a backup would fail on them (it reads every row or none, "
                  "never only the rows a policy shows): " + tables.found + ". Give the role BYPASSRLS (as a superuser: ALTER "
                  "ROLE " + role + " BYPASSRLS), or back up as a superuser or as the tables' owner (when the tables "
                  "do not FORCE ROW LEVEL SECURITY), or exclude these tables in BackupObjects");
}

// In one database: the objects a logical backup leaves out because they need tables the plan excludes,
// as "TYPE schema.name (needs ...)".
core::Result<std::string> left_out_in(PgConnection& conn, const Rows& rows, const BackupObjects& objects,
                                      const std::string& db) {
  const auto kept = kept_rows(rows, objects, db);
  std::vector<TableName> excluded;
  for (size_t i = 0; i < rows.rows.size(); ++i)
    if (!kept[i]) excluded.emplace_back(rows.rows[i][0].value_or(""), rows.rows[i][1].value_or(""));
  if (excluded.empty()) return std::string();
  OPENDBS_TRY(conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  OPENDBS_ASSIGN(auto left_out, excluded_dependents(conn, excluded));
  std::string out;
  for (const auto& o : left_out)
    out += (out.empty() ? "" : "; ") + o.type + " " + o.schema + "." + o.name + " (needs " + o.because + ")";
  return out;
}

// What the logical items find in one database BackupObjects select, read through one connection that
// CHECK_PRIVILEGES, CHECK_ROW_SECURITY, CHECK_EXCLUDED_TABLES and CHECK_TABLE_INCLUDES share (each
// opened its own before: three connections per database), closed before the next database's opens.
struct DatabaseFindings {
  std::string name;
  std::optional<core::Error> error;  // the role could not connect, or not list the relations
  Unreadable unreadable;
  core::Result<std::string> left_out = std::string();  // an error: the item passes over the database
  std::vector<std::string> unmatched_includes;
  bool keeps_no_table = false;  // none of the database's TableIncludes patterns matches
};

DatabaseFindings findings_in(const PlanSpec& plan, const BackupObjects& objects, const std::string& db) {
  DatabaseFindings f;
  f.name = db;
  Endpoint ep = plan.source;
  ep.database = db;
  auto conn = PgConnection::open(ep, ConnectionKind::sql);
  if (!conn.ok()) {
    f.error = conn.error();
    return f;
  }
  auto rows = (*conn)->query(kRelationsSql);
  if (!rows.ok()) {
    f.error = rows.error();
    return f;
  }
  f.unreadable = unreadable_of(*rows, objects, db);
  f.left_out = left_out_in(**conn, *rows, objects, db);
  std::vector<BackupObjects::Table> tables;
  for (const auto& r : rows->rows)
    if (r[4].value_or("") != "S") tables.push_back({r[0].value_or(""), r[1].value_or(""), {}});
  f.unmatched_includes = objects.unmatched_includes(db, tables);
  const auto kept = objects.kept_tables(db, tables);
  f.keeps_no_table = std::none_of(kept.begin(), kept.end(), [](bool k) { return k; });
  return f;
}

// What the logical items read of the source: BackupObjects, the databases a plan may select, and the
// findings in each selected one.
struct LogicalSource {
  core::Result<BackupObjects> objects;
  core::Result<Rows> databases;
  std::vector<DatabaseFindings> selected;
};

LogicalSource read_logical_source(const PlanSpec& plan, PgConnection& sql) {
  LogicalSource source{BackupObjects::parse(plan.backup_objects), sql.query(kDatabasesSql), {}};
  if (!source.objects.ok() || !source.databases.ok()) return source;
  for (const auto& row : source.databases->rows) {
    const std::string db = row[0].value_or("");
    if (source.objects->selects_database(db)) source.selected.push_back(findings_in(plan, *source.objects, db));
  }
  return source;
}

// CHECK_PRIVILEGES; collects on the way the tables row-level security would refuse (row_security_item).
PrecheckItem table_privileges(const PlanSpec& plan, PgConnection& sql, const LogicalSource& source,
                              RowSecured& row_secured) {
  if (!source.objects.ok()) return fail("CHECK_PRIVILEGES", source.objects.error().message);
  if (!source.databases.ok()) return fail("CHECK_PRIVILEGES", "cannot list the databases: " + source.databases.error().message);
  const std::string role = quote_ident(plan.source.user);
  std::string all, refused, grants;
  size_t count = 0;
  for (const auto& row : source.databases->rows) all += (all.empty() ? "" : ", ") + row[0].value_or("");
  for (const auto& f : source.selected) {
    const std::string& db = f.name;
    if (f.error) {
      refused += (refused.empty() ? "" : "; ") + db + " (" + f.error->message + ")";
      continue;
    }
    const Unreadable& u = f.unreadable;
    if (!u.row_secured.empty()) {
      std::string tables;
      for (const auto& t : u.row_secured) tables += (tables.empty() ? "" : ", ") + t;
      row_secured.found += (row_secured.found.empty() ? "" : "; ") + ("in database " + quote_ident(db) + ": " + tables);
      row_secured.count += u.row_secured.size();
    }
    if (u.relations.empty()) continue;
    count += u.relations.size();
    grants += (grants.empty() ? "" : "; ") + grant_for(u, role);
  }
  if (source.selected.empty())
    return fail("CHECK_PRIVILEGES", "BackupObjects select none of the source's databases (" + all +
                                        "): name at least one of them in DBName");
  if (!refused.empty())
    return fail("CHECK_PRIVILEGES", "the role " + plan.source.user + " cannot connect to a database the plan backs up: " +
                                        refused + ". Run GRANT CONNECT ON DATABASE <database> TO " + role +
                                        " and check that pg_hba.conf admits the role to it");
  if (count == 0) return pass("CHECK_PRIVILEGES");
  // pg_read_all_data came with PostgreSQL 14: one grant reads everything, in every database.
  const std::string or_all = sql.server_version() >= 140000 ? " (or once for all: GRANT pg_read_all_data TO " + role + ")" : "";
  return fail("CHECK_PRIVILEGES", "the role " + plan.source.user + " cannot read " + std::to_string(count) +
                                      " of the tables and sequences the plan backs up: " + grants + or_all);
}

// A warning naming what the backups will leave out because BackupObjects exclude tables it needs
// (excluded_dependents.h): the sets restore without them.
PrecheckItem excluded_dependents_item(const LogicalSource& source) {
  if (!source.objects.ok() || !source.databases.ok()) return pass("CHECK_EXCLUDED_TABLES");  // CHECK_PRIVILEGES names the cause
  std::string found;
  for (const auto& f : source.selected) {
    // A database not readable fails CHECK_PRIVILEGES.
    if (f.error || !f.left_out.ok() || f.left_out->empty()) continue;
    found += (found.empty() ? "" : "; ") + ("in database " + quote_ident(f.name) + ": " + *f.left_out);
  }
  if (found.empty()) return pass("CHECK_EXCLUDED_TABLES");
  return warn("CHECK_EXCLUDED_TABLES",
              "BackupObjects exclude tables that other objects need; the backups will leave these objects out (a "
              "restore creates everything else) and list them in the set's manifest as left_out: " + found +
                  ". Include the tables they need to keep them");
}

// TableIncludes patterns that match no table of their database (a misspelt name, a dropped table).
// A database none of whose patterns matches fails its backup (as pg_dump's -t), so the item fails;
// patterns missing beside others that match leave those tables out of the set, so it warns.
PrecheckItem table_includes_item(const LogicalSource& source) {
  if (!source.objects.ok() || !source.databases.ok()) return pass("CHECK_TABLE_INCLUDES");  // CHECK_PRIVILEGES names the cause
  std::string found;
  bool fails = false;
  for (const auto& f : source.selected) {
    if (f.error || f.unmatched_includes.empty()) continue;  // a database not readable: CHECK_PRIVILEGES names it
    fails = fails || f.keeps_no_table;
    found += (found.empty() ? "" : "; ") + ("in database " + quote_ident(f.name) + ": " + joined_patterns(f.unmatched_includes));
  }
  if (found.empty()) return pass("CHECK_TABLE_INCLUDES");
  const std::string message = "BackupObjects TableIncludes match no table (" + found +
                              "). A pattern matches a table's name or schema.name, shell-style (* ? [a-z]), without "
                              "quotes; correct or remove these" +
                              (fails ? ": a database none of whose patterns matches fails its backup"
                                     : ": the backups hold the tables the other patterns match");
  return fails ? fail("CHECK_TABLE_INCLUDES", message) : warn("CHECK_TABLE_INCLUDES", message);
}

// The logical items, in their order, from one pass over the selected databases.
std::vector<PrecheckItem> logical_items(const PlanSpec& plan, PgConnection& sql) {
  const LogicalSource source = read_logical_source(plan, sql);
  RowSecured row_secured;
  auto privileges = table_privileges(plan, sql, source, row_secured);
  return {std::move(privileges), row_security_item(plan, row_secured), excluded_dependents_item(source),
          table_includes_item(source)};
}

}  // namespace

std::vector<PrecheckItem> precheck_source(const PlanSpec& plan) {
  const bool physical = plan.backup_method != "logical";
  auto sql = PgConnection::open(plan.source, ConnectionKind::sql);
  if (!sql.ok())
    return {fail("CHECK_CONNECTION", sql.error().message +
                                         ": check SourceEndpointIP/Port, that PostgreSQL listens there (listen_addresses), "
                                         "that pg_hba.conf admits this user from the opendbs node, and the password")};
  std::vector<PrecheckItem> items{pass("CHECK_CONNECTION"), check_version((*sql)->server_version(), physical)};
  if (physical) {
    for (auto& item : physical_items(plan, **sql)) items.push_back(std::move(item));
  } else {
    for (auto& item : logical_items(plan, **sql)) items.push_back(std::move(item));
  }
  return items;
}

}  // namespace opendbs::engines::postgres
