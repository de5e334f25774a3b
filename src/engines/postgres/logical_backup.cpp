#include "engines/postgres/logical_backup.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "core/errors.h"
#include "engines/postgres/backup_objects.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {
namespace {

struct Table {
  std::string schema, name, stream;
  uint64_t bytes = 0;
};

std::string ident(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::vector<std::string> pg_dump_argv(const Endpoint& ep, const std::string& snapshot, const char* section,
                                      const std::vector<Table>& excluded) {
  std::vector<std::string> argv{"pg_dump", "--schema-only", std::string("--section=") + section, "--no-owner",
                                "--no-privileges", "--snapshot=" + snapshot, "--host=" + ep.host,
                                "--port=" + std::to_string(ep.port), "--username=" + ep.user, "--no-password",
                                "--dbname=" + ep.database};
  for (const auto& t : excluded) argv.push_back("--exclude-table=" + ident(t.schema) + "." + ident(t.name));
  return argv;
}

std::vector<std::string> libpq_env(const Endpoint& ep) {
  std::vector<std::string> env{std::string("PGSSLMODE=") + (ep.ssl ? "require" : "prefer")};
  if (!ep.password.empty()) env.push_back("PGPASSWORD=" + ep.password);
  return env;
}

core::Status put_text(repo::SetWriter& set, const std::string& name, const std::string& text) {
  OPENDBS_ASSIGN(auto w, set.add_stream(name, repo::FileMeta{text.size(), 0600, 0}));
  OPENDBS_TRY(w->write(text));
  return w->close();
}

struct TableChoice {
  std::vector<Table> selected, excluded;
};

core::Result<TableChoice> list_tables(PgConnection& conn, const std::string& db, const BackupObjects& objects,
                                      const std::string& prefix) {
  OPENDBS_ASSIGN(auto rows, conn.query(
      "SELECT n.nspname, c.relname, pg_relation_size(c.oid) AS bytes FROM pg_class c"
      " JOIN pg_namespace n ON n.oid = c.relnamespace"
      " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
      " AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
      " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid"
      "                 AND d.deptype = 'e')"
      " ORDER BY 3 DESC, 1, 2"));
  TableChoice choice;
  for (const auto& row : rows.rows) {
    Table t{*row[0], *row[1], "", std::stoull(row[2].value_or("0"))};
    if (!objects.selects_table(db, t.schema, t.name)) {
      choice.excluded.push_back(std::move(t));
      continue;
    }
    t.stream = prefix + "tables/" + std::to_string(choice.selected.size());
    choice.selected.push_back(std::move(t));
  }
  return choice;
}

// Parallel workers, each in a transaction on the exported snapshot, COPY the tables out.
core::Status copy_tables(const Endpoint& ep, const std::string& snapshot, const std::vector<Table>& tables,
                         repo::SetWriter& set, TaskControl& control, std::atomic<uint64_t>& bytes) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  core::Status first_error;
  auto worker = [&]() -> core::Status {
    OPENDBS_ASSIGN(auto conn, PgConnection::open(ep, ConnectionKind::sql));
    OPENDBS_TRY(conn->query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    OPENDBS_TRY(conn->query("SET TRANSACTION SNAPSHOT '" + snapshot + "'"));
    for (size_t i = next++; i < tables.size(); i = next++) {
      {
        std::lock_guard lock(mu);
        if (!first_error.ok()) return {};
      }
      const auto& t = tables[i];
      OPENDBS_ASSIGN(auto out, set.add_stream(t.stream, repo::FileMeta{t.bytes, 0600, 0}));
      OPENDBS_TRY(conn->send("COPY " + ident(t.schema) + "." + ident(t.name) + " TO STDOUT"));
      OPENDBS_ASSIGN(auto started, conn->next_result(&control));
      if (!started || PQresultStatus(started.get()) != PGRES_COPY_OUT)
        return source_error("COPY of " + t.schema + "." + t.name, started ? PQresultErrorMessage(started.get()) : "");
      for (;;) {
        OPENDBS_ASSIGN(auto row, conn->get_copy_data(&control));
        if (!row) break;
        bytes += row->size();
        OPENDBS_TRY(out->write(*row));
      }
      for (;;) {
        OPENDBS_ASSIGN(auto r, conn->next_result(&control));
        if (!r) break;
        if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
          return source_error("COPY of " + t.schema + "." + t.name, PQresultErrorMessage(r.get()));
      }
      OPENDBS_TRY(out->close());
    }
    return {};
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::min<size_t>(kLogicalWorkers, tables.size()); ++i)
    threads.emplace_back([&] {
      auto st = worker();
      std::lock_guard lock(mu);
      if (!st.ok() && first_error.ok()) first_error = st;
    });
  for (auto& t : threads) t.join();
  return first_error;
}

core::Result<boost::json::object> backup_database(const PlanSpec& plan, const BackupObjects& objects,
                                                  const std::string& db, size_t index, repo::SetWriter& set,
                                                  TaskControl& control, std::atomic<uint64_t>& bytes) {
  Endpoint ep = plan.source;
  ep.database = db;
  const std::string prefix = "logical/" + std::to_string(index) + "/";
  OPENDBS_ASSIGN(auto holder, PgConnection::open(ep, ConnectionKind::sql));
  OPENDBS_TRY(holder->query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  OPENDBS_ASSIGN(auto snap, holder->query("SELECT pg_export_snapshot() AS s,"
                                          " (extract(epoch from clock_timestamp()) * 1000)::bigint AS ms"));
  const std::string snapshot = snap.value(0, "s").value_or("");
  const int64_t snapshot_ms = std::stoll(snap.value(0, "ms").value_or("0"));
  OPENDBS_ASSIGN(auto choice, list_tables(*holder, db, objects, prefix));
  const auto& tables = choice.selected;
  OPENDBS_ASSIGN(auto sequences, holder->query(
      "SELECT string_agg(format('SELECT pg_catalog.setval(%L, %s, true);',"
      " format('%I.%I', schemaname, sequencename), last_value), E'\\n') AS sql FROM pg_sequences WHERE last_value IS NOT NULL"));
  for (const char* section : {"pre-data", "post-data"}) {
    OPENDBS_ASSIGN(auto ddl, run_program(pg_dump_argv(ep, snapshot, section, choice.excluded), libpq_env(ep)));
    OPENDBS_TRY(put_text(set, prefix + section + ".sql", ddl));
  }
  OPENDBS_TRY(put_text(set, prefix + "sequences.sql", sequences.value(0, "sql").value_or("")));
  OPENDBS_TRY(copy_tables(ep, snapshot, tables, set, control, bytes));
  OPENDBS_TRY(holder->query("COMMIT"));
  if (control.cancelled()) return cancelled_error();
  boost::json::array table_list;
  for (const auto& t : tables) table_list.push_back({{"schema", t.schema}, {"name", t.name}, {"stream", t.stream}});
  return boost::json::object{{"name", db}, {"prefix", prefix}, {"snapshot_ms", snapshot_ms}, {"tables", table_list}};
}

}  // namespace

core::Result<FullBackupResult> logical_full_backup(const PlanSpec& plan, repo::SetWriter& set, TaskControl& control) {
  OPENDBS_ASSIGN(auto objects, BackupObjects::parse(plan.backup_objects));
  OPENDBS_ASSIGN(auto admin, PgConnection::open(plan.source, ConnectionKind::sql));
  OPENDBS_ASSIGN(auto dbs, admin->query("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate"
                                        " ORDER BY datname"));
  OPENDBS_ASSIGN(auto size, admin->query("SELECT sum(pg_database_size(datname))::bigint AS b FROM pg_database"
                                         " WHERE datallowconn AND NOT datistemplate"));
  const uint64_t total = std::stoull(size.value(0, "b").value_or("1"));
  std::atomic<uint64_t> bytes{0};
  boost::json::array databases;
  int64_t consistent_ms = 0;
  for (size_t i = 0; i < dbs.rows.size(); ++i) {
    if (control.cancelled()) return cancelled_error();
    if (!objects.selects_database(*dbs.rows[i][0])) continue;
    OPENDBS_ASSIGN(auto db, backup_database(plan, objects, *dbs.rows[i][0], i, set, control, bytes));
    consistent_ms = std::max(consistent_ms, db.at("snapshot_ms").as_int64());
    databases.push_back(std::move(db));
    control.progress(static_cast<int>(std::min<uint64_t>(99, 100 * bytes / std::max<uint64_t>(total, 1))), bytes);
  }
  if (databases.empty())
    return core::errors::invalid_parameter("BackupObjects", plan.backup_objects, "objects naming an existing database");
  FullBackupResult out;
  out.consistent_ms = consistent_ms;
  out.log_start_seq = -1;
  out.metadata = {{"engine", "postgres"},
                  {"method", "logical"},
                  {"server_version", admin->server_version()},
                  {"consistent_ms", consistent_ms},
                  {"databases", databases}};
  control.progress(100, bytes);
  return out;
}

}  // namespace opendbs::engines::postgres
