// Delta restore: brings an existing data directory to a full set's content by rewriting only the
// files whose size, mode or mtime differ from the set (the quick check of rsync: a restore gives
// each file the set's mtime, and PostgreSQL writing to a file moves its mtime to the present), and
// removing what the set does not have.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

struct DeltaStats {
  uint64_t files_kept = 0, files_written = 0, bytes_written = 0, paths_removed = 0;
};

// `held_back`: files that are neither written nor removed: the caller's own, or the set's that it
// writes last (restore_file).
core::Result<DeltaStats> delta_restore(repo::Repository& repository, const std::string& set_id,
                                       const std::filesystem::path& dir, const std::set<std::string>& held_back,
                                       TaskControl& control);

// Writes the set's file `entry` to `file` with its mode and mtime: to a temporary file beside it,
// synced, then renamed over the old one (the caller syncs the directory when the rename must last).
core::Status restore_file(repo::Repository& repository, const std::string& set_id, const repo::StreamEntry& entry,
                          const std::filesystem::path& file, TaskControl& control);

}  // namespace opendbs::engines::postgres
