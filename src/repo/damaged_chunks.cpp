#include "repo/damaged_chunks.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/log.h"
#include "repo/lock.h"
#include "repo/lost_packs.h"

namespace opendbs::repo {

void log_damaged_chunk(const DamagedChunk& chunk, const std::string& found_by, bool dropped) {
  const std::string what = describe_chunk(chunk.id, chunk.where) + " is damaged: " + chunk.error;
  core::log_event(core::LogLevel::error, "repo_chunk_damaged",
                  {{"Chunk", core::to_hex(chunk.id)},
                   {"Pack", chunk.where.pack_id},
                   {"Offset", chunk.where.offset},
                   {"Length", chunk.where.stored_len},
                   {"FoundBy", found_by},
                   {"Dropped", dropped},
                   {"Message", what + (dropped ? "; it was dropped from the index so that the next backup stores it "
                                                 "again. Sets that use it cannot be restored until then: `opendbs "
                                                 "repo check` names them"
                                               : "; it could not be dropped from the index now (the repository is "
                                                 "locked), the next read that meets it tries again")}});
}

bool remove_damaged_entries(std::vector<IndexPack>& packs, const std::vector<DamagedChunk>& chunks) {
  bool changed = false;
  for (auto& p : packs) {
    const auto before = p.entries.size();
    std::erase_if(p.entries, [&](const PackEntry& e) {
      return std::any_of(chunks.begin(), chunks.end(), [&](const DamagedChunk& c) {
        return c.where.pack_id == p.pack_id && c.where.offset == e.offset && c.id == e.id;
      });
    });
    changed = changed || p.entries.size() != before;
  }
  std::erase_if(packs, [](const IndexPack& p) { return p.entries.empty(); });
  return changed;
}

core::Status drop_damaged_chunks(RepoState& state, const std::vector<DamagedChunk>& chunks,
                                 const std::string& found_by) {
  // A prune replaces the index files under an exclusive lock: rewriting them meanwhile could list again
  // the packs it deletes.
  auto lock = RepoLock::acquire(*state.backend, LockKind::kShared, "drop damaged chunks",
                                state.options.lock_lease_ms, *state.clock);
  auto st = lock.ok() ? rewrite_index_files(state, [&](std::vector<IndexPack>& packs) {
                          return remove_damaged_entries(packs, chunks);
                        })
                      : core::Status(lock.error());
  for (const auto& c : chunks) log_damaged_chunk(c, found_by, st.ok());
  state.notify_damage();
  return st;
}

}  // namespace opendbs::repo
