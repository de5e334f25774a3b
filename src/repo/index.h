// Index files and the merged in-memory chunk index (docs/REPOSITORY.md §6).
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "repo/keys.h"
#include "repo/pack.h"

namespace opendbs::repo {

struct IndexPack {
  std::string pack_id;  // 64 hex
  std::vector<PackEntry> entries;
};

std::string encode_index_file(const MasterKey& key, const std::vector<IndexPack>& packs);
core::Result<std::vector<IndexPack>> decode_index_file(const MasterKey& key, std::string_view sealed);

struct ChunkLocation {
  std::string pack_id;  // 64 hex
  uint32_t offset = 0;
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;
};

// Chunk id → location, merged from every index file. Thread-safe. When a chunk is in several packs,
// the first one added wins.
class ChunkIndex {
 public:
  void add(const IndexPack& pack);
  bool contains(std::string_view id) const;
  std::optional<ChunkLocation> find(std::string_view id) const;
  size_t size() const;
  uint64_t raw_bytes() const;  // sum of the sizes of the distinct chunks

 private:
  struct Slot {
    uint32_t pack = 0;  // into pack_ids_
    uint32_t offset = 0;
    uint32_t stored_len = 0;
    uint32_t raw_len = 0;
  };
  mutable std::shared_mutex mutex_;
  std::vector<std::string> pack_ids_;
  std::unordered_map<std::string, Slot> chunks_;
};

}  // namespace opendbs::repo
