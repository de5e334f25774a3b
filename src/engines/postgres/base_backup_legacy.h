// BASE_BACKUP as PostgreSQL 12-14 speak it. Their options are bare keywords (15 parenthesised
// them) and there is no server-side compression. After the start position and the tablespace list
// the server sends one COPY of a raw tar archive per tablespace, in the list's order (the main data
// directory last, with the WAL from start to stop appended to it), then, from 13 on, the backup
// manifest as a COPY of its own, then the stop position. PostgreSQL 15 replaced all the COPYs with
// the single stream base_backup.cpp reads.
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <string>

#include "core/result.h"
#include "engines/engine.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/tar_reader.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

// The first version that speaks the single-stream protocol.
inline constexpr int kSingleStreamBaseBackupVersion = 150000;

// The command with what the 15+ one asks for: the label, progress (sizes in the tablespace list), a
// fast checkpoint, the WAL, no waiting for WAL archiving, and (13+) a manifest.
std::string legacy_base_backup_command(const std::string& label, int server_version);

// Receives the archives and the manifest (stored as the stream "backup_manifest"). `archive_for`
// returns the sink of the next archive's members given their prefix: "" for the data directory,
// "pg_tblspc/<oid>/" for a tablespace. Progress counts the archives' bytes against `total`.
core::Status receive_legacy_archives(PgConnection& repl, int server_version, const PGresult& tablespaces,
                                     const std::function<TarSink&(const std::string& prefix)>& archive_for,
                                     repo::SetWriter& set, uint64_t total, TaskControl& control);

}  // namespace opendbs::engines::postgres
