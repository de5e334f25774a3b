// Repository::check (docs/REPOSITORY.md §11): structure always, every blob with read_data.
#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/blob.h"
#include "repo/damaged_chunks.h"
#include "repo/lock.h"
#include "repo/pack.h"
#include "repo/repo_state.h"

namespace opendbs::repo {
namespace {

class Findings {
 public:
  explicit Findings(CheckReport& report) : report_(report) {}
  void error(std::string text) {
    std::lock_guard lk(mutex_);
    report_.errors.push_back(std::move(text));
  }
  void warning(std::string text) {
    std::lock_guard lk(mutex_);
    report_.warnings.push_back(std::move(text));
  }
  void damaged_set(const std::string& id, uint64_t missing_chunks, const std::set<std::string>& lost_packs) {
    std::string packs;
    for (const auto& p : lost_packs) packs += (packs.empty() ? "" : ", ") + p;
    error("set " + id + " cannot be restored: " + std::to_string(missing_chunks) +
          " of its chunks are damaged or in no existing pack" +
          (packs.empty() ? std::string() : " (missing packs: " + packs + ")") +
          "; if its data is gone for good, forget it (`opendbs repo forget " + id + "`) and take a new backup");
    std::lock_guard lk(mutex_);
    report_.damaged_sets.push_back(id);
  }
  void damaged_chunk(DamagedChunk chunk) {
    error(describe_chunk(chunk.id, chunk.where) + ": " + chunk.error);
    std::lock_guard lk(mutex_);
    damaged_chunks_.push_back(std::move(chunk));
  }
  const std::vector<DamagedChunk>& damaged_chunks() const { return damaged_chunks_; }

 private:
  std::mutex mutex_;
  CheckReport& report_;
  std::vector<DamagedChunk> damaged_chunks_;  // found by read_data
};

struct IndexedPack {
  std::string index_file;  // the first index file naming it
  std::vector<PackEntry> entries;
  uint64_t min_size = 0;  // blob area end, plus the trailer
};

// Every index file decoded on its own so that one bad file is reported by name; `unreadable` tells
// whether any could not be read.
std::map<std::string, IndexedPack> load_index_files(RepoState& state, Findings& findings, bool& unreadable) {
  std::map<std::string, IndexedPack> packs;
  auto names = state.backend->list(std::string(format::kIndexPrefix));
  if (!names.ok()) {
    findings.error("cannot list index files: " + names.error().message);
    return packs;
  }
  for (const auto& obj : *names) {
    auto sealed = state.backend->get(obj.name);
    auto decoded = sealed.ok() ? decode_index_file(state.key, *sealed) : core::Result<std::vector<IndexPack>>(sealed.error());
    if (!decoded.ok()) {
      unreadable = true;
      findings.error("index file " + obj.name + " is unreadable: " + decoded.error().message);
      continue;
    }
    for (auto& p : *decoded) {
      auto& slot = packs[p.pack_id];
      if (slot.index_file.empty()) slot.index_file = obj.name;
      for (auto& e : p.entries) {
        slot.min_size = std::max<uint64_t>(slot.min_size, uint64_t{e.offset} + e.stored_len + format::kPackTrailerSize);
        slot.entries.push_back(std::move(e));
      }
    }
  }
  return packs;
}

bool is_damaged(const std::vector<DamagedChunk>& damaged, const std::string& id, const ChunkLocation& loc) {
  return std::any_of(damaged.begin(), damaged.end(), [&](const DamagedChunk& d) {
    return d.id == id && d.where.pack_id == loc.pack_id && d.where.offset == loc.offset;
  });
}

void check_manifests(Repository& repo, const ChunkIndex& index,
                     const std::map<std::string, uint64_t>& present, Findings& findings) {
  auto sets = repo.list_sets();
  if (!sets.ok()) return findings.error("cannot list sets: " + sets.error().message);
  for (const auto& id : *sets) {
    auto m = repo.load_manifest(id);
    if (!m.ok()) {
      findings.error("manifest of set " + id + " is unreadable: " + m.error().message +
                     (m.error().code == "Corrupt" ? "; the set cannot be restored and prune deletes nothing while "
                                                    "it is there: take a new full backup of its source, then `opendbs "
                                                    "repo forget " + id + "`"
                                                  : std::string()));
      continue;
    }
    uint64_t missing = 0;
    std::set<std::string> lost_packs;
    for (const auto& s : m->streams) {
      uint64_t at = 0;
      for (const auto& c : s.chunks) {
        auto loc = index.find(c.id);
        const std::string where = "set " + id + " stream " + s.name + " at byte " + std::to_string(at) + ": chunk " +
                                  core::to_hex(c.id);
        if (!loc) {
          findings.error(where + " is missing (in no index file)");
          ++missing;
        } else if (is_damaged(findings.damaged_chunks(), c.id, *loc)) {
          findings.error(where + " is damaged (" + describe_chunk(c.id, *loc) + ")");
          ++missing;
        } else if (!present.count(pack_object_name(loc->pack_id))) {
          findings.error(where + " is in pack " + loc->pack_id + ", which is missing");
          lost_packs.insert(loc->pack_id);
          ++missing;
        }
        at += c.raw_len;
      }
    }
    if (missing > 0) findings.damaged_set(id, missing, lost_packs);
  }
}

// Reads one pack and verifies its header against the index and every blob, in parallel (a pack of
// very compressible data holds hundreds of MiB of chunks to hash). Callers also run several packs at
// once, so that one pack's reading overlaps another's verifying.
void read_pack(RepoState& state, const std::string& pack_id, const IndexedPack& indexed, Findings& findings,
               std::atomic<uint64_t>& bytes_read) {
  auto bytes = state.backend->get(pack_object_name(pack_id));
  if (!bytes.ok()) return findings.error("pack " + pack_id + " cannot be read: " + bytes.error().message);
  bytes_read += bytes->size();
  auto header = parse_pack(state.key, *bytes);
  if (!header.ok()) return findings.error("pack " + pack_id + ": " + header.error().message);
  std::map<uint32_t, const PackEntry*> by_offset;
  for (const auto& e : *header) by_offset[e.offset] = &e;
  (void)parallel_for(indexed.entries.size(), state.workers(), [&](size_t i) {
    const PackEntry& e = indexed.entries[i];
    const ChunkLocation loc{pack_id, e.offset, e.stored_len, e.raw_len};
    auto it = by_offset.find(e.offset);
    if (it == by_offset.end() || it->second->id != e.id || it->second->stored_len != e.stored_len ||
        it->second->raw_len != e.raw_len) {
      findings.error(describe_chunk(e.id, loc) + ": index entry disagrees with the pack header (" +
                     indexed.index_file + ")");
      return core::Status{};
    }
    thread_local std::string raw;  // decoded chunks are only hashed: one buffer per thread serves them all
    if (raw.size() < e.raw_len) raw.resize(e.raw_len);
    bool damaged = false;
    auto st = open_blob_into(state.key, e.id, std::string_view(*bytes).substr(e.offset, e.stored_len), e.raw_len,
                             raw.data(), &damaged);
    const bool complete = uint64_t{e.offset} + e.stored_len <= bytes->size();  // else: a truncated pack
    if (!st.ok() && damaged && complete)
      findings.damaged_chunk(DamagedChunk{e.id, loc, st.error().message});
    else if (!st.ok())
      findings.error(describe_chunk(e.id, loc) + ": " + st.error().message);
    return core::Status{};
  });
}

}  // namespace

core::Result<CheckReport> Repository::check(const CheckOptions& options) {
  OPENDBS_ASSIGN(auto lock, RepoLock::acquire(*state_->backend, LockKind::kShared, "check",
                                              state_->options.lock_lease_ms, *state_->clock));
  CheckReport report;
  Findings findings(report);
  bool index_unreadable = false;
  const auto indexed = load_index_files(*state_, findings, index_unreadable);
  ChunkIndex index;
  for (const auto& [id, p] : indexed) index.add(IndexPack{id, p.entries});

  OPENDBS_ASSIGN(auto objects, state_->backend->list(std::string(format::kDataPrefix)));
  std::map<std::string, uint64_t> present;
  for (const auto& o : objects) present[o.name] = o.size;
  for (const auto& [id, p] : indexed) {
    auto it = present.find(pack_object_name(id));
    if (it == present.end())
      findings.error("pack " + id + " named by " + p.index_file + " is missing");
    else if (it->second < p.min_size)
      findings.error("pack " + id + " is truncated: " + std::to_string(it->second) + " bytes, index needs at least " +
                     std::to_string(p.min_size));
  }
  for (const auto& [name, size] : present) {
    const std::string id = name.substr(name.rfind('/') + 1);
    if (!indexed.count(id))
      findings.warning(index_unreadable
                           ? "pack " + id + " is in no readable index file: it may be listed by the unreadable one "
                                            "and hold live data; prune refuses to run while an index file is unreadable"
                           : "pack " + id + " is in no index file (left by an interrupted backup); prune removes it");
  }
  if (options.read_data) {
    std::vector<const std::pair<const std::string, IndexedPack>*> todo;
    for (const auto& entry : indexed)
      if (present.count(pack_object_name(entry.first))) todo.push_back(&entry);
    std::atomic<uint64_t> bytes_read{0};
    (void)parallel_for(todo.size(), state_->workers(), [&](size_t i) {
      read_pack(*state_, todo[i]->first, todo[i]->second, findings, bytes_read);
      return core::Status{};
    });
    report.packs_checked = todo.size();
    report.bytes_read = bytes_read;
    if (!findings.damaged_chunks().empty()) {
      auto dropped = drop_damaged_chunks(*state_, findings.damaged_chunks(), "repo check --read-data");
      if (!dropped.ok())
        findings.error("the damaged chunks could not be dropped from the index: " + dropped.error().message);
    }
  }
  // After the data is read, so that the sets using a damaged chunk are named.
  check_manifests(*this, index, present, findings);
  if (!lock->held()) findings.warning("the check's lock lease lapsed; a prune may have run meanwhile");
  return report;
}

}  // namespace opendbs::repo
