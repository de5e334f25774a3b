// `opendbs wal-fetch`: the restore_command of a PostgreSQL data directory that opendbs restored
// (docs/POSTGRES.md). PostgreSQL runs it for every WAL file recovery needs; it reads the file from the
// repository, verifies it and writes it durably where PostgreSQL asked. Exit codes follow what
// PostgreSQL makes of them: 0 = written; 1 = not a file this restore replays (or a history file
// that is not stored, which recovery probes for), so recovery ends there; 255 = anything else (repository, key, a planned segment missing or damaged, a misspelt
// option), which makes PostgreSQL abort recovery instead of promoting at a point nobody chose.
#pragma once

#include <CLI/CLI.hpp>

namespace opendbs::cli {

void add_wal_fetch_command(CLI::App& app, int& exit_code);

}  // namespace opendbs::cli
