// Delta restore: brings an existing data directory to a full set's content by rewriting only what
// differs, and removing what the set does not have. What differs is decided by content, never by
// size and mtime alone: the set's mtimes come from BASE_BACKUP's tar headers in whole seconds, so a
// file the source wrote again within the second after an earlier backup read it would look unchanged
// while holding an older page. A file of the set's size is read and each of its chunk-sized ranges
// compared with the set's chunk id (Repository::chunk_matches); only the ranges that differ are
// fetched and written in place. A file of another size (or not a regular file) is rewritten whole.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "core/result.h"
#include "engines/engine.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

struct DeltaStats {
  uint64_t files_kept = 0;     // every byte equal to the set's (mode and mtime set to the set's)
  uint64_t files_patched = 0;  // same size, some chunks differed: those rewritten in place
  uint64_t files_written = 0;  // rewritten whole (another size, or missing)
  uint64_t bytes_compared = 0, bytes_written = 0, paths_removed = 0;
};

// Reports progress as 1..79 % of the set's bytes compared or written, and `bytes` as those written;
// a cancel stops it between two chunks. `held_back`: files that are neither written nor removed: the
// caller's own, or the set's that it writes last (restore_file).
core::Result<DeltaStats> delta_restore(repo::Repository& repository, const std::string& set_id,
                                       const std::filesystem::path& dir, const std::set<std::string>& held_back,
                                       TaskControl& control);

// Writes the set's file `entry` to `file` with its mode and mtime: to a temporary file beside it,
// synced, then renamed over the old one (the caller syncs the directory when the rename must last).
core::Status restore_file(repo::Repository& repository, const std::string& set_id, const repo::StreamEntry& entry,
                          const std::filesystem::path& file, TaskControl& control);

}  // namespace opendbs::engines::postgres
