#include "repo/blob.h"

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/format.h"

namespace opendbs::repo {

std::string chunk_id(const MasterKey& key, std::string_view raw) { return core::hmac_sha256(key.chunk_key, raw); }

std::string seal_blob(const MasterKey& key, std::string_view id, const CompressionSpec& spec, std::string_view raw) {
  std::string aad(format::kBlobAad);
  aad.append(id);
  thread_local std::string scratch;
  return core::aes256gcm_seal(key.data_key, compress_chunk(spec, raw, scratch), aad);
}

core::Result<std::string> open_blob(const MasterKey& key, std::string_view id, std::string_view sealed,
                                    size_t raw_len) {
  std::string aad(format::kBlobAad);
  aad.append(id);
  auto plain = core::aes256gcm_open(key.data_key, sealed, aad);
  if (!plain.ok()) return plain.error();
  OPENDBS_ASSIGN(auto raw, decompress_chunk(*plain, raw_len));
  if (!core::constant_time_equal(chunk_id(key, raw), id))
    return core::errors::corrupt("chunk content does not match its id");
  return raw;
}

}  // namespace opendbs::repo
