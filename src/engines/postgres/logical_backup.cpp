#include "engines/postgres/logical_backup.h"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "core/errors.h"
#include "core/log.h"
#include "engines/postgres/backup_objects.h"
#include "engines/postgres/database_properties.h"
#include "engines/postgres/dump_session.h"
#include "engines/postgres/excluded_dependents.h"
#include "engines/postgres/large_objects.h"
#include "engines/postgres/matviews.h"
#include "engines/postgres/named_roles.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/dump_settings.h"
#include "engines/postgres/pg_dump_version.h"
#include "engines/postgres/table_locks.h"

namespace opendbs::engines::postgres {
namespace {

// One COPY of a table: the whole table, or a range of its heap blocks (`where` is a ctid condition).
// Below this a table is not worth splitting.
constexpr uint64_t kMinPartBlocks = 8;
constexpr size_t kCopyBatchBytes = 1 << 20;
// How long the snapshot's holder waits for a lock another session holds on a table to copy, and how
// many snapshots it takes when DDL keeps committing between a snapshot and its locks.
constexpr int kLockTimeoutMs = 60000;
constexpr int kSnapshotAttempts = 3;
// pg_dump's wait for its own locks: longer only behind a DDL statement that waits for ours.
constexpr int kDumpLockWaitMs = 5000;

struct Part {
  std::string stream, where;
};

struct Table {
  std::string schema, name;
  uint64_t bytes = 0;
  std::string columns;  // the columns COPY takes (not dropped, not generated), as the snapshot sees them
  std::vector<Part> parts;
  TableIdentity identity;
};

// pg_dump connects with a conninfo string, as every other connection of the engine: a database name
// given as such would be taken for one when it holds "=" ("a=b": "invalid connection option").
// The password stays out of the arguments (libpq_env passes it). `--encoding` is the database's own,
// as every session of the backup uses: without it PGCLIENTENCODING on the node, or a client_encoding
// the server or role sets, would have pg_dump write names converted, which the sessions copying the
// tables would not find.
std::vector<std::string> pg_dump_argv(const std::string& pg_dump, const Endpoint& ep, const std::string& snapshot,
                                      const char* section, const std::string& encoding,
                                      const std::vector<Table>& excluded) {
  Endpoint without_password = ep;
  without_password.password.clear();
  std::vector<std::string> argv{pg_dump, "--schema-only", std::string("--section=") + section, "--no-owner",
                                "--no-privileges", "--snapshot=" + snapshot,
                                "--lock-wait-timeout=" + std::to_string(kDumpLockWaitMs), "--no-password",
                                "--encoding=" + encoding,
                                "--dbname=" + conninfo(without_password, ConnectionKind::sql)};
  for (const auto& t : excluded) argv.push_back("--exclude-table=" + quote_ident(t.schema) + "." + quote_ident(t.name));
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
  // Partitioned tables whose DDL the set keeps: chosen, or holding a chosen partition (which pg_dump
  // attaches to them). They hold no rows of their own.
  std::vector<Table> partitioned;
  std::vector<std::string> unmatched_includes;  // TableIncludes patterns that match no table here
};

core::Result<TableChoice> list_tables(PgConnection& conn, const std::string& db, const BackupObjects& objects) {
  OPENDBS_ASSIGN(auto rows, conn.query(
      "SELECT n.nspname, c.relname, pg_relation_size(c.oid) AS bytes,"
      " (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a"
      "  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns, " +
      std::string(kTableIdentityColumns) +
      ", c.relkind::text AS relkind, (SELECT i.inhparent::text FROM pg_inherits i"
      "  WHERE i.inhrelid = c.oid AND c.relispartition) AS parent"
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
      " AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
      " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid"
      "                 AND d.deptype = 'e')"
      " ORDER BY 3 DESC, 1, 2"));
  const size_t n = rows.rows.size();
  std::map<std::string, size_t> by_oid;
  for (size_t i = 0; i < n; ++i) by_oid[rows.rows[i][4].value_or("")] = i;
  std::vector<BackupObjects::Table> nodes;
  for (const auto& row : rows.rows) {
    nodes.push_back({*row[0], *row[1], {}});
    if (auto it = by_oid.find(row[8].value_or("")); it != by_oid.end()) nodes.back().parent = it->second;
  }
  const auto kept = objects.kept_tables(db, nodes);
  TableChoice choice;
  choice.unmatched_includes = objects.unmatched_includes(db, nodes);
  // As pg_dump with -t patterns that match nothing: a set without any of the tables asked for is a
  // mistake to say, not a backup to finish.
  if (!choice.unmatched_includes.empty() && std::none_of(kept.begin(), kept.end(), [](bool k) { return k; }))
    return core::errors::invalid_parameter("BackupObjects", joined_patterns(choice.unmatched_includes),
                                           "TableIncludes that match tables of database " + quote_ident(db) +
                                               ": none of these matches one");
  for (size_t i = 0; i < n; ++i) {
    const auto& row = rows.rows[i];
    Table t{*row[0], *row[1], std::stoull(row[2].value_or("0")), row[3].value_or(""), {}, {}};
    t.identity = {quote_ident(t.schema) + "." + quote_ident(t.name), row[4].value_or(""), row[5].value_or(""),
                  row[6].value_or("")};
    const bool partitioned = row[7].value_or("") == "p";
    (!kept[i] ? choice.excluded : partitioned ? choice.partitioned : choice.selected).push_back(std::move(t));
  }
  return choice;
}

// Gives each table its parts. A table larger than an even share of the database (total / workers) is
// split into ranges of heap blocks of about that share, so that one big table keeps every worker (and
// a server backend each) busy; TID range scans (PostgreSQL 14+) make each range read only its blocks.
void plan_parts(std::vector<Table>& tables, const std::string& prefix, bool tid_range_scans, uint64_t block_size) {
  uint64_t total = 0;
  for (const auto& t : tables) total += t.bytes;
  const uint64_t share = std::max<uint64_t>(total / kLogicalWorkers, kMinPartBlocks * block_size);
  for (size_t i = 0; i < tables.size(); ++i) {
    auto& t = tables[i];
    const std::string stream = prefix + "tables/" + std::to_string(i);
    const uint64_t blocks = t.bytes / block_size;
    const uint64_t parts = std::min<uint64_t>(kLogicalWorkers, (t.bytes + share - 1) / share);
    if (!tid_range_scans || parts < 2 || t.columns.empty()) {
      t.parts.push_back({stream, ""});
      continue;
    }
    for (uint64_t k = 0; k < parts; ++k) {
      const uint64_t from = blocks * k / parts, to = blocks * (k + 1) / parts;
      std::string where = k == 0 ? "" : "ctid >= '(" + std::to_string(from) + ",0)'";
      // The last range is open: it takes blocks the table gained after its size was read.
      if (k + 1 < parts) where += std::string(k == 0 ? "" : " AND ") + "ctid < '(" + std::to_string(to) + ",0)'";
      t.parts.push_back({stream + "." + std::to_string(k), where});
    }
  }
}

// Bytes copied out so far, reported as they arrive (from every worker) against the databases' size
// on disk, an estimate of the COPY text to come; 99 % at most until the set is complete.
struct CopyProgress {
  TaskControl& control;
  const uint64_t total;
  std::atomic<uint64_t> bytes{0};
  void add(uint64_t n) {
    const uint64_t b = bytes += n;
    control.progress(static_cast<int>(std::min<uint64_t>(99, 100 * b / std::max<uint64_t>(total, 1))), b);
  }
};

// Reads a COPY OUT into batches of about kCopyBatchBytes (one CopyData message is one row), so that
// the repository sees few large writes; waits in slices so that a cancelled task stops promptly.
core::Status copy_out(PgConnection& conn, TaskControl& control, repo::StreamWriter& out, CopyProgress& progress) {
  std::string batch;
  batch.reserve(kCopyBatchBytes + 65536);
  for (;;) {
    char* row = nullptr;
    const int n = PQgetCopyData(conn.raw(), &row, 1);
    if (n > 0) {
      batch.append(row, static_cast<size_t>(n));
      PQfreemem(row);
      if (batch.size() < kCopyBatchBytes) continue;
    } else if (n == 0) {
      if (control.cancelled()) return cancelled_error();
      pollfd fd{PQsocket(conn.raw()), POLLIN, 0};
      if (::poll(&fd, 1, 200) < 0 && errno != EINTR) return source_error("reading the copy stream", "poll failed");
      if (PQconsumeInput(conn.raw()) != 1) return source_error("reading the copy stream", conn.error_message());
      continue;
    } else if (n == -2) {
      return source_error("reading the copy stream", conn.error_message());
    }
    OPENDBS_TRY(out.write(batch));
    progress.add(batch.size());
    batch.clear();
    if (n == -1) return {};
  }
}

// row_security = off (dump_session.h): a table whose RLS policies would hide rows from the role
// refuses the COPY (42501) rather than giving only the rows the role may see.
core::Error copy_refused(const std::string& what, PGresult* result, PgConnection& conn) {
  if (!result) return source_error(what, conn.error_message());
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string detail = std::string(state ? state : "") + ": " + PQresultErrorMessage(result);
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  if (detail.find("row-level security") != std::string::npos)
    detail += " (row-level security would hide rows of this table from the backup's role: the role needs the"
              " BYPASSRLS attribute, or to own the table, to back up all of its rows)";
  return source_error(what, detail);
}

core::Status copy_part(PgConnection& conn, const Table& t, const Part& part, repo::SetWriter& set, TaskControl& control,
                       CopyProgress& progress) {
  const std::string qualified = quote_ident(t.schema) + "." + quote_ident(t.name);
  const std::string what = "COPY of " + t.schema + "." + t.name;
  OPENDBS_ASSIGN(auto out, set.add_stream(part.stream, repo::FileMeta{t.bytes / t.parts.size(), 0600, 0}));
  // The columns the snapshot saw, named: a column added since (the lock then waited for nothing)
  // stays out, as it is out of the schema taken on the snapshot.
  const std::string column_list = t.columns.empty() ? "" : " (" + t.columns + ")";
  OPENDBS_TRY(conn.send(part.where.empty() && t.parts.size() == 1
                            ? "COPY " + qualified + column_list + " TO STDOUT"
                            : "COPY (SELECT " + t.columns + " FROM ONLY " + qualified + " WHERE " + part.where +
                                  ") TO STDOUT"));
  OPENDBS_ASSIGN(auto started, conn.next_result(&control));
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_OUT)
    return copy_refused(what, started.get(), conn);
  OPENDBS_TRY(copy_out(conn, control, *out, progress));
  for (;;) {
    OPENDBS_ASSIGN(auto r, conn.next_result(&control));
    if (!r) break;
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return source_error(what, PQresultErrorMessage(r.get()));
  }
  return out->close();
}

// Parallel workers, each on its session of the snapshot, COPY the parts out, largest tables first.
core::Status copy_tables(std::vector<std::unique_ptr<PgConnection>>& sessions, const std::vector<Table>& tables,
                         repo::SetWriter& set, TaskControl& control, CopyProgress& progress) {
  std::vector<std::pair<const Table*, const Part*>> work;
  for (const auto& t : tables)
    for (const auto& p : t.parts) work.emplace_back(&t, &p);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  core::Status first_error;
  auto worker = [&](PgConnection& conn) -> core::Status {
    for (size_t i = next++; i < work.size() && !failed; i = next++)
      OPENDBS_TRY(copy_part(conn, *work[i].first, *work[i].second, set, control, progress));
    return {};
  };
  std::vector<std::thread> threads;
  for (auto& session : sessions)
    threads.emplace_back([&, conn = session.get()] {
      auto st = worker(*conn);
      if (st.ok()) return;
      failed = true;
      std::lock_guard lock(mu);
      if (first_error.ok()) first_error = st;
    });
  for (auto& t : threads) t.join();
  return first_error;
}

boost::json::object table_entry(const Table& t) {
  boost::json::object entry{{"schema", t.schema}, {"name", t.name}};
  if (t.parts.size() == 1) {
    entry["stream"] = t.parts[0].stream;
    return entry;
  }
  boost::json::array streams;
  for (const auto& p : t.parts) streams.push_back(boost::json::string(p.stream));
  entry["streams"] = std::move(streams);
  return entry;
}

// A database's snapshot and every session reading it, ready to copy: `holder` exported the snapshot,
// each worker runs a transaction on it, and every one of them holds an ACCESS SHARE lock on every
// selected table (table_locks.h). A worker that only locked a table when its COPY began would queue
// behind a TRUNCATE that waits for the holder's lock, which waits for the worker: the backup would
// hang and the table stay locked. So all locks are taken before anything is copied, and a DDL
// statement found waiting meanwhile makes the sessions give way to it and start over.
struct SnapshotSessions {
  std::unique_ptr<PgConnection> holder;
  std::vector<std::unique_ptr<PgConnection>> workers;
  std::string id;
  int64_t ms = 0;
  DatabaseEncoding encoding;  // COPY's text is in it
  TableChoice choice;
  std::string pre_data, post_data;  // pg_dump's schema on the snapshot
  std::vector<LeftOutObject> left_out;  // what needs excluded tables (excluded_dependents.h)
  std::string kept_sequences = "true";  // leaves out the identity sequences of excluded tables
};

// Finds what cannot be restored without the excluded tables; included tables among it are excluded too.
core::Status leave_out_dependents(SnapshotSessions& s) {
  std::vector<TableName> excluded;
  for (const auto& t : s.choice.excluded) excluded.emplace_back(t.schema, t.name);
  OPENDBS_ASSIGN(s.left_out, excluded_dependents(*s.holder, excluded));
  auto& selected = s.choice.selected;
  for (const auto& [schema, name] : left_out_tables(s.left_out)) {
    auto it = std::find_if(selected.begin(), selected.end(), [&](const Table& t) { return t.schema == schema && t.name == name; });
    if (it == selected.end()) continue;
    s.choice.excluded.push_back(std::move(*it));
    selected.erase(it);
    excluded.emplace_back(schema, name);
  }
  OPENDBS_ASSIGN(s.kept_sequences, kept_sequences_condition(*s.holder, excluded));
  return {};
}

// Why an attempt gave way to DDL (table names or the server's message), or "" when it holds.
using Raced = std::string;

core::Result<Raced> open_sessions(SnapshotSessions& s, const Endpoint& ep, const BackupObjects& objects,
                                  const std::string& prefix, const std::string& pg_dump) {
  OPENDBS_ASSIGN(s.holder, PgConnection::open(ep, ConnectionKind::sql));
  OPENDBS_ASSIGN(s.encoding, use_dump_settings(*s.holder));
  OPENDBS_TRY(s.holder->query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  OPENDBS_ASSIGN(auto snap, s.holder->query("SELECT pg_export_snapshot() AS s,"
                                            " (extract(epoch from clock_timestamp()) * 1000)::bigint AS ms,"
                                            " current_setting('block_size') AS b"));
  s.id = snap.value(0, "s").value_or("");
  s.ms = std::stoll(snap.value(0, "ms").value_or("0"));
  OPENDBS_ASSIGN(s.choice, list_tables(*s.holder, ep.database, objects));
  OPENDBS_TRY(leave_out_dependents(s));
  std::vector<TableIdentity> seen;
  for (const auto& t : s.choice.selected) seen.push_back(t.identity);
  for (const auto& t : s.choice.partitioned) seen.push_back(t.identity);
  OPENDBS_ASSIGN(auto gone, lock_tables(*s.holder, seen, kLockTimeoutMs));
  if (!gone.empty()) return gone;
  plan_parts(s.choice.selected, prefix, s.holder->server_version() >= 140000,
             std::stoull(snap.value(0, "b").value_or("8192")));
  size_t parts = 0;
  for (const auto& t : s.choice.selected) parts += t.parts.size();

  // pg_dump locks the tables too: it gives up after a while behind a waiting DDL statement. The two
  // sections are dumped side by side: on a small database each pg_dump's catalog reading is most of
  // the backup's time.
  core::Result<std::string> pre_data(std::string{}), post_data(std::string{});
  const auto dump_section = [&](const char* section, core::Result<std::string>* out) {
    return std::thread([&ep, &s, &pg_dump, section, out] {
      *out = run_program(pg_dump_argv(pg_dump, ep, s.id, section, s.encoding.encoding, s.choice.excluded),
                         libpq_env(ep));
    });
  };
  std::thread pre_dump = dump_section("pre-data", &pre_data), post_dump = dump_section("post-data", &post_data);
  Raced raced;
  core::Status opened;
  for (size_t i = 0; i < std::min<size_t>(kLogicalWorkers, std::max<size_t>(parts, 1)) && opened.ok() && raced.empty();
       ++i) {
    auto worker = PgConnection::open(ep, ConnectionKind::sql);
    if (!worker.ok()) {
      opened = worker.error();
      break;
    }
    if (auto set = use_dump_settings(**worker); !set.ok()) opened = set.error();
    else opened = join_snapshot(**worker, s.id);
    if (!opened.ok()) break;
    auto waiting = lock_tables(**worker, seen, /*wait_ms=*/0);
    if (!waiting.ok()) opened = waiting.error();
    else raced = *waiting;
    s.workers.push_back(std::move(*worker));
  }
  pre_dump.join();
  post_dump.join();
  OPENDBS_TRY(opened);
  if (!raced.empty()) return raced;
  for (auto* ddl : {&pre_data, &post_data}) {
    if (ddl->ok()) continue;
    if (ddl->error().message.find("could not obtain lock") != std::string::npos) return ddl->error().message;
    return ddl->error();
  }
  s.pre_data = without_left_out(*pre_data, s.left_out);
  s.post_data = without_left_out(*post_data, s.left_out);
  OPENDBS_ASSIGN(auto now, PgConnection::open(ep, ConnectionKind::sql));
  OPENDBS_ASSIGN(auto changed, changed_tables(*now, seen));
  Raced names;
  for (const auto& c : changed) names += (names.empty() ? "" : ", ") + c;
  return names;
}

// Sessions of a snapshot no DDL raced, after a few attempts at most (each gives way to the DDL it met).
core::Result<SnapshotSessions> snapshot_sessions(const Endpoint& ep, const BackupObjects& objects,
                                                 const std::string& prefix, const std::string& pg_dump) {
  for (int attempt = 1;; ++attempt) {
    SnapshotSessions s;
    OPENDBS_ASSIGN(auto raced, open_sessions(s, ep, objects, prefix, pg_dump));
    if (raced.empty()) return s;
    core::log_event(core::LogLevel::warn, "postgres_logical_snapshot_retry",
                    {{"database", ep.database}, {"attempt", attempt}, {"ddl", raced}});
    if (attempt == kSnapshotAttempts)
      return source_error("taking a consistent snapshot of database " + ep.database,
                          "DDL changed or waited for the tables to back up at each of " +
                              std::to_string(kSnapshotAttempts) + " attempts, the last: " + raced);
  }  // the sessions of a failed attempt close here: their transactions end and the DDL goes on
}

core::Result<boost::json::object> backup_database(const PlanSpec& plan, const BackupObjects& objects,
                                                  const std::string& pg_dump, const std::string& db, size_t index,
                                                  repo::SetWriter& set, TaskControl& control, CopyProgress& progress) {
  Endpoint ep = plan.source;
  ep.database = db;
  const std::string prefix = "logical/" + std::to_string(index) + "/";
  OPENDBS_ASSIGN(auto s, snapshot_sessions(ep, objects, prefix, pg_dump));
  if (!s.choice.unmatched_includes.empty())
    control.warning("database " + quote_ident(db) + ": BackupObjects TableIncludes " +
                    joined_patterns(s.choice.unmatched_includes) + " match no table; the set holds the others");
  const auto& tables = s.choice.selected;
  OPENDBS_ASSIGN(auto sequences, s.holder->query(
      "SELECT string_agg(format('SELECT pg_catalog.setval(%L, %s, true);',"
      " format('%I.%I', schemaname, sequencename), last_value), E'\\n') AS sql FROM pg_sequences WHERE last_value IS NOT NULL AND " + s.kept_sequences));
  OPENDBS_TRY(put_text(set, prefix + "sequences.sql", sequences.value(0, "sql").value_or("")));
  OPENDBS_ASSIGN(auto matviews, populated_matviews(*s.holder));  // pg_dump creates them WITH NO DATA
  matviews = without_left_out_matviews(matviews, s.left_out);
  // A newer pg_dump than the source sets parameters the source lacks (dump_settings.h).
  OPENDBS_ASSIGN(auto settings, server_settings(*s.holder));
  OPENDBS_TRY(put_text(set, prefix + "pre-data.sql", unknown_settings_guarded(s.pre_data, settings)));
  OPENDBS_TRY(put_text(set, prefix + "post-data.sql", unknown_settings_guarded(s.post_data, settings)));
  OPENDBS_TRY(copy_tables(s.workers, tables, set, control, progress));
  boost::json::object properties;  // the database's own settings, grants, comment, locale provider
  OPENDBS_TRY(read_database_properties(*s.holder, properties));
  std::vector<TableName> kept;  // the tables whose DDL the set keeps, with their policies
  for (const auto* list : {&s.choice.selected, &s.choice.partitioned})
    for (const auto& t : *list) kept.emplace_back(t.schema, t.name);
  OPENDBS_ASSIGN(auto named, roles_named(*s.holder, kept, s.left_out));
  OPENDBS_ASSIGN(auto large_objects, backup_large_objects(ep, s.id, prefix + "large_objects", set, control,
                                                          [&](uint64_t n) { progress.add(n); }));
  OPENDBS_TRY(s.holder->query("COMMIT"));
  if (control.cancelled()) return cancelled_error();
  boost::json::array table_list;
  for (const auto& t : tables) table_list.push_back(table_entry(t));
  boost::json::object entry{{"name", db}, {"prefix", prefix}, {"snapshot_ms", s.ms}, {"tables", table_list},
                            {"populated_matviews", matviews}, {"roles_named", named},
                            {"encoding", s.encoding.encoding}, {"collate", s.encoding.collate}, {"ctype", s.encoding.ctype}};
  for (auto& [key, value] : properties) entry[key] = std::move(value);
  if (!large_objects.empty()) entry["large_objects"] = std::move(large_objects);
  if (!s.left_out.empty()) entry["left_out"] = left_out_json(s.left_out);
  log_left_out(db, s.left_out);
  return entry;
}

}  // namespace

std::vector<std::string> table_streams(const boost::json::object& table) {
  std::vector<std::string> out;
  if (auto it = table.find("streams"); it != table.end() && it->value().is_array())
    for (const auto& s : it->value().as_array())
      if (s.is_string()) out.emplace_back(s.as_string());
  if (auto it = table.find("stream"); it != table.end() && it->value().is_string()) out.emplace_back(it->value().as_string());
  return out;
}

core::Result<FullBackupResult> logical_full_backup(const PlanSpec& plan, repo::SetWriter& set, TaskControl& control) {
  OPENDBS_ASSIGN(auto objects, BackupObjects::parse(plan.backup_objects));
  OPENDBS_ASSIGN(auto admin, PgConnection::open(plan.source, ConnectionKind::sql));
  OPENDBS_ASSIGN(const auto pg_dump, pg_dump_for(admin->server_version()));  // before anything is stored
  OPENDBS_ASSIGN(auto dbs, admin->query("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate"
                                        " ORDER BY datname"));
  OPENDBS_ASSIGN(auto size, admin->query("SELECT sum(pg_database_size(datname))::bigint AS b FROM pg_database"
                                         " WHERE datallowconn AND NOT datistemplate"));
  const uint64_t total = std::stoull(size.value(0, "b").value_or("1"));
  CopyProgress progress{control, total};
  boost::json::array databases;
  int64_t consistent_ms = 0;
  for (size_t i = 0; i < dbs.rows.size(); ++i) {
    if (control.cancelled()) return cancelled_error();
    if (!objects.selects_database(*dbs.rows[i][0])) continue;
    OPENDBS_ASSIGN(auto db, backup_database(plan, objects, pg_dump, *dbs.rows[i][0], i, set, control, progress));
    consistent_ms = std::max(consistent_ms, db.at("snapshot_ms").as_int64());
    databases.push_back(std::move(db));
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
  control.progress(100, progress.bytes);
  return out;
}

}  // namespace opendbs::engines::postgres
