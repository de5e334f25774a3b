// RepoState helpers: the index cache and the small parallel loop every operation uses.
#include "repo/repo_state.h"

#include <algorithm>
#include <optional>
#include <thread>

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/format.h"

namespace opendbs::repo {

unsigned RepoState::workers() const {
  if (options.worker_threads > 0) return options.worker_threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 2 : hw;
}

void RepoState::notify_damage() {
  std::lock_guard lk(damage_mutex);
  if (on_damage) on_damage();
}

std::string describe_chunk(std::string_view id, const ChunkLocation& loc) {
  return "chunk " + core::to_hex(id) + " in pack " + loc.pack_id + " at offset " + std::to_string(loc.offset) +
         " (length " + std::to_string(loc.stored_len) + ")";
}

core::Result<std::shared_ptr<ChunkIndex>> load_index(RepoState& state, std::vector<std::string>* damaged,
                                                     std::set<std::string>* loaded) {
  OPENDBS_ASSIGN(auto objects, state.backend->list(std::string(format::kIndexPrefix)));
  auto index = std::make_shared<ChunkIndex>();
  std::vector<std::optional<std::vector<IndexPack>>> files(objects.size());
  OPENDBS_TRY(parallel_for(objects.size(), state.workers(), [&](size_t i) -> core::Status {
    auto sealed = state.backend->get(objects[i].name);
    if (!sealed.ok() && sealed.error().code != "Corrupt") return sealed.error();  // I/O trouble: not damage
    auto packs = sealed.ok() ? decode_index_file(state.key, *sealed)
                             : core::Result<std::vector<IndexPack>>(sealed.error());
    if (packs.ok()) files[i] = std::move(*packs);
    return {};
  }));
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i]) {
      if (damaged) damaged->push_back(objects[i].name);
      continue;
    }
    for (const auto& pack : *files[i]) index->add(pack);
    if (loaded) loaded->insert(objects[i].name);
  }
  return index;
}

core::Result<std::shared_ptr<ChunkIndex>> fresh_index(RepoState& state) {
  OPENDBS_ASSIGN(auto objects, state.backend->list(std::string(format::kIndexPrefix)));
  std::set<std::string> now;
  for (const auto& o : objects) now.insert(o.name);
  std::unique_lock lk(state.index_mutex);
  auto index = state.index;
  const bool removed = std::any_of(state.index_files.begin(), state.index_files.end(),
                                   [&](const std::string& name) { return !now.count(name); });
  std::vector<std::string> added;
  for (const auto& name : now)
    if (!state.index_files.count(name)) added.push_back(name);
  lk.unlock();
  if (removed) {
    std::set<std::string> loaded;
    OPENDBS_ASSIGN(auto reloaded, load_index(state, nullptr, &loaded));
    lk.lock();
    state.index = reloaded;
    state.index_files = std::move(loaded);
    return reloaded;
  }
  for (const auto& name : added) {
    auto sealed = state.backend->get(name);
    if (!sealed.ok() && sealed.error().code != "Corrupt") return sealed.error();
    auto packs = sealed.ok() ? decode_index_file(state.key, *sealed) : core::Result<std::vector<IndexPack>>(sealed.error());
    if (!packs.ok()) continue;  // damaged: reported by check
    for (const auto& pack : *packs) index->add(pack);
    lk.lock();
    state.index_files.insert(name);
    lk.unlock();
  }
  return index;
}



core::Status parallel_for(size_t n, unsigned threads, const std::function<core::Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  core::Status first_error;
  auto work = [&] {
    for (size_t i; !failed && (i = next++) < n;) {
      auto st = fn(i);
      if (!st.ok()) {
        std::lock_guard lk(mutex);
        if (!failed.exchange(true)) first_error = st;
      }
    }
  };
  const unsigned count = static_cast<unsigned>(std::min<size_t>(std::max(1u, threads), n));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < count; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return first_error;
}

}  // namespace opendbs::repo
