#include "repo/pack.h"

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/byte_order.h"
#include "repo/format.h"

namespace opendbs::repo {

void PackBuilder::add(std::string id, std::string_view sealed_blob, uint32_t raw_len) {
  if (entries_.empty()) bytes_.reserve(expected_bytes_);
  entries_.push_back(PackEntry{std::move(id), static_cast<uint32_t>(bytes_.size()),
                               static_cast<uint32_t>(sealed_blob.size()), raw_len});
  bytes_.append(sealed_blob);
}

std::string PackBuilder::finish(const MasterKey& key) {
  std::string header;
  put_u32(header, static_cast<uint32_t>(entries_.size()));
  append_entries(header, entries_);
  const std::string sealed = core::aes256gcm_seal(key.data_key, header, format::kPackHeaderAad);
  std::string out = std::move(bytes_);
  out.append(sealed);
  put_u32(out, static_cast<uint32_t>(sealed.size()));
  out.append(format::kPackMagic);
  bytes_.clear();
  entries_.clear();
  return out;
}

void append_entries(std::string& out, const std::vector<PackEntry>& entries) {
  for (const auto& e : entries) {
    out.append(e.id);
    put_u32(out, e.offset);
    put_u32(out, e.stored_len);
    put_u32(out, e.raw_len);
  }
}

core::Result<std::vector<PackEntry>> parse_entries(std::string_view in, size_t at, uint32_t count) {
  if ((in.size() - at) / format::kPackEntrySize < count)
    return core::errors::corrupt("entry table is shorter than its count");
  std::vector<PackEntry> out;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i, at += format::kPackEntrySize) {
    out.push_back(PackEntry{std::string(in.substr(at, format::kIdSize)), get_u32(in, at + 32), get_u32(in, at + 36),
                            get_u32(in, at + 40)});
  }
  return out;
}

core::Result<std::vector<PackEntry>> parse_pack(const MasterKey& key, std::string_view pack) {
  const size_t trailer = format::kPackTrailerSize;
  if (pack.size() < trailer || pack.substr(pack.size() - 8) != format::kPackMagic)
    return core::errors::corrupt("pack has no trailer magic (truncated or not a pack)");
  const uint32_t header_len = get_u32(pack, pack.size() - trailer);
  if (header_len > pack.size() - trailer) return core::errors::corrupt("pack header length exceeds the pack");
  const size_t header_at = pack.size() - trailer - header_len;
  auto header = core::aes256gcm_open(key.data_key, pack.substr(header_at, header_len), format::kPackHeaderAad);
  if (!header.ok()) return header.error().with_context("pack header");
  if (header->size() < 4) return core::errors::corrupt("pack header is too short");
  OPENDBS_ASSIGN(auto entries, parse_entries(*header, 4, get_u32(*header, 0)));
  if (4 + entries.size() * format::kPackEntrySize != header->size())
    return core::errors::corrupt("pack header has trailing bytes");
  for (const auto& e : entries)
    if (uint64_t{e.offset} + e.stored_len > header_at)
      return core::errors::corrupt("pack header entry at offset " + std::to_string(e.offset) +
                                   " lies outside the blob area");
  return entries;
}

std::string pack_object_name(const std::string& pack_id_hex) {
  return std::string(format::kDataPrefix) + pack_id_hex.substr(0, 2) + "/" + pack_id_hex;
}

}  // namespace opendbs::repo
