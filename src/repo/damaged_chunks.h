// Chunks a read found damaged (docs/REPOSITORY.md §9, "Damaged chunks").
//
// A pack that is present but whose bytes changed (bit rot, a bad sector, a partial overwrite) fails the
// authentication of the chunks in the changed range. Left in the index, such a chunk would be
// deduplicated against by every later backup, each `finish`ed and unrestorable. So every read that
// verifies chunks (restore, stream reads for downloads and WAL fetches, check --read-data, prune's
// repacking) drops a damaged chunk's index entry — that entry only: a copy of the chunk in another pack
// stays — loudly (`repo_chunk_damaged`), the way lost packs are dropped. The next backup of the same
// data stores the chunk again, which also heals every set that uses it; until then the chunk is in no
// index, so prune and check report those sets as damaged, and the node marks them failed.
//
// Only a definite mismatch of bytes that were read in full counts (open_blob_into's `damaged`): an I/O
// error, a timeout or a short read is no proof and drops nothing.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "repo/index.h"
#include "repo/repo_state.h"

namespace opendbs::repo {

struct DamagedChunk {
  std::string id;  // 32 raw bytes, as in ChunkRef
  ChunkLocation where;
  std::string error;  // what failed, e.g. "authentication tag mismatch (…)"
};

// Logs `repo_chunk_damaged` (error) for one chunk: what failed, where, and what follows from it.
void log_damaged_chunk(const DamagedChunk& chunk, const std::string& found_by, bool dropped);

// Under a shared repository lock of its own, rewrites the index files that hold an entry of `chunks`
// (same pack and offset) without it, logs each chunk, and tells the repository's damage observer. When
// the lock cannot be had (a prune holds the repository) the entries stay, the log says so and the
// error is returned: the next read that meets the chunk tries again.
core::Status drop_damaged_chunks(RepoState& state, const std::vector<DamagedChunk>& chunks,
                                 const std::string& found_by);

// The index entries of `chunks` removed from `packs` (packs left empty removed too); whether any was.
bool remove_damaged_entries(std::vector<IndexPack>& packs, const std::vector<DamagedChunk>& chunks);

}  // namespace opendbs::repo
