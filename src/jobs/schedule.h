// The full-backup schedule of a `simple` plan: every BackupPeriod weekday at BackupStartTime (UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace opendbs::jobs {

// The first scheduled moment strictly after `after_ms`, or nullopt when the period names no weekday or
// the start time is malformed. `period` is "Monday,Thursday" (case-insensitive), `start` "HH:mm".
std::optional<int64_t> next_run_after(const std::string& period, const std::string& start, int64_t after_ms);

}  // namespace opendbs::jobs
