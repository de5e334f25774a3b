// Per-chunk compression (docs/REPOSITORY.md §4): the stored plaintext of a blob is kind(1) || payload.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "repo/format.h"

namespace opendbs::repo {

struct CompressionSpec {
  format::Compression kind = format::Compression::kZstd;
  int level = format::kZstdLevelDefault;  // zstd only
};

// "zstd", "zstd:N" (1..19), "lz4" or "none".
core::Result<CompressionSpec> parse_compression(std::string_view text);
std::string to_string(const CompressionSpec& spec);

// kind || payload, written into `scratch` (reused across calls, so that a chunk's worst-case bound is
// not allocated and zeroed every time); falls back to kind 0 when compression does not make the chunk
// smaller. The result views `scratch`.
std::string_view compress_chunk(const CompressionSpec& spec, std::string_view raw, std::string& scratch);
// Inverse of compress_chunk; `raw_len` is the chunk size recorded in the index.
core::Result<std::string> decompress_chunk(std::string_view stored, size_t raw_len);
// The same into out[0..raw_len), which the caller provides (a restore decompresses straight into the
// buffer it writes from).
core::Status decompress_chunk_into(std::string_view stored, size_t raw_len, char* out);

}  // namespace opendbs::repo
