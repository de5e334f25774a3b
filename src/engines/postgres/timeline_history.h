// Timeline history files ("00000002.history"): which timeline a WAL position belongs to once the
// source has been promoted or recovered to a point in time. Each line of the history of timeline N
// reads "<parent timeline> <switch LSN> <reason>": the parent's WAL is valid up to the switch point,
// where its child begins; timeline N itself begins at the last line's switch point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "engines/postgres/wal_names.h"

namespace opendbs::engines::postgres {

struct TimelineSwitch {
  uint32_t timeline = 0;  // an ancestor
  Lsn end = 0;            // where it ends and the next one in the history begins
};

// Timeline N's ancestry, oldest first; empty for timeline 1 (which has no history file).
struct TimelineHistory {
  uint32_t timeline = 1;
  std::vector<TimelineSwitch> ancestors;

  // Where `tli` begins and ends in this history (end: nullopt for `timeline` itself, which goes on).
  // nullopt when `tli` is not on it.
  struct Span {
    Lsn begin = 0;
    std::optional<Lsn> end;
  };
  std::optional<Span> span_of(uint32_t tli) const;
  // The timeline whose file recovery to `timeline` reads for segment `segno` (as PostgreSQL's
  // XLogFileReadAnyTLI chooses): the newest one that begins before the segment's end. A segment that
  // holds a switch point is read from the child, whose first segment repeats the parent's bytes.
  uint32_t timeline_of_segment(uint64_t segno, uint64_t segment_size) const;
};

// "00000002.history" for timeline 2.
std::string history_file_name(uint32_t timeline);
// The timeline a history file name denotes, or nullopt when `name` is not one.
std::optional<uint32_t> history_file_timeline(const std::string& name);

// Parses the text of timeline `timeline`'s history file (comments and blank lines skipped); the
// ancestors must have increasing numbers below `timeline` and increasing switch points.
core::Result<TimelineHistory> parse_timeline_history(uint32_t timeline, std::string_view text);

}  // namespace opendbs::engines::postgres
