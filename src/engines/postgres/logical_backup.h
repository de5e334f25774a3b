// Logical full backup: per database, one exported snapshot shared by a pg_dump of the schema (pre-data
// and post-data sections) and by parallel workers that COPY each table out; sequence values are read
// under the same snapshot. A logical set restores to the moment of its snapshot (a "point").
#pragma once

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

inline constexpr unsigned kLogicalWorkers = 4;

core::Result<FullBackupResult> logical_full_backup(const PlanSpec& plan, repo::SetWriter& set, TaskControl& control);

// Runs a program (searched in PATH) with extra environment variables; returns its standard output,
// or an error with its standard error when it exits non-zero.
core::Result<std::string> run_program(const std::vector<std::string>& argv,
                                      const std::vector<std::string>& extra_env);

}  // namespace opendbs::engines::postgres
