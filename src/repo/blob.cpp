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

core::Status open_blob_into(const MasterKey& key, std::string_view id, std::string_view sealed, size_t raw_len,
                            char* out) {
  std::string aad(format::kBlobAad);
  aad.append(id);
  thread_local std::string plain;  // the compressed payload: reused, as every chunk passes through it
  OPENDBS_TRY(core::aes256gcm_open_into(key.data_key, sealed, aad, plain));
  OPENDBS_TRY(decompress_chunk_into(plain, raw_len, out));
  if (!core::constant_time_equal(chunk_id(key, std::string_view(out, raw_len)), id))
    return core::errors::corrupt("chunk content does not match its id");
  return {};
}

core::Result<std::string> open_blob(const MasterKey& key, std::string_view id, std::string_view sealed,
                                    size_t raw_len) {
  std::string raw(raw_len, '\0');
  OPENDBS_TRY(open_blob_into(key, id, sealed, raw_len, raw.data()));
  return raw;
}

}  // namespace opendbs::repo
