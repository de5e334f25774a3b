// How the catalog keeps the log barriers (engines::LogBarrier) an engine reports: each log-file record
// lists those of the part of the file stored so far, and each physical full set records where in the
// log its roll-forward begins, so that the API's restorable ranges end where the engine would refuse a
// restore (api/ops/restore_ranges.h). Written by the task runners, read by the API.
#pragma once

#include <boost/json/object.hpp>
#include <vector>

#include "engines/engine.h"

namespace opendbs::jobs {

// Fields of a log-file record: the barriers as [{Position, LatestTime, What}], and "yes" when it has
// any (a string field, so that a catalog query can find the files that do).
inline constexpr const char* kLogBarriers = "_RestoreBarriers";
inline constexpr const char* kHasLogBarrier = "_HasRestoreBarrier";
// Field of a full set's record: engines::FullBackupResult::log_start_position.
inline constexpr const char* kLogStartPosition = "_LogStartPosition";

void put_log_barriers(boost::json::object& log_file_doc, const std::vector<engines::LogBarrier>& barriers);
std::vector<engines::LogBarrier> log_barriers_of(const boost::json::object& log_file_doc);
// 0 (every barrier concerns the set) for a set recorded before positions were.
int64_t log_start_position_of(const boost::json::object& set_doc);

}  // namespace opendbs::jobs
