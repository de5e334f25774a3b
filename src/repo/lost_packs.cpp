#include "repo/lost_packs.h"

#include <mutex>

#include "core/crypto.h"
#include "core/log.h"
#include "repo/format.h"
#include "repo/pack.h"

namespace opendbs::repo {

core::Result<std::set<std::string>> confirm_lost_packs(RepoState& state, const std::set<std::string>& pack_ids,
                                                       const std::map<std::string, uint64_t>& present) {
  std::vector<std::string> suspects;
  for (const auto& id : pack_ids)
    if (!present.count(pack_object_name(id))) suspects.push_back(id);
  std::mutex mutex;
  std::set<std::string> lost;
  OPENDBS_TRY(parallel_for(suspects.size(), state.workers(), [&](size_t i) -> core::Status {
    OPENDBS_ASSIGN(auto info, state.backend->stat(pack_object_name(suspects[i])));
    if (!info) {
      std::lock_guard lk(mutex);
      lost.insert(suspects[i]);
    }
    return {};
  }));
  return lost;
}

core::Result<std::set<std::string>> find_lost_packs(RepoState& state, const std::set<std::string>& pack_ids) {
  std::map<std::string, uint64_t> present;
  if (pack_ids.size() > kLostPackStatsMax) {
    OPENDBS_ASSIGN(auto objects, state.backend->list(std::string(format::kDataPrefix)));
    for (auto& o : objects) present[std::move(o.name)] = o.size;
  }
  return confirm_lost_packs(state, pack_ids, present);
}

void log_lost_pack(const LostPack& lost, const std::string& found_by) {
  core::log_event(core::LogLevel::error, "repo_pack_lost",
                  {{"Pack", lost.pack_id},
                   {"ChunksDropped", lost.chunks},
                   {"FoundBy", found_by},
                   {"Message", "pack " + lost.pack_id + " is missing from the repository; its " +
                                   std::to_string(lost.chunks) +
                                   " chunks were dropped from the index so that new backups store them again. "
                                   "Sets that use them cannot be restored: `opendbs repo check` names them"}});
}

core::Status rewrite_index_files(RepoState& state, const std::function<bool(std::vector<IndexPack>&)>& edit) {
  OPENDBS_ASSIGN(auto files, state.backend->list(std::string(format::kIndexPrefix)));
  for (const auto& file : files) {
    auto sealed = state.backend->get(file.name);
    if (!sealed.ok() && sealed.error().code == "NotFound") continue;  // rewritten by another process meanwhile
    if (!sealed.ok()) return sealed.error();
    auto packs = decode_index_file(state.key, *sealed);
    if (!packs.ok() || !edit(*packs)) continue;
    if (!packs->empty()) {
      const std::string name = std::string(format::kIndexPrefix) + core::to_hex(core::random_bytes(format::kIdSize));
      OPENDBS_TRY(state.backend->put(name, encode_index_file(state.key, *packs)));
    }
    OPENDBS_TRY(state.backend->remove(file.name));
  }
  return {};
}

core::Result<std::vector<LostPack>> drop_lost_packs(RepoState& state, const std::set<std::string>& lost,
                                                    const std::string& found_by) {
  std::map<std::string, uint64_t> dropped;
  for (const auto& id : lost) dropped[id] = 0;
  OPENDBS_TRY(rewrite_index_files(state, [&](std::vector<IndexPack>& packs) {
    std::vector<IndexPack> kept;
    for (auto& p : packs) {
      if (auto it = dropped.find(p.pack_id); it != dropped.end())
        it->second += p.entries.size();
      else
        kept.push_back(std::move(p));
    }
    const bool changed = kept.size() != packs.size();
    packs = std::move(kept);
    return changed;
  }));
  std::vector<LostPack> out;
  for (const auto& [id, chunks] : dropped) {
    out.push_back(LostPack{id, chunks});
    log_lost_pack(out.back(), found_by);
  }
  return out;
}

}  // namespace opendbs::repo
