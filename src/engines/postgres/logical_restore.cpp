#include "engines/postgres/logical_restore.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <mutex>
#include <set>
#include <thread>

#include <boost/json.hpp>

#include "core/errors.h"
#include "core/log.h"
#include "engines/postgres/create_database.h"
#include "engines/postgres/database_properties.h"
#include "engines/postgres/dump_session.h"
#include "engines/postgres/dump_settings.h"
#include "engines/postgres/event_triggers.h"
#include "engines/postgres/large_objects.h"
#include "engines/postgres/logical_backup.h"
#include "engines/postgres/matviews.h"
#include "engines/postgres/named_roles.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/restore_tablespaces.h"
#include "engines/postgres/script_lines.h"
#include "engines/restore_objects.h"

namespace opendbs::engines::postgres {
namespace {

// pg_dump 15.14 and later frame plain scripts with psql's \restrict and \unrestrict meta-commands,
// which the server does not understand; everything else in a schema-only script is SQL.
std::string without_psql_commands(const std::string& script) {
  return rewrite_lines(script, [](std::string_view line) -> std::optional<std::string> {
    if (line.starts_with("\\restrict ") || line.starts_with("\\unrestrict ")) return std::nullopt;
    return std::string(line);
  });
}

// `script` without the settings of its head that the destination lacks (dump_settings.h), logged.
std::string fitted_settings(const std::string& script, const std::set<std::string>& settings, const std::string& database) {
  auto fit = without_unknown_settings(script, settings);
  for (const auto& name : fit.dropped)
    core::log_event(core::LogLevel::info, "postgres_restore_setting_skipped",
                    {{"database", database}, {"parameter", name}, {"why", "the destination server has no such parameter"}});
  return std::move(fit.script);
}

core::Result<std::string> read_text(repo::Repository& repository, const std::string& set_id, const std::string& stream) {
  std::string out;
  OPENDBS_TRY(repository.read_stream(set_id, stream, [&](std::string_view b) {
    out.append(b);
    return core::Status{};
  }));
  return out;
}

// One database of the set as it is restored: under which name, and which of its tables get a new name
// (schema.table in the set → new table name in the same schema).
struct DatabasePlan {
  const boost::json::object* db = nullptr;
  std::string name, target;
  std::vector<std::pair<std::string, std::string>> table_renames;  // (qualified identifier, new name)
  bool create = true;  // false: an existing database without tables is used
};

// A table of the set by "name" or "schema.name"; an error when none or several match.
core::Result<const boost::json::object*> find_table(const DatabasePlan& p, const std::string& wanted) {
  const boost::json::object* found = nullptr;
  for (const auto& t : p.db->at("tables").as_array()) {
    const auto& table = t.as_object();
    const std::string name(table.at("name").as_string()), schema(table.at("schema").as_string());
    if (wanted != name && wanted != schema + "." + name) continue;
    if (found)
      return core::make_error("InvalidParameter", "RestoreObjects: table " + wanted + " of database " + p.name +
                                                      " is ambiguous; write it as schema.table");
    found = &table;
  }
  if (!found)
    return core::make_error("InvalidParameter",
                            "RestoreObjects: database " + p.name + " of the backup set has no table " + wanted);
  return found;
}

core::Status add_table_renames(DatabasePlan& p, const boost::json::object& entry) {
  auto it = entry.find("TableIncludes");
  if (it == entry.end()) return {};
  if (!it->value().is_array()) return core::make_error("InvalidParameter", "RestoreObjects: TableIncludes must be a list");
  for (const auto& item : it->value().as_array()) {
    if (!item.is_object()) return core::make_error("InvalidParameter", "RestoreObjects: TableIncludes items are objects");
    const std::string from = text_of(item.as_object(), "TableName"), to = text_of(item.as_object(), "NewTableName");
    if (from.empty() || to.empty())
      return core::make_error("InvalidParameter", "RestoreObjects: each TableIncludes item of database " + p.name +
                                                      " needs TableName and NewTableName (tables are chosen at backup "
                                                      "time with BackupObjects; a restore only renames them)");
    OPENDBS_TRY(check_new_table_name("RestoreObjects", from, to));
    OPENDBS_ASSIGN(auto table, find_table(p, from));
    const std::string schema(table->at("schema").as_string());
    const std::string qualified = quote_ident(schema) + "." + quote_ident(table->at("name").as_string());
    for (const auto& t : p.db->at("tables").as_array())
      if (t.as_object().at("schema") == table->at("schema") && t.as_object().at("name").as_string() == to)
        return core::make_error("InvalidParameter", "RestoreObjects: database " + p.name + " already has a table " +
                                                        schema + "." + to);
    // Caught here, before anything is written: the second rename would fail only after the whole load.
    for (const auto& [earlier, earlier_to] : p.table_renames) {
      if (earlier == qualified)
        return core::make_error("InvalidParameter", "RestoreObjects renames table " + schema + "." +
                                                        std::string(table->at("name").as_string()) + " of database " +
                                                        p.name + " twice");
      if (earlier_to == to && earlier.rfind(quote_ident(schema) + ".", 0) == 0)
        return core::make_error("InvalidParameter", "RestoreObjects renames two tables of schema " + schema +
                                                        " of database " + p.name + " to " + to);
    }
    p.table_renames.emplace_back(qualified, to);
  }
  return {};
}

// Every database of the set, with the names RestoreObjects gives it
// ([{"DBName":"shop","NewDBName":"shop_copy","TableIncludes":[{"TableName":"orders","NewTableName":"orders_old"}]}]);
// a database the list does not name keeps its name. Names the set does not hold are errors, so that
// a typo never restores something else.
core::Result<std::vector<DatabasePlan>> plan_databases(const boost::json::array& databases, const std::string& objects) {
  std::vector<DatabasePlan> plans;
  for (const auto& d : databases) {
    const std::string name(d.as_object().at("name").as_string());
    plans.push_back({&d.as_object(), name, name, {}});
  }
  if (objects.empty()) return plans;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(objects, ec);
  if (ec || !parsed.is_array()) return core::make_error("InvalidParameter", "RestoreObjects is not a JSON list");
  for (const auto& e : parsed.as_array()) {
    if (!e.is_object()) return core::make_error("InvalidParameter", "RestoreObjects items are objects");
    const std::string name = text_of(e.as_object(), "DBName"), target = text_of(e.as_object(), "NewDBName");
    auto plan = std::find_if(plans.begin(), plans.end(), [&](const DatabasePlan& p) { return p.name == name; });
    if (plan == plans.end())
      return core::make_error("InvalidParameter",
                              "RestoreObjects names database " + name + ", which the backup set does not hold");
    if (!target.empty()) plan->target = target;
    OPENDBS_TRY(add_table_renames(*plan, e.as_object()));
  }
  for (size_t i = 0; i < plans.size(); ++i)
    for (size_t j = i + 1; j < plans.size(); ++j)
      if (plans[i].target == plans[j].target)
        return core::make_error("InvalidParameter", "RestoreObjects restores databases " + plans[i].name + " and " +
                                                        plans[j].name + " both as " + plans[i].target);
  return plans;
}

// "shop_dbs_20261128T071500" (the moment restored, UTC), then "_2", "_3"... until the name is free;
// the base name is cut at a character boundary so that the whole fits PostgreSQL's 63 bytes.
std::string renamed(const std::string& name, int64_t target_ms, int attempt) {
  const std::time_t secs = static_cast<std::time_t>(target_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "_dbs_%Y%m%dT%H%M%S", &tm);
  const std::string suffix = std::string(stamp) + (attempt > 1 ? "_" + std::to_string(attempt) : "");
  std::string base = name;
  while (base.size() + suffix.size() > 63) {
    base.pop_back();
    while (!base.empty() && (static_cast<unsigned char>(base.back()) & 0xC0) == 0x80) base.pop_back();
    if (!base.empty() && (static_cast<unsigned char>(base.back()) & 0x80)) base.pop_back();
  }
  return base + suffix;
}

core::Result<bool> database_exists(PgConnection& admin, const std::string& name) {
  OPENDBS_ASSIGN(auto found, admin.query_params("SELECT 1 FROM pg_database WHERE datname = $1", {name}));
  return !found.rows.empty();
}

core::Result<bool> has_tables(const Endpoint& destination, const std::string& name) {
  Endpoint ep = destination;
  ep.database = name;
  OPENDBS_ASSIGN(auto conn, PgConnection::open(ep, ConnectionKind::sql));
  OPENDBS_ASSIGN(auto tables, conn->query("SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                                          " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"));
  return tables.value(0, "n").value_or("0") != "0";
}

// A database the restore created is marked with a comment until it is complete: after a crash of the
// node (no undo ran), the task's next attempt knows the half-loaded database as its own and loads it
// again, and anyone looking at the server sees what it is.
std::string unfinished_mark(const std::string& set_id) {
  return "opendbs: unfinished restore of backup set " + set_id + " (dropped and loaded again when the restore runs again)";
}

core::Result<bool> marked_unfinished(PgConnection& admin, const std::string& name, const std::string& set_id) {
  OPENDBS_ASSIGN(auto comment, admin.query_params("SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database"
                                                  " WHERE datname = $1",
                                                  {name}));
  return comment.value(0, "c").value_or("") == unfinished_mark(set_id);
}

// `comment` ("" for none) replaces the mark once the database is complete: the database's own, if any.
core::Status set_comment(PgConnection& admin, const std::string& name, const std::string& comment) {
  OPENDBS_TRY(admin.query(database_comment_statement(comment).on(name)));
  return {};
}

// WITH (FORCE) from PostgreSQL 13 on: a COPY a cancel cut short may still be ending; before, DROP
// DATABASE waits up to 5 s for such sessions.
core::Status drop_database(PgConnection& admin, const std::string& name) {
  OPENDBS_TRY(admin.query("DROP DATABASE IF EXISTS " + quote_ident(name) +
                          (admin.server_version() >= 130000 ? " WITH (FORCE)" : "")));
  return {};
}

// Whether database `name` exists, once one this restore (`set_id`) left half-loaded is dropped: a node
// that stopped while loading it ran no undo, and the task's next attempt loads it again from scratch.
core::Result<bool> exists_unless_own_unfinished(PgConnection& admin, const std::string& name, const std::string& set_id) {
  OPENDBS_ASSIGN(bool exists, database_exists(admin, name));
  if (!exists) return false;
  OPENDBS_ASSIGN(bool own, marked_unfinished(admin, name, set_id));
  if (!own) return true;
  OPENDBS_TRY(drop_database(admin, name));
  core::log_event(core::LogLevel::warn, "postgres_restore_unfinished_dropped", {{"database", name}, {"set", set_id}});
  return false;
}

// Every CREATE DATABASE on the server copies a template database (template1 by default): a set loaded
// into one would reappear in each database created after it.
core::Status refuse_template(PgConnection& admin, const DatabasePlan& plan) {
  OPENDBS_ASSIGN(auto found, admin.query_params("SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate",
                                                {plan.target}));
  if (found.rows.empty()) return {};
  return core::make_error("InvalidParameter", "RestoreObjects: database " + plan.name + " would be restored into " +
                                                  plan.target + ", a template database of the destination server "
                                                  "(every later CREATE DATABASE would copy what the restore loads); "
                                                  "give it another NewDBName");
}

// Decides, before anything is written, where each database goes: a new database, or an existing one
// that holds no tables yet. One that holds tables is a conflict: DuplicateConflict=renamenew restores
// under a free new name (told to `control` and the log), anything else stops the restore naming the
// database.
core::Status settle_targets(const Endpoint& destination, PgConnection& admin, std::vector<DatabasePlan>& plans,
                            const RestoreRequest& request, TaskControl& control) {
  const std::string& duplicate_conflict = request.duplicate_conflict;
  std::set<std::string> chosen;
  for (const auto& p : plans) chosen.insert(p.target);
  for (auto& plan : plans) {
    OPENDBS_ASSIGN(bool exists, exists_unless_own_unfinished(admin, plan.target, request.set_id));
    plan.create = !exists;
    if (!exists) continue;
    OPENDBS_TRY(refuse_template(admin, plan));
    OPENDBS_ASSIGN(bool taken, has_tables(destination, plan.target));
    if (!taken) continue;
    if (duplicate_conflict != "renamenew")
      return core::make_error("InvalidParameter", "the destination database " + plan.target +
                                                      " already has tables: drop it, restore into another server, rename "
                                                      "it with RestoreObjects or set DuplicateConflict=renamenew");
    const std::string wanted = plan.target;
    for (int attempt = 1; exists || chosen.count(plan.target); ++attempt) {
      plan.target = renamed(wanted, request.target_ms, attempt);  // the same names when the task runs again
      OPENDBS_ASSIGN(exists, exists_unless_own_unfinished(admin, plan.target, request.set_id));
    }
    chosen.insert(plan.target);
    plan.create = true;
    control.restored_as(plan.name, plan.target);
    core::log_event(core::LogLevel::info, "postgres_restore_renamed",
                    {{"database", plan.name}, {"taken", wanted}, {"restored_as", plan.target}});
  }
  return {};
}

// The restore's progress: 1 % once the names are settled, then up to 99 % by what is loaded — the share
// of tables (and databases' large objects) done or the share of the set's bytes loaded, whichever is
// further, so that one big table moves it while it loads; and the bytes of the set loaded so far (the
// task's bytes, opendbs_task_bytes_total).
struct LoadProgress {
  TaskControl& control;
  size_t total = 0;
  uint64_t total_bytes = 0;  // every stream of the databases restored
  std::atomic<size_t> done{0};
  std::atomic<uint64_t> bytes{0};
  int percent() const {
    const double by_steps = static_cast<double>(done) / static_cast<double>(std::max<size_t>(total, 1));
    const double by_bytes = total_bytes == 0 ? 0 : static_cast<double>(bytes) / static_cast<double>(total_bytes);
    return 1 + static_cast<int>(98 * std::min(1.0, std::max(by_steps, by_bytes)));
  }
  void loaded() {
    ++done;
    control.progress(percent(), bytes);
  }
  void add_bytes(uint64_t n) {
    bytes += n;
    control.progress(percent(), bytes);
  }
};

// The server's error of `result` as query() words it: "<SQLSTATE>: <message>".
std::string result_error(PGresult* result) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string detail = std::string(state ? state : "") + ": " + PQresultErrorMessage(result);
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  return detail;
}

core::Status load_table(PgConnection& conn, repo::Repository& repository, const std::string& set_id,
                        const boost::json::object& table, TaskControl& control, LoadProgress& progress) {
  const std::string target = quote_ident(table.at("schema").as_string()) + "." + quote_ident(table.at("name").as_string());
  OPENDBS_TRY(conn.send("COPY " + target + " FROM STDIN"));
  OPENDBS_ASSIGN(auto started, conn.next_result(&control));
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_IN)
    return source_error("COPY into " + target, started ? result_error(started.get()) : conn.error_message());
  core::Status st;
  for (const auto& stream : table_streams(table)) {  // a table backed up in parts: the parts in order
    st = repository.read_stream(set_id, stream, [&](std::string_view b) -> core::Status {
      if (control.cancelled()) return cancelled_error();
      if (PQputCopyData(conn.raw(), b.data(), static_cast<int>(b.size())) != 1)
        return source_error("COPY into " + target, conn.error_message());
      progress.add_bytes(b.size());
      return {};
    });
    if (!st.ok()) break;
  }
  if (PQputCopyEnd(conn.raw(), st.ok() ? nullptr : "restore aborted") != 1)
    return source_error("COPY into " + target, conn.error_message());
  OPENDBS_TRY(st);
  for (;;) {
    OPENDBS_ASSIGN(auto r, conn.next_result(&control));
    if (!r) return {};
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return source_error("COPY into " + target, result_error(r.get()));
  }
}

// Loads the tables with up to kLogicalWorkers parallel COPYs, telling `progress` of each.
// `encoding`: the one the set's COPY text is in ("" in sets from before it was recorded: the database's).
core::Status load_tables(const Endpoint& ep, repo::Repository& repository, const std::string& set_id,
                         const boost::json::array& tables, const std::string& encoding, TaskControl& control,
                         LoadProgress& progress) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  core::Status first_error;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::min<size_t>(kLogicalWorkers, tables.size()); ++i)
    threads.emplace_back([&] {
      auto st = [&]() -> core::Status {
        OPENDBS_ASSIGN(auto conn, PgConnection::open(ep, ConnectionKind::sql));
        OPENDBS_TRY(use_dump_settings(*conn, encoding));
        for (size_t t = next++; t < tables.size(); t = next++) {
          {
            std::lock_guard lock(mu);
            if (!first_error.ok()) return {};
          }
          OPENDBS_TRY(load_table(*conn, repository, set_id, tables[t].as_object(), control, progress));
          progress.loaded();
        }
        return {};
      }();
      std::lock_guard lock(mu);
      if (!st.ok() && first_error.ok()) first_error = st;
    });
  for (auto& t : threads) t.join();
  return first_error;
}

// pre-data, the data, the sequences, post-data (indexes and constraints built once over the loaded
// rows), then the table renames RestoreObjects asks for and the materialized views' refreshes, with
// the database's event triggers disabled.
core::Status restore_database(repo::Repository& repository, const RestoreRequest& request, const DatabasePlan& plan,
                              TaskControl& control, LoadProgress& progress) {
  const std::string prefix(plan.db->at("prefix").as_string());
  Endpoint ep = request.destination;
  ep.database = plan.target;
  OPENDBS_ASSIGN(auto conn, PgConnection::open(ep, ConnectionKind::sql));
  const std::string encoding = text_of(*plan.db, "encoding");
  OPENDBS_TRY(use_dump_settings(*conn, encoding));
  OPENDBS_ASSIGN(auto tablespaces, server_tablespaces(*conn));
  OPENDBS_ASSIGN(auto settings, server_settings(*conn));
  OPENDBS_ASSIGN(auto pre, read_text(repository, request.set_id, prefix + "pre-data.sql"));
  progress.add_bytes(pre.size());
  auto pre_fit = fit_tablespaces(fitted_settings(without_psql_commands(pre), settings, plan.target), tablespaces);
  OPENDBS_TRY(conn->query(pre_fit.script));
  OPENDBS_TRY(load_tables(ep, repository, request.set_id, plan.db->at("tables").as_array(), encoding, control, progress));
  if (control.cancelled()) return cancelled_error();
  if (large_object_count(*plan.db) > 0) {  // tables refer to them by oid: each keeps its own
    OPENDBS_TRY(restore_large_objects(*conn, repository, request.set_id, *plan.db, control));
    progress.add_bytes(large_object_bytes(*plan.db));
    progress.loaded();
  }
  OPENDBS_ASSIGN(auto sequences, read_text(repository, request.set_id, prefix + "sequences.sql"));
  if (!sequences.empty()) OPENDBS_TRY(conn->query(sequences));
  progress.add_bytes(sequences.size());
  OPENDBS_ASSIGN(auto post, read_text(repository, request.set_id, prefix + "post-data.sql"));
  auto post_fit = fit_tablespaces(fitted_settings(without_psql_commands(post), settings, plan.target), tablespaces);
  OPENDBS_TRY(conn->query(post_fit.script));
  progress.add_bytes(post.size());
  post_fit.missing.merge(pre_fit.missing);
  for (const auto& name : post_fit.missing) {  // the objects went into the database's default tablespace
    core::log_event(core::LogLevel::warn, "postgres_restore_tablespace_missing",
                    {{"database", plan.target}, {"tablespace", name}, {"placed_in", "the database's default tablespace"}});
    control.warning("database " + plan.target + ": tablespace " + name +
                    " does not exist on the destination; its objects were placed in the database's default tablespace");
  }
  // post-data ends with the event triggers, which may refuse the DDL that follows (event_triggers.h).
  return with_event_triggers_disabled(*conn, [&]() -> core::Status {
    for (const auto& [table, name] : plan.table_renames)
      OPENDBS_TRY(conn->query("ALTER TABLE " + table + " RENAME TO " + quote_ident(name)));
    // Renames reach tables only; the views read them by oid and keep their own names.
    return refresh_matviews(*conn, *plan.db, control);
  });
}

std::string described(const DatabasePlan& plan) {
  return "database " + plan.name + (plan.target != plan.name ? " (restored as " + plan.target + ")" : "");
}

// A set whose schema names roles the destination lacks (named_roles.h) is refused before anything is
// written, naming what needs which roles: the statement would fail the restore after the whole load.
core::Status refuse_missing_roles(PgConnection& admin, const std::vector<DatabasePlan>& plans) {
  OPENDBS_ASSIGN(auto existing, query_names(admin, "SELECT rolname FROM pg_catalog.pg_roles"));
  std::string what;
  std::set<std::string> roles;
  for (const auto& plan : plans) {
    auto missing = missing_roles(*plan.db, existing);
    if (missing.objects.empty()) continue;
    what += (what.empty() ? "" : "; ") + described(plan) + ": ";
    for (size_t i = 0; i < missing.objects.size(); ++i) what += (i ? ", " : "") + missing.objects[i];
    roles.merge(missing.roles);
  }
  if (roles.empty()) return {};
  std::string create;
  for (const auto& r : roles) create += (create.empty() ? "" : " ") + ("CREATE ROLE " + quote_ident(r) + ";");
  return core::make_error("InvalidParameter",
                          "the backup set names roles the destination server lacks — " + what +
                              ". Create these roles on the destination first (" + create +
                              "), then restore again; policies are restored as they are, never opened to other "
                              "roles. Nothing was written to the destination");
}

// SQLSTATE classes of errors that are not the destination refusing a statement of the set: connection
// exceptions, transaction rollbacks (deadlocks), insufficient resources, objects in use, operator
// intervention (shutdown), system and internal errors.
bool refused_statement(const std::string& sqlstate) {
  if (sqlstate.size() != 5) return false;
  for (const char* cls : {"08", "40", "53", "55", "57", "58", "XX"})
    if (sqlstate.starts_with(cls)) return false;
  return true;
}

// `error` of restoring `plan`'s database, naming it. The destination refusing a statement of the set
// (a role, extension or syntax it lacks, an object in the way) is no reachability problem but a set
// and a destination that do not fit as they are: InvalidParameter. A lost connection, a privilege the
// role lacks (SourcePermissionDenied), cancellation and the repository's errors keep their codes.
core::Error in_database(const DatabasePlan& plan, core::Error error) {
  const std::string sqlstate = sqlstate_of(error);
  if (error.code != "SourceUnreachable" || !refused_statement(sqlstate)) return error.with_context(described(plan));
  std::string message = "the destination server refused a statement: " + error.message;
  // A set from before roles_named (named_roles.h) meets a missing role only here.
  if (sqlstate == "42704" && error.message.find("role \"") != std::string::npos)
    message += " (a row security policy or user mapping of the set names this role: create it on the destination "
               "first, CREATE ROLE ..., then restore again)";
  return core::make_error("InvalidParameter", message).with_context(described(plan));
}

// A restore cancelled or failed part way leaves no half-loaded database behind: the databases it
// created are dropped (drop_database). An existing database it restored
// into (one without tables, which may hold other objects of its own) is not dropped: the error names
// it. Returns `error` with what was cleaned up and what was left added to its message.
core::Error undo_partial_restore(PgConnection& admin, const std::vector<std::string>& created,
                                 const std::vector<std::string>& used, core::Error error) {
  std::string dropped, left;
  for (const auto& name : created) {
    auto st = drop_database(admin, name);
    if (st.ok()) dropped += (dropped.empty() ? "" : ", ") + name;
    else left += (left.empty() ? "" : "; ") + name + " (created by the restore, could not be dropped: " + st.error().message + ")";
  }
  for (const auto& name : used)
    left += (left.empty() ? "" : "; ") + name + " (existed before; keeps what the restore loaded into it)";
  core::log_event(core::LogLevel::warn, "postgres_restore_undone",
                  {{"error", error.message}, {"dropped", dropped}, {"left", left}});
  if (!dropped.empty()) error.message += "; the databases the restore had created were dropped: " + dropped;
  if (!left.empty()) error.message += "; left on the destination, to drop or empty by hand: " + left;
  return error;
}

}  // namespace

core::Status logical_restore(repo::Repository& repository, const RestoreRequest& request, TaskControl& control) {
  if (request.destination.host.empty())
    return core::make_error("InvalidParameter", "a logical PostgreSQL restore needs a destination server endpoint");
  OPENDBS_ASSIGN(auto manifest, repository.load_manifest(request.set_id));
  OPENDBS_ASSIGN(auto plans, plan_databases(manifest.engine_metadata.at("databases").as_array(), request.restore_objects));
  LoadProgress progress{control};
  for (const auto& p : plans) {
    progress.total += p.db->at("tables").as_array().size() + (large_object_count(*p.db) > 0);
    const std::string_view prefix = p.db->at("prefix").as_string();
    for (const auto& s : manifest.streams)
      if (std::string_view(s.name).starts_with(prefix)) progress.total_bytes += s.meta.size;
  }
  control.progress(1, 0);
  Endpoint admin_ep = request.destination;
  if (admin_ep.database.empty()) admin_ep.database = "postgres";
  OPENDBS_ASSIGN(auto admin, PgConnection::open(admin_ep, ConnectionKind::sql));
  OPENDBS_TRY(refuse_missing_roles(*admin, plans));
  OPENDBS_TRY(settle_targets(request.destination, *admin, plans, request, control));
  std::vector<std::string> created, used;
  for (const auto& plan : plans) {
    if (plan.create) {
      auto made = create_database(*admin, *plan.db, plan.target, control);
      if (!made.ok())
        return undo_partial_restore(*admin, created, used,
                                    source_error("CREATE DATABASE " + plan.target, made.error().message));
      created.push_back(plan.target);
      if (auto marked = set_comment(*admin, plan.target, unfinished_mark(request.set_id)); !marked.ok())
        return undo_partial_restore(*admin, created, used, marked.error());
    } else {
      used.push_back(plan.target);
    }
    core::Status st = restore_database(repository, request, plan, control, progress);
    if (!st.ok()) st = in_database(plan, st.error());
    // The database's own settings, grants and connection limit once its data are in (none of them may
    // hinder the load: default_transaction_read_only, a search_path, a limit of 1), then its own
    // comment replaces the mark. A database that existed before keeps its own.
    if (st.ok() && plan.create) st = apply_database_properties(*admin, *plan.db, plan.target, control);
    if (st.ok() && plan.create) st = set_comment(*admin, plan.target, database_comment(*plan.db));
    if (!st.ok()) return undo_partial_restore(*admin, created, used, control.cancelled() ? cancelled_error() : st.error());
  }
  control.progress(100, progress.bytes);
  return {};
}

}  // namespace opendbs::engines::postgres
