// Times, ages, sizes and speeds as people read them in a terminal, and the times people type.
// API times are epoch milliseconds; 0 means "not yet" and prints as "-".
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace opendbs::cli {

// "2026-11-28T15:36:29+08:00": local time, ISO 8601 with the zone offset.
std::string local_time(int64_t epoch_ms);
// The same with the milliseconds when the moment has them ("2026-11-28T15:36:29.250+08:00"): for
// restore moments and range bounds, which are milliseconds, so that a bound read off and given back
// to --time lies inside its range.
std::string local_moment(int64_t epoch_ms);
// "just now", "42s ago", "5m ago", "3h ago", "2d ago"; "in 5m" for the future.
std::string age(int64_t epoch_ms, int64_t now_ms);
// "512 B", "1.5 KiB", "120 MiB", "2.3 GiB".
std::string bytes(uint64_t n);
// "45s", "1m05s", "2h03m", "3d04h".
std::string duration(int64_t ms);

// A moment typed on the command line: ISO 8601 with "Z" or an offset ("2026-11-28T07:36:29Z",
// "2026-11-28T15:36:29+08:00", fractions allowed), or without a zone ("2026-11-28 15:36:29", taken as
// local time). InvalidParameterValid naming `flag` otherwise.
core::Result<int64_t> parse_time(const std::string& text, const std::string& flag);

}  // namespace opendbs::cli
