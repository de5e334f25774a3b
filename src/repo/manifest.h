// Manifests (docs/REPOSITORY.md §7): one backup set's streams, their chunks and the engine's metadata.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/result.h"
#include "repo/keys.h"

namespace opendbs::repo {

struct FileMeta {
  uint64_t size = 0;
  uint32_t mode = 0644;  // permission bits; with the S_IFDIR type bits (040000) a directory entry
  int64_t mtime_ms = 0;
};

inline constexpr uint32_t kModeTypeMask = 0170000;
inline constexpr uint32_t kModeDirectory = 0040000;
// A directory entry: a stream with no bytes that restore creates as a directory (docs/REPOSITORY.md §7).
inline bool is_directory(const FileMeta& meta) { return (meta.mode & kModeTypeMask) == kModeDirectory; }

struct ChunkRef {
  std::string id;  // 32 raw bytes
  uint32_t raw_len = 0;
};

struct StreamEntry {
  std::string name;
  FileMeta meta;
  std::vector<ChunkRef> chunks;
};

struct Manifest {
  std::string set_id;
  int64_t created_ms = 0;
  boost::json::object engine_metadata;
  std::vector<StreamEntry> streams;

  const StreamEntry* find_stream(std::string_view name) const;
};

std::string encode_manifest(const MasterKey& key, const Manifest& manifest);
core::Result<Manifest> decode_manifest(const MasterKey& key, const std::string& set_id, std::string_view sealed);

// [A-Za-z0-9._-]{1,128}, not "." or "..".
core::Status validate_set_id(const std::string& set_id);
// A relative path without empty, "." or ".." components.
core::Status validate_stream_name(const std::string& name);

std::string manifest_object_name(const std::string& set_id);

}  // namespace opendbs::repo
