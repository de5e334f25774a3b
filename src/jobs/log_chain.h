// A plan's log files as a chain of positions, and where that chain breaks: the restore ranges
// (api/ops/restore_ranges.h) walk it from each finished full set, and the plan's ErrMessage names a gap
// in it after the newest full set (refresh_log_gap_warning).
//
// A position is (source generation, _Seq): a set joins only log files streamed from its own source
// (jobs::source_epoch), whatever their sequence numbers. The chain goes on past a position only where
// a file there is not UNCOMPLETED: an UNCOMPLETED file alone was not streamed to its end. When log
// backup ran again the stream continued at a later position (a gap: the source no longer had the WAL,
// `postgres_wal_gap`), which may well be the next one: the chain ends at the UNCOMPLETED file's
// EndTime, and a new one begins with a full set taken after the gap.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "catalog/store.h"
#include "engines/engine.h"

namespace opendbs::jobs {

using LogPosition = std::pair<int64_t, int64_t>;  // (source generation, seq)

struct LogChain {
  // Several files can share a position after a timeline switch (the old timeline's end, the history
  // file, the new timeline's segment): the position reaches as far as the furthest of them.
  std::map<LogPosition, int64_t> end_at;
  // The positions a file continues past (one of its files is not UNCOMPLETED).
  std::set<LogPosition> links;
  // The barriers of every file at a position (of any timeline there: after a fork a cut may come
  // earlier than needed, never later).
  std::map<LogPosition, std::vector<engines::LogBarrier>> barriers_at;
};

core::Result<LogChain> load_log_chain(catalog::Tx& tx, const std::string& plan_id);

// Where the plan's log chain breaks after its newest finished full set of the plan's current source,
// while log of that source was stored past the break: the moment the chain from that set reaches.
// None when there is no such set or the chain from it is unbroken up to the newest log stored.
core::Result<std::optional<int64_t>> log_gap_after_newest_set(catalog::Tx& tx, const catalog::Record& plan);

// Puts into the plan's ErrMessage (plan_warning.h) that its log chain has a gap, or removes that once
// a full set taken after the gap finished. Stores the plan when the message changed.
core::Status refresh_log_gap_warning(catalog::Tx& tx, const std::string& plan_id);

// The plan doc field holding the gap warning (plan_warning.h).
inline constexpr const char* kLogGapWarningField = "_LogGapWarning";

}  // namespace opendbs::jobs
