// Physical restore into a directory: the data directory rebuilt from a full set, and recovery
// configured so that starting PostgreSQL on the directory replays the WAL up to the target and
// promotes. The WAL comes through restore_command: fetched from the repository by `opendbs wal-fetch`
// when the request says how to reach it (RestoreRequest::log_fetch), otherwise copied beside the
// data first (opendbs_wal/), which then needs nothing but itself. docs/POSTGRES.md explains when each.
#pragma once

#include <string>

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

inline constexpr const char* kRestoredWalDir = "opendbs_wal";

core::Status physical_restore(const PlanSpec& plan, repo::Repository& repository, const RestoreRequest& request,
                              TaskControl& control);

// Whether recovery of a restore whose last planned segment is `last` gets the WAL file `name`: a
// segment of the same timeline not after `last`.
bool replays_wal_file(const std::string& name, const std::string& last);

// What `opendbs wal-fetch` does for a restored server's restore_command: the WAL segment `name` of
// the plan's log backup (set "log-<plan>-<name>"), verified — every chunk, the size, and the first
// page header against the name — and written durably to `path`. Only segments of `last`'s timeline
// up to `last` (the last one the restore planned; "none" = no segment) are served, so that recovery
// never replays beyond what the restore chose even while the log backup goes on storing more.
// false: the restore does not replay `name` (recovery ends there). A planned segment the repository
// no longer holds is an error: recovery must stop rather than promote short of its target.
core::Result<bool> fetch_wal_file(repo::Repository& repository, const std::string& plan_id, const std::string& name,
                                  const std::string& last, const std::string& path);

}  // namespace opendbs::engines::postgres
