// Which pg_dump a logical backup runs, and whether it can dump the source: pg_dump refuses servers
// of a newer major version than its own ("aborting because of server version mismatch"). The engine
// runs the first pg_dump on PATH (on Debian, postgresql-common's wrapper, which picks one of the
// installed postgresql-client-N), so the fix is a client as new as the source on the opendbs node.
#pragma once

#include <string>

#include "core/result.h"

namespace opendbs::engines::postgres {

// The major version in `pg_dump --version` output ("pg_dump (PostgreSQL) 15.14 (Debian ...)"), 0 if none.
int pg_dump_major_of(const std::string& version_output);

// Runs `pg_dump --version`; an error when there is no pg_dump to run.
core::Result<int> installed_pg_dump_major();

// Ok when the installed pg_dump can dump a server of `server_version` (PQserverVersion, e.g. 160004);
// otherwise an error naming the pg_dump version needed and how to install it.
core::Status check_pg_dump_for(int server_version);

}  // namespace opendbs::engines::postgres
