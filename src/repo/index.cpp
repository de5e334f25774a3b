#include "repo/index.h"

#include <mutex>

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/byte_order.h"
#include "repo/format.h"

namespace opendbs::repo {

std::string encode_index_file(const MasterKey& key, const std::vector<IndexPack>& packs) {
  std::string body(format::kIndexMagic);
  put_u32(body, static_cast<uint32_t>(packs.size()));
  for (const auto& p : packs) {
    auto raw_id = core::from_hex(p.pack_id);
    assert(raw_id.ok() && raw_id->size() == format::kIdSize);
    body.append(*raw_id);
    put_u32(body, static_cast<uint32_t>(p.entries.size()));
    append_entries(body, p.entries);
  }
  return core::aes256gcm_seal(key.data_key, body, format::kIndexAad);
}

core::Result<std::vector<IndexPack>> decode_index_file(const MasterKey& key, std::string_view sealed) {
  auto body_or = core::aes256gcm_open(key.data_key, sealed, format::kIndexAad);
  if (!body_or.ok()) return body_or.error();
  const std::string& body = *body_or;
  if (body.size() < 12 || std::string_view(body).substr(0, 8) != format::kIndexMagic)
    return core::errors::corrupt("index body has no ODBSIX01 magic");
  const uint32_t pack_count = get_u32(body, 8);
  size_t at = 12;
  std::vector<IndexPack> packs;
  for (uint32_t i = 0; i < pack_count; ++i) {
    if (body.size() - at < format::kIdSize + 4) return core::errors::corrupt("index is truncated in pack " + std::to_string(i));
    IndexPack p;
    p.pack_id = core::to_hex(std::string_view(body).substr(at, format::kIdSize));
    const uint32_t count = get_u32(body, at + format::kIdSize);
    at += format::kIdSize + 4;
    OPENDBS_ASSIGN(p.entries, parse_entries(body, at, count));
    at += size_t{count} * format::kPackEntrySize;
    packs.push_back(std::move(p));
  }
  if (at != body.size()) return core::errors::corrupt("index has trailing bytes");
  return packs;
}

void ChunkIndex::add(const IndexPack& pack) {
  std::unique_lock lock(mutex_);
  const auto pack_no = static_cast<uint32_t>(pack_ids_.size());
  pack_ids_.push_back(pack.pack_id);
  for (const auto& e : pack.entries) chunks_.try_emplace(e.id, Slot{pack_no, e.offset, e.stored_len, e.raw_len});
}

bool ChunkIndex::contains(std::string_view id) const {
  std::shared_lock lock(mutex_);
  return chunks_.count(std::string(id)) > 0;
}

std::optional<ChunkLocation> ChunkIndex::find(std::string_view id) const {
  std::shared_lock lock(mutex_);
  auto it = chunks_.find(std::string(id));
  if (it == chunks_.end()) return std::nullopt;
  const Slot& s = it->second;
  return ChunkLocation{pack_ids_[s.pack], s.offset, s.stored_len, s.raw_len};
}

size_t ChunkIndex::size() const {
  std::shared_lock lock(mutex_);
  return chunks_.size();
}

uint64_t ChunkIndex::raw_bytes() const {
  std::shared_lock lock(mutex_);
  uint64_t total = 0;
  for (const auto& [id, slot] : chunks_) total += slot.raw_len;
  return total;
}

}  // namespace opendbs::repo
