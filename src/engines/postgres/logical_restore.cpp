#include "engines/postgres/logical_restore.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "core/errors.h"
#include "engines/postgres/logical_backup.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {
namespace {

std::string ident(std::string_view s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// pg_dump 15.14 and later frame plain scripts with psql's \restrict and \unrestrict meta-commands,
// which the server does not understand; everything else in a schema-only script is SQL.
std::string without_psql_commands(const std::string& script) {
  std::string out;
  size_t at = 0;
  while (at < script.size()) {
    size_t end = script.find('\n', at);
    end = end == std::string::npos ? script.size() : end + 1;
    const std::string_view line(script.data() + at, end - at);
    if (line.rfind("\\restrict ", 0) != 0 && line.rfind("\\unrestrict ", 0) != 0) out.append(line);
    at = end;
  }
  return out;
}

core::Result<std::string> read_text(repo::Repository& repository, const std::string& set_id, const std::string& stream) {
  std::string out;
  OPENDBS_TRY(repository.read_stream(set_id, stream, [&](std::string_view b) {
    out.append(b);
    return core::Status{};
  }));
  return out;
}

// Creates the database, or accepts an existing one that holds no tables yet.
core::Status prepare_database(const Endpoint& destination, const std::string& name) {
  Endpoint admin_ep = destination;
  admin_ep.database = "postgres";
  OPENDBS_ASSIGN(auto admin, PgConnection::open(admin_ep, ConnectionKind::sql));
  OPENDBS_ASSIGN(auto found, admin->query_params("SELECT 1 FROM pg_database WHERE datname = $1", {name}));
  if (found.rows.empty()) return admin->query("CREATE DATABASE " + ident(name)).ok() ? core::Status{}
                                                                                    : source_error("CREATE DATABASE " + name, admin->error_message());
  Endpoint ep = destination;
  ep.database = name;
  OPENDBS_ASSIGN(auto conn, PgConnection::open(ep, ConnectionKind::sql));
  OPENDBS_ASSIGN(auto tables, conn->query("SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                                          " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"));
  if (tables.value(0, "n").value_or("0") != "0")
    return core::make_error("InvalidParameter", "the destination database " + name +
                                                    " already has tables: drop it or restore into another server");
  return {};
}

core::Status load_table(PgConnection& conn, repo::Repository& repository, const std::string& set_id,
                        const boost::json::object& table, TaskControl& control) {
  const std::string target = ident(table.at("schema").as_string()) + "." + ident(table.at("name").as_string());
  OPENDBS_TRY(conn.send("COPY " + target + " FROM STDIN"));
  OPENDBS_ASSIGN(auto started, conn.next_result(&control));
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_IN)
    return source_error("COPY into " + target, started ? PQresultErrorMessage(started.get()) : conn.error_message());
  core::Status st;
  for (const auto& stream : table_streams(table)) {  // a table backed up in parts: the parts in order
    st = repository.read_stream(set_id, stream, [&](std::string_view b) -> core::Status {
      if (control.cancelled()) return cancelled_error();
      if (PQputCopyData(conn.raw(), b.data(), static_cast<int>(b.size())) != 1)
        return source_error("COPY into " + target, conn.error_message());
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
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return source_error("COPY into " + target, PQresultErrorMessage(r.get()));
  }
}

core::Status load_tables(const Endpoint& ep, repo::Repository& repository, const std::string& set_id,
                         const boost::json::array& tables, TaskControl& control) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  core::Status first_error;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::min<size_t>(kLogicalWorkers, tables.size()); ++i)
    threads.emplace_back([&] {
      auto st = [&]() -> core::Status {
        OPENDBS_ASSIGN(auto conn, PgConnection::open(ep, ConnectionKind::sql));
        for (size_t t = next++; t < tables.size(); t = next++) {
          {
            std::lock_guard lock(mu);
            if (!first_error.ok()) return {};
          }
          OPENDBS_TRY(load_table(*conn, repository, set_id, tables[t].as_object(), control));
        }
        return {};
      }();
      std::lock_guard lock(mu);
      if (!st.ok() && first_error.ok()) first_error = st;
    });
  for (auto& t : threads) t.join();
  return first_error;
}

}  // namespace

core::Status logical_restore(repo::Repository& repository, const RestoreRequest& request, TaskControl& control) {
  if (request.destination.host.empty())
    return core::make_error("InvalidParameter", "a logical PostgreSQL restore needs a destination server endpoint");
  OPENDBS_ASSIGN(auto manifest, repository.load_manifest(request.set_id));
  const auto& databases = manifest.engine_metadata.at("databases").as_array();
  for (size_t i = 0; i < databases.size(); ++i) {
    const auto& db = databases[i].as_object();
    const std::string name(db.at("name").as_string());
    const std::string prefix(db.at("prefix").as_string());
    OPENDBS_TRY(prepare_database(request.destination, name));
    Endpoint ep = request.destination;
    ep.database = name;
    OPENDBS_ASSIGN(auto conn, PgConnection::open(ep, ConnectionKind::sql));
    OPENDBS_ASSIGN(auto pre, read_text(repository, request.set_id, prefix + "pre-data.sql"));
    OPENDBS_TRY(conn->query(without_psql_commands(pre)));
    OPENDBS_TRY(load_tables(ep, repository, request.set_id, db.at("tables").as_array(), control));
    if (control.cancelled()) return cancelled_error();
    OPENDBS_ASSIGN(auto sequences, read_text(repository, request.set_id, prefix + "sequences.sql"));
    if (!sequences.empty()) OPENDBS_TRY(conn->query(sequences));
    OPENDBS_ASSIGN(auto post, read_text(repository, request.set_id, prefix + "post-data.sql"));
    OPENDBS_TRY(conn->query(without_psql_commands(post)));
    control.progress(static_cast<int>(100 * (i + 1) / databases.size()), 0);
  }
  control.progress(100, 0);
  return {};
}

}  // namespace opendbs::engines::postgres
