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
inline constexpr const char* kPlannedWalList = "planned";  // in kRestoredWalDir: the files recovery may read

core::Status physical_restore(const PlanSpec& plan, repo::Repository& repository, const RestoreRequest& request,
                              TaskControl& control);

}  // namespace opendbs::engines::postgres
