#include "repo/repo_state.h"

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/blob.h"
#include "repo/format.h"
#include "repo/pack.h"

namespace opendbs::repo {

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

}  // namespace opendbs::repo
