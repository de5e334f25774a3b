#include "repo/repo_state.h"

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/blob.h"
#include "repo/format.h"
#include "repo/pack.h"

namespace opendbs::repo {

core::Result<std::string> ChunkFetcher::fetch(const ChunkRef& ref) const {
  std::string raw(ref.raw_len, '\0');
  OPENDBS_TRY(fetch_run_into(&ref, 1, raw.data()));
  return raw;
}

size_t ChunkFetcher::run_length(const ChunkRef* refs, size_t n, uint64_t max_stored, uint64_t max_raw) const {
  auto first = index_->find(refs[0].id);
  if (!first) return 1;
  uint64_t end = uint64_t{first->offset} + first->stored_len;
  uint64_t raw = refs[0].raw_len;
  size_t count = 1;
  while (count < n) {
    auto next = index_->find(refs[count].id);
    if (!next || next->pack_id != first->pack_id || next->offset != end ||
        end + next->stored_len - first->offset > max_stored || raw + refs[count].raw_len > max_raw)
      break;
    end += next->stored_len;
    raw += refs[count].raw_len;
    ++count;
  }
  return count;
}

core::Status ChunkFetcher::fetch_run_into(const ChunkRef* refs, size_t n, char* out) const {
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
  for (size_t i = 0; i < n; ++i) {
    if (locs[i].raw_len != refs[i].raw_len)
      return core::errors::corrupt(describe_chunk(refs[i].id, locs[i]) + ": index says " +
                                   std::to_string(locs[i].raw_len) + " bytes, manifest " +
                                   std::to_string(refs[i].raw_len));
    auto sealed = std::string_view(*bytes).substr(locs[i].offset - start, locs[i].stored_len);
    auto st = open_blob_into(state_.key, refs[i].id, sealed, locs[i].raw_len, out);
    if (!st.ok()) return st.error().with_context(describe_chunk(refs[i].id, locs[i]));
    out += locs[i].raw_len;
  }
  return {};
}

}  // namespace opendbs::repo
