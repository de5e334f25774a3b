// Logical full backup: per database, one exported snapshot shared by a pg_dump of the schema (pre-data
// and post-data sections) and by parallel workers that COPY each table out; sequence values are read
// under the same snapshot. A logical set restores to the moment of its snapshot (a "point").
//
// A table larger than an even share of its database is copied in parts, ranges of its heap blocks,
// each a stream of its own: the manifest's table entry then has "streams" (in block order) instead
// of "stream". Their concatenation is the table's COPY text; each part also loads on its own.
#pragma once

#include <boost/json/object.hpp>

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

inline constexpr unsigned kLogicalWorkers = 4;

// The streams of a manifest table entry, in order: ["stream"] or the "streams" of a split table.
std::vector<std::string> table_streams(const boost::json::object& table);

core::Result<FullBackupResult> logical_full_backup(const PlanSpec& plan, repo::SetWriter& set, TaskControl& control);

// Runs a program (searched in PATH) with extra environment variables; returns its standard output,
// or an error with its standard error when it exits non-zero.
core::Result<std::string> run_program(const std::vector<std::string>& argv,
                                      const std::vector<std::string>& extra_env);

}  // namespace opendbs::engines::postgres
