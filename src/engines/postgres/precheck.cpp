#include "engines/postgres/precheck.h"

#include "engines/postgres/pg_connection.h"
#include "engines/postgres/pg_dump_version.h"
#include "engines/postgres/wal_names.h"

namespace opendbs::engines::postgres {
namespace {

PrecheckItem pass(const char* name) { return {name, "finish", ""}; }
PrecheckItem fail(const char* name, std::string message) { return {name, "failed", std::move(message)}; }
PrecheckItem warn(const char* name, std::string message) { return {name, "warning", std::move(message)}; }

int64_t number(const Rows& rows, const char* column) { return std::stoll(rows.value(0, column).value_or("0")); }

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

std::vector<PrecheckItem> physical_items(const PlanSpec& plan, PgConnection& sql) {
  std::vector<PrecheckItem> items;
  auto role = sql.query("SELECT rolreplication OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user");
  if (!role.ok() || role->value(0, "ok").value_or("f") != "t") {
    items.push_back(fail("CHECK_PRIVILEGES", "the role " + plan.source.user +
                                                 " lacks the REPLICATION attribute: run ALTER ROLE \"" +
                                                 plan.source.user + "\" REPLICATION"));
  } else if (auto repl = PgConnection::open(plan.source, ConnectionKind::replication); !repl.ok()) {
    items.push_back(fail("CHECK_PRIVILEGES",
                         "a replication connection is refused (" + repl.error().message +
                             "): add a line such as 'host replication " + plan.source.user +
                             " <opendbs address>/32 scram-sha-256' to pg_hba.conf and reload PostgreSQL"));
  } else {
    items.push_back(pass("CHECK_PRIVILEGES"));
  }
  auto s = sql.query_params(
      "SELECT current_setting('wal_level') AS wal_level,"
      " current_setting('max_wal_senders')::int AS senders,"
      " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender') AS senders_used,"
      " current_setting('max_replication_slots')::int AS slots,"
      " (SELECT count(*) FROM pg_replication_slots) AS slots_used,"
      " (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1) AS own_slot",
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
  return items;
}

PrecheckItem logical_privileges(const PlanSpec& plan, PgConnection& sql) {
  auto r = sql.query(
      "SELECT count(*) AS unreadable, min(format('%I.%I', schemaname, tablename)) AS example FROM pg_tables"
      " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
      " AND NOT has_table_privilege(format('%I.%I', schemaname, tablename), 'SELECT')");
  if (!r.ok()) return fail("CHECK_PRIVILEGES", "cannot check table privileges: " + r.error().message);
  // pg_read_all_data came with PostgreSQL 14; before it, SELECT is granted schema by schema.
  const std::string grant = sql.server_version() >= 140000
                                ? "GRANT pg_read_all_data TO " + quote_ident(plan.source.user)
                                : "GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO " + quote_ident(plan.source.user) +
                                      " for each schema";
  if (number(*r, "unreadable") > 0)
    return fail("CHECK_PRIVILEGES", "the role " + plan.source.user + " cannot read " + r->value(0, "unreadable").value_or("") +
                                        " tables (e.g. " + r->value(0, "example").value_or("") + "): " + grant);
  return pass("CHECK_PRIVILEGES");
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
    items.push_back(logical_privileges(plan, **sql));
  }
  return items;
}

}  // namespace opendbs::engines::postgres
