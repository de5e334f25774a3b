// Physical restore into a directory: the data directory rebuilt from a full set, the WAL segments
// the target needs copied beside it (opendbs_wal/), and recovery configured so that starting
// PostgreSQL on the directory replays up to the target and promotes.
#pragma once

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

inline constexpr const char* kRestoredWalDir = "opendbs_wal";

core::Status physical_restore(const PlanSpec& plan, repo::Repository& repository, const RestoreRequest& request,
                              TaskControl& control);

}  // namespace opendbs::engines::postgres
