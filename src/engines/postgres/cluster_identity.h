// Which PostgreSQL cluster a data directory or a backup set belongs to: the system identifier that
// initdb gives a cluster, which every copy of it — a base backup, a standby, a restore — keeps. A
// delta restore rewrites only the files that differ and removes the rest, so a directory of another
// cluster (another source, another account's restore, a server under maintenance) is refused
// before anything is written.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/result.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

// The system identifier in `dir`/global/pg_control: its first 8 bytes, in the byte order of the
// machine that wrote it (little-endian on every platform opendbs builds for; pg_controldata shows
// the same number as "Database system identifier"). A directory a delta restore has not finished has
// no pg_control: the identifier it recorded (unfinished_restore_dir.h).
core::Result<uint64_t> data_directory_system_identifier(const std::filesystem::path& dir);

// The set's: its metadata's system_identifier (IDENTIFY_SYSTEM at backup time), else the first 8
// bytes of its global/pg_control.
core::Result<uint64_t> set_system_identifier(repo::Repository& repository, const repo::Manifest& manifest);

// ok when the data directory `dir` is a copy of the set's cluster, else InvalidParameter naming both
// identifiers.
core::Status check_same_cluster(repo::Repository& repository, const repo::Manifest& manifest,
                                const std::filesystem::path& dir);

}  // namespace opendbs::engines::postgres
