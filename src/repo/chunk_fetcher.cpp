#include "repo/repo_state.h"

#include <optional>
#include <thread>

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/blob.h"
#include "repo/format.h"
#include "repo/pack.h"

namespace opendbs::repo {

unsigned RepoState::workers() const {
  if (options.worker_threads > 0) return options.worker_threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 2 : hw;
}

std::string describe_chunk(std::string_view id, const ChunkLocation& loc) {
  return "chunk " + core::to_hex(id) + " in pack " + loc.pack_id + " at offset " + std::to_string(loc.offset) +
         " (length " + std::to_string(loc.stored_len) + ")";
}

core::Result<std::shared_ptr<ChunkIndex>> load_index(RepoState& state, std::vector<std::string>* damaged) {
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
  }
  return index;
}

core::Result<std::string> ChunkFetcher::fetch(const ChunkRef& ref) const {
  OPENDBS_ASSIGN(auto chunks, fetch_run(&ref, 1));
  return std::move(chunks[0]);
}

size_t ChunkFetcher::run_length(const ChunkRef* refs, size_t n, uint64_t max_bytes) const {
  auto first = index_->find(refs[0].id);
  if (!first) return 1;
  uint64_t end = uint64_t{first->offset} + first->stored_len;
  size_t count = 1;
  while (count < n) {
    auto next = index_->find(refs[count].id);
    if (!next || next->pack_id != first->pack_id || next->offset != end ||
        end + next->stored_len - first->offset > max_bytes)
      break;
    end += next->stored_len;
    ++count;
  }
  return count;
}

core::Result<std::vector<std::string>> ChunkFetcher::fetch_run(const ChunkRef* refs, size_t n) const {
  std::vector<ChunkLocation> locs;
  for (size_t i = 0; i < n; ++i) {
    auto loc = index_->find(refs[i].id);
    if (!loc) return core::errors::corrupt("chunk " + core::to_hex(refs[i].id) + " is missing: no index entry");
    locs.push_back(*loc);
  }
  const uint64_t start = locs.front().offset;
  const uint64_t length = uint64_t{locs.back().offset} + locs.back().stored_len - start;
  auto bytes = state_.backend->get_range(pack_object_name(locs.front().pack_id), start, length);
  if (!bytes.ok()) return bytes.error().with_context(describe_chunk(refs[0].id, locs[0]));
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (locs[i].raw_len != refs[i].raw_len)
      return core::errors::corrupt(describe_chunk(refs[i].id, locs[i]) + ": index says " +
                                   std::to_string(locs[i].raw_len) + " bytes, manifest " +
                                   std::to_string(refs[i].raw_len));
    auto sealed = std::string_view(*bytes).substr(locs[i].offset - start, locs[i].stored_len);
    auto raw = open_blob(state_.key, refs[i].id, sealed, locs[i].raw_len);
    if (!raw.ok()) return raw.error().with_context(describe_chunk(refs[i].id, locs[i]));
    out.push_back(std::move(*raw));
  }
  return out;
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
