// The server configuration files a data directory needs to start when the backup set has none of its
// own: a source that keeps them outside its data directory — Debian's and Ubuntu's packages keep
// postgresql.conf, pg_hba.conf and pg_ident.conf in /etc/postgresql/<version>/<cluster>/ — sends no
// configuration with BASE_BACKUP, which copies only the data directory, and PostgreSQL refuses to
// start on a directory without postgresql.conf. A restore (and the Native download) then writes
// minimal ones, which say in their first lines what they are; docs/POSTGRES.md describes them.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "repo/repository.h"

namespace opendbs::engines::postgres {

inline constexpr std::array<const char*, 3> kServerConfigFiles = {"postgresql.conf", "pg_hba.conf", "pg_ident.conf"};

// The content opendbs writes for `name`, one of kServerConfigFiles.
std::string minimal_server_config(const std::string& name);

// The files of kServerConfigFiles that the set does not hold.
std::vector<std::string> config_files_missing_from(const repo::Manifest& manifest);

// Writes the minimal file for each one the set lacks and `dir` lacks too (a delta restore keeps those
// already there: the source's own, copied in by a user, or an earlier restore's), logging which
// (postgres_restore_config_written). Returns the names written.
core::Result<std::vector<std::string>> write_missing_server_config(const repo::Manifest& manifest,
                                                                 const std::filesystem::path& dir);

}  // namespace opendbs::engines::postgres
