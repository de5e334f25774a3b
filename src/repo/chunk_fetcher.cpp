#include "repo/repo_state.h"

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/blob.h"
#include "repo/damaged_chunks.h"
#include "repo/format.h"
#include "repo/pack.h"

namespace opendbs::repo {

core::Result<std::string> ChunkFetcher::fetch(const ChunkRef& ref) const {
  std::string raw(ref.raw_len, '\0');
  OPENDBS_TRY(fetch_run_into(&ref, 1, raw.data()));
  return raw;
}

std::shared_ptr<ChunkIndex> ChunkFetcher::index() const {
  std::lock_guard lock(mutex_);
  return index_;
}

size_t ChunkFetcher::run_length(const ChunkRef* refs, size_t n, uint64_t max_stored, uint64_t max_raw) const {
  const auto current = index();  // one index for the whole run
  auto first = current->find(refs[0].id);
  if (!first) return 1;
  uint64_t end = uint64_t{first->offset} + first->stored_len;
  uint64_t raw = refs[0].raw_len;
  size_t count = 1;
  while (count < n) {
    auto next = current->find(refs[count].id);
    if (!next || next->pack_id != first->pack_id || next->offset != end ||
        end + next->stored_len - first->offset > max_stored || raw + refs[count].raw_len > max_raw)
      break;
    end += next->stored_len;
    raw += refs[count].raw_len;
    ++count;
  }
  return count;
}

// Reads of single streams take no repository lock, so a prune by another process may repack or delete
// a pack after this reader loaded the index: a pack found gone means reading the index again and
// fetching each chunk where it is now (a chunk no index has any more is reported missing as ever).
core::Status ChunkFetcher::fetch_run_into(const ChunkRef* refs, size_t n, char* out) const {
  auto st = fetch_with(*index(), refs, n, out);
  if (st.ok() || st.error().code != "NotFound") return st;
  OPENDBS_ASSIGN(auto fresh, fresh_index(state_));
  {
    std::lock_guard lock(mutex_);
    index_ = fresh;
  }
  for (size_t i = 0; i < n; ++i) {
    OPENDBS_TRY(fetch_with(*fresh, &refs[i], 1, out));
    out += refs[i].raw_len;
  }
  return {};
}

// A chunk whose bytes fail their authentication leaves the index (damaged_chunks.h); the read fails
// either way, saying what was done.
core::Error ChunkFetcher::drop_damaged(const DamagedChunk& chunk) const {
  const std::string what = describe_chunk(chunk.id, chunk.where) + ": " + chunk.error;
  auto dropped = drop_damaged_chunks(state_, {chunk}, "a read of the chunk");
  if (!dropped.ok())
    return core::errors::corrupt(what + " (the chunk is damaged; it could not be dropped from the index now: " +
                                 dropped.error().message + ")");
  return core::errors::corrupt(what + " (the chunk is damaged: it was dropped from the index, so the next backup "
                               "stores it again; the sets that use it cannot be restored until then, `opendbs repo "
                               "check` names them)");
}

core::Status ChunkFetcher::fetch_with(const ChunkIndex& index, const ChunkRef* refs, size_t n, char* out) const {
  std::vector<ChunkLocation> locs;
  for (size_t i = 0; i < n; ++i) {
    auto loc = index.find(refs[i].id);
    if (!loc)
      return core::errors::corrupt("chunk " + core::to_hex(refs[i].id) +
                                   " is missing: no index entry (its pack was lost, or a read found it damaged and "
                                   "dropped it; the next backup of the same data stores it again, `opendbs repo "
                                   "check` names the sets that use it)");
    locs.push_back(*loc);
  }
  const uint64_t start = locs.front().offset;
  const uint64_t length = uint64_t{locs.back().offset} + locs.back().stored_len - start;
  auto bytes = state_.backend->get_range(pack_object_name(locs.front().pack_id), start, length);
  if (!bytes.ok()) return bytes.error().with_context(describe_chunk(refs[0].id, locs[0]));
  if (bytes->size() != length)  // no proof of damage: a blob cut short would fail its authentication
    return core::errors::io(describe_chunk(refs[0].id, locs[0]) + ": read " + std::to_string(bytes->size()) +
                            " of " + std::to_string(length) + " bytes");
  for (size_t i = 0; i < n; ++i) {
    if (locs[i].raw_len != refs[i].raw_len)
      return core::errors::corrupt(describe_chunk(refs[i].id, locs[i]) + ": index says " +
                                   std::to_string(locs[i].raw_len) + " bytes, manifest " +
                                   std::to_string(refs[i].raw_len));
    auto sealed = std::string_view(*bytes).substr(locs[i].offset - start, locs[i].stored_len);
    bool damaged = false;
    auto st = open_blob_into(state_.key, refs[i].id, sealed, locs[i].raw_len, out, &damaged);
    if (!st.ok() && damaged) return drop_damaged(DamagedChunk{refs[i].id, locs[i], st.error().message});
    if (!st.ok()) return st.error().with_context(describe_chunk(refs[i].id, locs[i]));
    out += locs[i].raw_len;
  }
  return {};
}

}  // namespace opendbs::repo
