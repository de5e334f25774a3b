// The repository sets of a plan's WAL backup (docs/POSTGRES.md, "Continuous WAL backup"). Every one
// has a single stream "segment" holding the file's bytes, and an id "log-<plan>-" followed by:
//   <WAL file name>                  a complete segment
//   <WAL file name>.partial-<bytes>  the first <bytes> bytes of the segment still filling; superseded
//                                    by the next partial set and forgotten when the segment completes;
//                                    kept when the stream passes the segment (a gap in the source's WAL)
//   <WAL file name>.partial          a timeline's last segment, cut at the switch point where the
//                                    source moved on to a new timeline (PostgreSQL's archiver names
//                                    it so); final
//   <timeline>.history               the history file of a timeline the stream followed
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engines/postgres/timeline_history.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

enum class WalSetKind { segment, filling, timeline_end, history };

struct WalSet {
  WalSetKind kind = WalSetKind::segment;
  std::string id;
  std::string file;       // the WAL file name (24 hex digits) or the history file name
  uint32_t timeline = 0;
  uint64_t segno = 0;     // not for history files
  uint64_t bytes = 0;     // of a filling partial set
};

// Manifest `kind` of each (engine metadata).
namespace wal_kind {
inline constexpr const char* kSegment = "wal_segment";
inline constexpr const char* kFilling = "wal_segment_partial";
inline constexpr const char* kTimelineEnd = "wal_timeline_end";
inline constexpr const char* kHistory = "timeline_history";
}  // namespace wal_kind

std::optional<WalSet> parse_wal_set_id(const std::string& plan_id, const std::string& id, uint64_t segment_size);

// The plan's WAL sets in the repository, in id order.
core::Result<std::vector<WalSet>> list_wal_sets(repo::Repository& repository, const std::string& plan_id,
                                                uint64_t segment_size);

// Timeline `timeline`'s history as stored in the plan's set, nullopt when it is not stored. Timeline 1
// has none and comes back empty.
core::Result<std::optional<TimelineHistory>> load_timeline_history(repo::Repository& repository,
                                                                   const std::string& plan_id, uint32_t timeline);

// Whether an error from load_manifest / read_stream says that the set is not in the repository.
bool is_not_stored(const core::Error& error);

// Values of a manifest's engine metadata: an integer (signed or not), else `fallback`; a string, else "".
int64_t meta_int(const boost::json::object& metadata, const char* key, int64_t fallback);
std::string meta_text(const boost::json::object& metadata, const char* key);

// The whole stream "segment" of a set (small sets: history files).
core::Result<std::string> read_wal_set(repo::Repository& repository, const std::string& set_id);

}  // namespace opendbs::engines::postgres
