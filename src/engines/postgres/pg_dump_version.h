// Which pg_dump a logical backup runs, and whether it can dump the source: pg_dump refuses servers
// of a newer major version than its own ("aborting because of server version mismatch"), and its
// output is meant for servers of its own version or newer, so the best pg_dump for a source is the
// oldest one at least as new as the source.
//
// Where PostgreSQL's clients are installed side by side as <root>/<major>/bin (Debian's
// postgresql-client-N under /usr/lib/postgresql), the engine picks that one itself and runs it
// directly. Debian's /usr/bin/pg_dump is postgresql-common's wrapper: it chooses a version by its own
// rules (for a local host, the local cluster's, which may be older than the source) and starts Perl
// on every run (~50 ms, three times per database). Elsewhere the engine runs the first pg_dump on
// PATH if its version can dump the source.
#pragma once

#include <string>

#include "core/result.h"

namespace opendbs::engines::postgres {

inline constexpr const char* kDebianPostgresRoot = "/usr/lib/postgresql";

// The major version in `pg_dump --version` output ("pg_dump (PostgreSQL) 15.14 (Debian ...)"), 0 if none.
int pg_dump_major_of(const std::string& version_output);

// The pg_dump to run for a server of `server_version` (PQserverVersion, e.g. 160004): a path under
// `versions_root`, or "pg_dump" (from PATH). Otherwise an error naming the pg_dump version needed
// and how to install it.
core::Result<std::string> pg_dump_for(int server_version, const std::string& versions_root = kDebianPostgresRoot);

// Ok when pg_dump_for finds one.
core::Status check_pg_dump_for(int server_version);

}  // namespace opendbs::engines::postgres
