// Chunks as stored blobs (docs/REPOSITORY.md §4): payload = kind byte + compressed chunk, sealed with
// the chunk id as AAD; the id is an HMAC of the payload (or, in older repositories, of the plaintext).
// Reading verifies tag, id and length before returning a byte.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "repo/compression.h"
#include "repo/keys.h"

namespace opendbs::repo {

// One chunk on its way into a pack: its id first (a writer skips chunks the repository already has),
// then, if it is new, its sealed blob. With payload ids the chunk is compressed once, to know its id;
// with plaintext ids only a new chunk is compressed. Uses a per-thread buffer: one at a time per thread.
class ChunkBlob {
 public:
  ChunkBlob(const MasterKey& key, const CompressionSpec& spec, std::string_view raw);
  const std::string& id() const { return id_; }  // 32 raw bytes
  std::string seal();

 private:
  const MasterKey& key_;
  const CompressionSpec& spec_;
  std::string_view raw_;
  std::string_view payload_;  // empty until compressed
  std::string id_;
};

// The verified chunk; errors say what failed (callers add which pack and offset).
core::Result<std::string> open_blob(const MasterKey& key, std::string_view id, std::string_view sealed,
                                    size_t raw_len);
// The same into out[0..raw_len); on error those bytes are unspecified. `damaged`, when given, is set to
// whether the error is a definite sign of changed bytes: the authentication or the id hash failed (as
// opposed to e.g. a payload that authenticates but does not decompress to the indexed length).
core::Status open_blob_into(const MasterKey& key, std::string_view id, std::string_view sealed, size_t raw_len,
                            char* out, bool* damaged = nullptr);

}  // namespace opendbs::repo
