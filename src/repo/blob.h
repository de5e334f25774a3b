// Chunks as stored blobs (docs/REPOSITORY.md §4): id = HMAC of the plaintext, payload compressed and
// sealed with the chunk id as AAD. Reading verifies tag, length and id before returning a byte.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "repo/compression.h"
#include "repo/keys.h"

namespace opendbs::repo {

std::string chunk_id(const MasterKey& key, std::string_view raw);  // 32 raw bytes
std::string seal_blob(const MasterKey& key, std::string_view id, const CompressionSpec& spec, std::string_view raw);
// The verified chunk; errors say what failed (callers add which pack and offset).
core::Result<std::string> open_blob(const MasterKey& key, std::string_view id, std::string_view sealed,
                                    size_t raw_len);
// The same into out[0..raw_len); on error those bytes are unspecified.
core::Status open_blob_into(const MasterKey& key, std::string_view id, std::string_view sealed, size_t raw_len,
                            char* out);

}  // namespace opendbs::repo
