#include "engines/postgres/server_config_files.h"

#include "core/file.h"
#include "core/log.h"

namespace opendbs::engines::postgres {
namespace {

constexpr const char* kWhy =
    "# Written by opendbs: the backup set holds no copy of this file. Its source kept its configuration\n"
    "# outside the data directory (as Debian's packages do, in /etc/postgresql/<version>/<cluster>/), and a\n"
    "# base backup copies only the data directory. Replace this file with the source's own to have its\n"
    "# settings (in postgresql.conf leave out data_directory, hba_file, ident_file and external_pid_file,\n"
    "# which name the source's paths).\n";

constexpr const char* kPostgresqlConf =
    "#\n"
    "# Every setting not given here has PostgreSQL's default (port 5432, listen_addresses 'localhost').\n"
    "# The restore's recovery settings are in postgresql.auto.conf, which PostgreSQL reads after this file.\n"
    "\n"
    "# Recovery replays the WAL without serving queries, so that it needs no max_connections,\n"
    "# max_worker_processes, max_wal_senders, max_prepared_transactions or max_locks_per_transaction at\n"
    "# least the source's (which a hot standby needs, and this file cannot know). The server accepts\n"
    "# connections once recovery has ended and it has promoted.\n"
    "hot_standby = off\n";

// Debian's defaults: an operating-system user connects over the Unix socket as the role of its own
// name (peer); over TCP only from this machine, with a password (SCRAM).
constexpr const char* kPgHbaConf =
    "#\n"
    "# Local connections: an operating-system user as the role of the same name (peer), e.g. the server's\n"
    "# user as postgres. TCP only from this machine, with the role's password (SCRAM; a password stored\n"
    "# as MD5, the default before PostgreSQL 14, cannot log in this way: use md5 instead).\n"
    "# TYPE  DATABASE        USER            ADDRESS                 METHOD\n"
    "local   all             all                                     peer\n"
    "host    all             all             127.0.0.1/32            scram-sha-256\n"
    "host    all             all             ::1/128                 scram-sha-256\n"
    "local   replication     all                                     peer\n"
    "host    replication     all             127.0.0.1/32            scram-sha-256\n"
    "host    replication     all             ::1/128                 scram-sha-256\n";

constexpr const char* kPgIdentConf =
    "#\n"
    "# No user name maps.\n"
    "# MAPNAME       SYSTEM-USERNAME         PG-USERNAME\n";

}  // namespace

std::string minimal_server_config(const std::string& name) {
  const std::string body = name == "postgresql.conf" ? kPostgresqlConf : name == "pg_hba.conf" ? kPgHbaConf : kPgIdentConf;
  return kWhy + body;
}

std::vector<std::string> config_files_missing_from(const repo::Manifest& manifest) {
  std::vector<std::string> out;
  for (const char* name : kServerConfigFiles)
    if (manifest.find_stream(name) == nullptr) out.emplace_back(name);
  return out;
}

core::Result<std::vector<std::string>> write_missing_server_config(const repo::Manifest& manifest,
                                                                 const std::filesystem::path& dir) {
  std::vector<std::string> written;
  std::string names;
  for (const auto& name : config_files_missing_from(manifest)) {
    std::error_code ec;
    if (std::filesystem::exists(dir / name, ec)) continue;
    OPENDBS_TRY(core::write_file_durable((dir / name).string(), minimal_server_config(name), 0600));
    written.push_back(name);
    names += (names.empty() ? "" : ", ") + name;
  }
  if (!written.empty())
    core::log_event(core::LogLevel::warn, "postgres_restore_config_written",
                    {{"set", manifest.set_id}, {"dir", dir.string()}, {"files", names},
                     {"why", "the backup set holds no " + names +
                                 ": its source keeps them outside the data directory (e.g. /etc/postgresql); "
                                 "minimal ones were written, copy the source's own to have its settings"}});
  return written;
}

}  // namespace opendbs::engines::postgres
