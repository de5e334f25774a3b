// The stored start of the segment the source was filling, written into a restored data directory
// (docs/POSTGRES.md, "Restore and point-in-time recovery"). While WAL arrives, the log backup stores
// that segment as successive partial sets and forgets each one when it commits the next (every
// ~500 ms), or when the segment completes: a partial set planned before the full set was restored is
// usually gone by the time the restore reads it. A newer set of the same segment and timeline holds
// the older one's bytes as its prefix (every set stores the segment from its start, and the server
// sends only WAL it has flushed), so the restore takes the newest one instead — the complete segment
// once there is one — and stops recovery at the target by the planner's rule (recovery_target_time
// when the chosen WAL holds a later commit).
#pragma once

#include <filesystem>
#include <string>

#include <boost/json/object.hpp>

#include "core/result.h"
#include "engines/postgres/restore_wal_plan.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

// plan_restore_wal, planned again when a partial set it listed was forgotten before it read it.
core::Result<RestoreWalPlan> plan_stored_wal(repo::Repository& repository, const std::string& plan_id,
                                             const boost::json::object& backup, int64_t target_ms);

// Writes `wal.partial` zero-padded into `dir`/pg_wal. It must reach past the backup's stop (`backup`:
// the full set's engine metadata): pg_wal already holds the backup's own WAL up to there, which a
// shorter copy would cut. When the planned set has been forgotten, the newest stored set of that
// segment replaces it in `wal` (partial, stop_at_time). ServiceUnavailable when the log backup
// replaced it faster than the restore could open it, every time.
core::Status restore_partial(repo::Repository& repository, const std::string& plan_id, RestoreWalPlan& wal,
                             const boost::json::object& backup, int64_t target_ms, const std::filesystem::path& dir);

}  // namespace opendbs::engines::postgres
