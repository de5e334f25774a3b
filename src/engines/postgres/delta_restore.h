// Delta restore: brings an existing data directory to a full set's content by rewriting only the
// files whose size, mode or mtime differ from the set (the quick check of rsync: a restore gives
// each file the set's mtime, and PostgreSQL writing to a file moves its mtime to the present), and
// removing what the set does not have.
#pragma once

#include <filesystem>

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

struct DeltaStats {
  uint64_t files_kept = 0, files_written = 0, bytes_written = 0, paths_removed = 0;
};

core::Result<DeltaStats> delta_restore(repo::Repository& repository, const std::string& set_id,
                                       const std::filesystem::path& dir, TaskControl& control);

}  // namespace opendbs::engines::postgres
