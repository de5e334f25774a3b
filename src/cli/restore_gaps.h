// What a plan's restorable window (BeginTimestampForRestore → EndTimestampForRestore) does not say,
// for `plan list` and `plan show`: that log was stored past its end, beyond a gap in the log chain that
// no full set has followed yet, or that moments inside it are not restorable (the gap between two
// ranges, after a full set taken past a gap).
#pragma once

#include <boost/json/array.hpp>
#include <cstdint>
#include <string>

namespace opendbs::cli {

// `ranges`: DescribeRestoreRangeInfo's DBSRecoverRange items; `newest_log_end_ms`: the EndTime of the
// plan's newest log file (0: none). "" when the window hides nothing; else, e.g.
// "gap since 2026-11-29T05:31:28+00:00: a new full backup starts a new range" or
// "not restorable 2026-11-29T05:31:28+00:00 → 2026-11-29T05:40:02+00:00 (a gap in the log chain)"
// (the newest such gap).
std::string restore_gap_note(const boost::json::array& ranges, int64_t newest_log_end_ms);

}  // namespace opendbs::cli
