// Packs that index files name but the repository no longer has (docs/REPOSITORY.md §9, "Lost packs").
//
// Packs disappear only through damage: a deleted object, an object store's lifecycle rule, a lost
// directory. Their chunks still sit in the index, so every backup would deduplicate against them and
// commit a set that cannot be restored. The set writer therefore checks, before it commits, that every
// pack it reuses exists; prune checks every indexed pack. Either drops a lost pack's chunks from the
// index, loudly, so that the next backup stores them again.
//
// A listing is never taken as proof that a pack is gone: each pack it misses is confirmed with a stat,
// because dropping the index entries of a pack that does exist would make its chunks unreadable.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "repo/repo_state.h"

namespace opendbs::repo {

// Up to this many packs are checked with a stat each (in parallel); more with one listing of data/.
inline constexpr size_t kLostPackStatsMax = 64;

// Of `pack_ids` (64 hex), those whose object does not exist, confirmed by a stat each.
core::Result<std::set<std::string>> find_lost_packs(RepoState& state, const std::set<std::string>& pack_ids);

// Of `pack_ids`, those a listing of data/ (`present`: object name → size) does not show, confirmed by a
// stat each.
core::Result<std::set<std::string>> confirm_lost_packs(RepoState& state, const std::set<std::string>& pack_ids,
                                                       const std::map<std::string, uint64_t>& present);

// Rewrites each index file for which `edit` (given its packs) returns true, with the packs `edit` left
// (the new file first, then the old one removed: a crash leaves both, which readers merge; a file left
// with no packs is only removed). Unreadable index files are left alone: check reports them, prune refuses to
// run. Runs under a shared lock: concurrent writers only add index files, and two processes rewriting
// the same file at once leave duplicates, never a gap.
core::Status rewrite_index_files(RepoState& state, const std::function<bool(std::vector<IndexPack>&)>& edit);

// Logs `repo_pack_lost` (error) for one pack: what was lost and what follows from it.
void log_lost_pack(const LostPack& lost, const std::string& found_by);

// Rewrites each index file that names a pack of `lost` without it (rewrite_index_files), logs each
// pack, and returns the packs with the number of index entries dropped.
core::Result<std::vector<LostPack>> drop_lost_packs(RepoState& state, const std::set<std::string>& lost,
                                                    const std::string& found_by);

}  // namespace opendbs::repo
