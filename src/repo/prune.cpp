// Repository::prune (docs/REPOSITORY.md §10): delete what no manifest references, repack packs that are
// mostly garbage. Order: new packs → new index → old index files → old packs → stale locks.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "core/crypto.h"
#include "core/errors.h"
#include "core/log.h"
#include "repo/blob.h"
#include "repo/damaged_chunks.h"
#include "repo/lock.h"
#include "repo/lost_packs.h"
#include "repo/pack.h"
#include "repo/repo_state.h"

namespace opendbs::repo {
namespace {

struct PackPlan {
  std::vector<IndexPack> keep;             // packs kept as they are
  std::vector<IndexPack> repack;           // packs whose live entries move to new packs
  std::vector<std::string> delete_names;  // packs to delete (garbage and repacked)
  uint64_t bytes_freed = 0;
  std::unordered_set<std::string> missing;  // referenced chunks that no existing pack holds
};

// Every chunk a manifest references. A damaged manifest stops the pass before anything is deleted: the
// chunks it references cannot be known, so no pack is provably garbage. All of them are named, with
// the remedy.
core::Result<std::unordered_set<std::string>> referenced_chunks(Repository& repo) {
  std::unordered_set<std::string> live;
  std::vector<std::string> unreadable;
  OPENDBS_ASSIGN(auto sets, repo.list_sets());
  for (const auto& id : sets) {
    auto m = repo.load_manifest(id);
    if (!m.ok() && m.error().code == "Corrupt") {
      core::log_event(core::LogLevel::error, "repo_set_unreadable",
                      {{"Set", id}, {"Error", m.error().message},
                       {"Message", "set " + id + " cannot be restored and prune deletes nothing while it is in the "
                                   "repository; take a new full backup of its source, then `opendbs repo forget " +
                                   id + "`"}});
      unreadable.push_back(id);
      continue;
    }
    if (!m.ok()) return m.error().with_context("prune stopped, nothing deleted: set " + id + " could not be read");
    for (const auto& s : m->streams)
      for (const auto& c : s.chunks) live.insert(c.id);
  }
  if (unreadable.empty()) return live;
  std::string names, forget;
  for (const auto& id : unreadable) {
    names += (names.empty() ? "" : ", ") + id;
    forget += (forget.empty() ? "`opendbs repo forget " : " ") + id;
  }
  return core::errors::corrupt(
      "prune stopped, nothing deleted: the manifest of set(s) " + names +
      " is damaged, so the data they reference cannot be told from garbage. They cannot be restored: take a new "
      "full backup of their sources, then remove them with " + forget + "` (`opendbs repo check` shows the damage)");
}

// The sets that reference any of `missing` (chunks no existing pack holds): they cannot be restored.
// A second reading of the manifests, done only when something is missing.
core::Status find_damaged_sets(Repository& repo, const std::unordered_set<std::string>& missing, PruneReport& report) {
  OPENDBS_ASSIGN(auto sets, repo.list_sets());
  for (const auto& id : sets) {
    OPENDBS_ASSIGN(auto m, repo.load_manifest(id));
    PruneReport::Missing lacks;
    for (const auto& s : m.streams)
      for (const auto& c : s.chunks)
        if (missing.count(c.id)) {
          if (lacks.chunks++ == 0) lacks.first_chunk = core::to_hex(c.id);
        }
    if (lacks.chunks == 0) continue;
    report.damaged_sets.push_back(id);
    report.missing[id] = std::move(lacks);
  }
  return {};
}

// The indexed packs the repository no longer has (confirmed one by one: lost_packs.h).
core::Result<std::vector<LostPack>> lost_packs(RepoState& state, const std::map<std::string, std::vector<PackEntry>>& indexed,
                                               const std::map<std::string, uint64_t>& present) {
  std::set<std::string> ids;
  for (const auto& [id, entries] : indexed) ids.insert(id);
  OPENDBS_ASSIGN(auto lost, confirm_lost_packs(state, ids, present));
  std::vector<LostPack> out;
  for (const auto& id : lost) out.push_back(LostPack{id, indexed.at(id).size()});
  return out;
}

void log_damage(const PruneReport& report) {
  for (const auto& p : report.lost_packs) log_lost_pack(p, "prune");
  for (const auto& id : report.damaged_sets)
    core::log_event(core::LogLevel::error, "repo_set_damaged",
                    {{"Set", id},
                     {"FirstMissingChunk", report.missing.at(id).first_chunk},
                     {"MissingChunks", report.missing.at(id).chunks},
                     {"Message", "set " + id + " references chunks that no pack in the repository holds (lost "
                                 "packs, or chunks found damaged and dropped) and can no longer be restored in full; "
                                 "`opendbs repo check` names them; take a new full backup, then forget the set"}});
}

PackPlan plan(const std::map<std::string, std::vector<PackEntry>>& indexed,
              const std::map<std::string, uint64_t>& present, const std::unordered_set<std::string>& live) {
  PackPlan plan;
  std::unordered_set<std::string> claimed;  // live chunk ids already kept in some pack
  for (const auto& [pack_id, entries] : indexed) {
    auto it = present.find(pack_object_name(pack_id));
    if (it == present.end()) continue;  // lost (find_losses): its entries drop out of the index
    uint64_t total = 0, live_bytes = 0;
    IndexPack live_part{pack_id, {}};
    for (const auto& e : entries) {
      total += e.stored_len;
      if (live.count(e.id) && claimed.insert(e.id).second) {
        live_bytes += e.stored_len;
        live_part.entries.push_back(e);
      }
    }
    if (live_bytes == 0) {
      plan.delete_names.push_back(it->first);
      plan.bytes_freed += it->second;
    } else if (static_cast<double>(total - live_bytes) > format::kRepackGarbageFraction * static_cast<double>(total)) {
      plan.repack.push_back(std::move(live_part));
      plan.delete_names.push_back(it->first);
      plan.bytes_freed += it->second - live_bytes;
    } else {
      plan.keep.push_back(IndexPack{pack_id, entries});
    }
  }
  for (const auto& id : live)
    if (!claimed.count(id)) plan.missing.insert(id);
  for (const auto& [name, size] : present) {
    if (!indexed.count(name.substr(name.rfind('/') + 1))) {
      plan.delete_names.push_back(name);
      plan.bytes_freed += size;
    }
  }
  return plan;
}

bool kept_elsewhere(const std::vector<IndexPack>& keep, const std::string& id) {
  for (const auto& p : keep)
    for (const auto& e : p.entries)
      if (e.id == id) return true;
  return false;
}

core::Error stopped() { return core::make_error("Cancelled", "prune stopped before deleting anything: asked to stop"); }

// Copies the live blobs of `repack` (verified first) into new packs; returns them for the index.
// A live blob that fails its authentication is damaged (damaged_chunks.h): it is not copied, so it
// leaves the index with this pass, and goes to `damaged`.
core::Result<std::vector<IndexPack>> repack_blobs(RepoState& state, const std::vector<IndexPack>& repack,
                                                  const std::function<bool()>& stop,
                                                  std::vector<DamagedChunk>& damaged) {
  std::vector<IndexPack> written;
  PackBuilder builder(state.pack_bytes_expected());
  std::string raw;  // each blob decoded into it, only to verify it
  auto flush = [&]() -> core::Status {
    if (builder.empty()) return {};
    IndexPack pack{core::to_hex(core::random_bytes(format::kIdSize)), builder.entries()};
    OPENDBS_TRY(state.backend->put(pack_object_name(pack.pack_id), builder.finish(state.key)));
    written.push_back(std::move(pack));
    return {};
  };
  for (const auto& old : repack) {
    if (stop && stop()) return stopped();
    OPENDBS_ASSIGN(auto bytes, state.backend->get(pack_object_name(old.pack_id)));
    for (const auto& e : old.entries) {
      if (uint64_t{e.offset} + e.stored_len > bytes.size())
        return core::errors::corrupt("prune stopped: pack " + old.pack_id + " is shorter than its index says");
      auto sealed = std::string_view(bytes).substr(e.offset, e.stored_len);
      const ChunkLocation where{old.pack_id, e.offset, e.stored_len, e.raw_len};
      raw.resize(e.raw_len);
      bool is_damaged = false;
      auto opened = open_blob_into(state.key, e.id, sealed, e.raw_len, raw.data(), &is_damaged);
      if (!opened.ok() && is_damaged) {
        damaged.push_back(DamagedChunk{e.id, where, opened.error().message});
        continue;
      }
      if (!opened.ok()) return opened.error().with_context("prune stopped: " + describe_chunk(e.id, where));
      builder.add(e.id, sealed, e.raw_len);
      if (builder.size() >= state.options.pack_target_size) OPENDBS_TRY(flush());
    }
  }
  OPENDBS_TRY(flush());
  return written;
}

}  // namespace

core::Result<PruneReport> Repository::prune(const std::function<bool()>& stop) {
  OPENDBS_ASSIGN(auto lock, RepoLock::acquire(*state_->backend, LockKind::kExclusive, "prune",
                                              state_->options.lock_lease_ms, *state_->clock));
  OPENDBS_ASSIGN(auto live, referenced_chunks(*this));
  if (stop && stop()) return stopped();
  OPENDBS_ASSIGN(auto index_objects, state_->backend->list(std::string(format::kIndexPrefix)));
  std::map<std::string, std::vector<PackEntry>> indexed;
  for (const auto& obj : index_objects) {
    OPENDBS_ASSIGN(auto sealed, state_->backend->get(obj.name));
    auto packs = decode_index_file(state_->key, sealed);
    if (!packs.ok()) return packs.error().with_context("prune stopped, nothing deleted: index file " + obj.name);
    for (auto& p : *packs) {
      auto& entries = indexed[p.pack_id];
      if (entries.empty()) entries = std::move(p.entries);  // the same pack in two files lists the same blobs
    }
  }
  OPENDBS_ASSIGN(auto objects, state_->backend->list(std::string(format::kDataPrefix)));
  std::map<std::string, uint64_t> present;
  for (const auto& o : objects) present[o.name] = o.size;
  PruneReport report;
  OPENDBS_ASSIGN(report.lost_packs, lost_packs(*state_, indexed, present));

  if (stop && stop()) return stopped();
  PackPlan p = plan(indexed, present, live);
  // Lost packs, and damaged chunks met while repacking, leave the index with this rewrite: new backups
  // store their chunks again.
  const bool index_changes = !p.delete_names.empty() || index_objects.size() > 1 || !report.lost_packs.empty();
  std::vector<DamagedChunk> damaged;
  if (index_changes) {
    OPENDBS_ASSIGN(auto repacked, repack_blobs(*state_, p.repack, stop, damaged));
    if (stop && stop()) return stopped();
    for (const auto& d : damaged)
      if (!kept_elsewhere(p.keep, d.id)) p.missing.insert(d.id);
    std::vector<IndexPack> all = std::move(p.keep);
    all.insert(all.end(), repacked.begin(), repacked.end());
    const std::string name = std::string(format::kIndexPrefix) + core::to_hex(core::random_bytes(format::kIdSize));
    if (!all.empty()) OPENDBS_TRY(state_->backend->put(name, encode_index_file(state_->key, all)));
    if (!lock->held())
      return core::make_error("ServiceUnavailable", "prune stopped before deleting: its lock lease lapsed");
    for (const auto& obj : index_objects) OPENDBS_TRY(state_->backend->remove(obj.name));
    for (const auto& pack : p.delete_names) OPENDBS_TRY(state_->backend->remove(pack));
    report.packs_deleted = p.delete_names.size() - p.repack.size();
    report.packs_repacked = p.repack.size();
    report.index_files_replaced = index_objects.size();
    report.bytes_freed = p.bytes_freed;
  }
  for (const auto& d : damaged) log_damaged_chunk(d, "prune", true);
  if (!p.missing.empty()) OPENDBS_TRY(find_damaged_sets(*this, p.missing, report));
  log_damage(report);
  OPENDBS_ASSIGN(report.locks_removed, remove_stale_locks(*state_->backend, *state_->clock));
  std::set<std::string> loaded;
  OPENDBS_ASSIGN(auto fresh, load_index(*state_, nullptr, &loaded));
  std::lock_guard lk(state_->index_mutex);
  state_->index = std::move(fresh);
  state_->index_files = std::move(loaded);
  return report;
}

}  // namespace opendbs::repo
