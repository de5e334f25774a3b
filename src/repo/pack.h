// Pack files (docs/REPOSITORY.md §5): blobs back to back, then a sealed header listing them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "repo/keys.h"

namespace opendbs::repo {

struct PackEntry {
  std::string id;  // chunk id, 32 raw bytes
  uint32_t offset = 0;
  uint32_t stored_len = 0;
  uint32_t raw_len = 0;
};

class PackBuilder {
 public:
  // `expected_bytes`: what a pack usually grows to, reserved at its first blob (a 16 MiB string that
  // grows by doubling copies and page-faults its bytes over again).
  explicit PackBuilder(size_t expected_bytes = 0) : expected_bytes_(expected_bytes) {}
  void add(std::string id, std::string_view sealed_blob, uint32_t raw_len);
  size_t size() const { return bytes_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<PackEntry>& entries() const { return entries_; }
  // Appends header and trailer and returns the pack's bytes; the builder is empty afterwards.
  std::string finish(const MasterKey& key);

 private:
  size_t expected_bytes_;
  std::string bytes_;
  std::vector<PackEntry> entries_;
};

// Encodes the entries as the header and index files lay them out (44 bytes each).
void append_entries(std::string& out, const std::vector<PackEntry>& entries);
// Decodes `count` entries at `at`; checks that `in` is long enough.
core::Result<std::vector<PackEntry>> parse_entries(std::string_view in, size_t at, uint32_t count);

// Reads the header of a whole pack and checks that every entry lies within the blob area.
core::Result<std::vector<PackEntry>> parse_pack(const MasterKey& key, std::string_view pack);

// A pack's object name from its 64-hex id: data/<2 hex>/<64 hex>.
std::string pack_object_name(const std::string& pack_id_hex);

}  // namespace opendbs::repo
