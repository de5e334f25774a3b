#include "repo/blob.h"

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/format.h"

namespace opendbs::repo {
namespace {

std::string& payload_scratch() {
  thread_local std::string scratch;  // every chunk a thread writes passes through it
  return scratch;
}

std::string blob_aad(std::string_view id) {
  std::string aad(format::kBlobAad);
  aad.append(id);
  return aad;
}

}  // namespace

ChunkBlob::ChunkBlob(const MasterKey& key, const CompressionSpec& spec, std::string_view raw)
    : key_(key), spec_(spec), raw_(raw) {
  if (key_.chunk_ids == ChunkIds::kPlaintext) {
    id_ = core::hmac_sha256(key_.chunk_key, raw_);
    return;
  }
  // Hashing the payload rather than the plaintext reads a fraction of the bytes when chunks
  // compress well (database pages: ~20×), and the compression is needed anyway for every new chunk.
  payload_ = compress_chunk(spec_, raw_, payload_scratch());
  id_ = core::hmac_sha256(key_.chunk_key, payload_);
}

std::string ChunkBlob::seal() {
  if (payload_.empty()) payload_ = compress_chunk(spec_, raw_, payload_scratch());
  return core::aes256gcm_seal(key_.data_key, payload_, blob_aad(id_));
}

core::Status open_blob_into(const MasterKey& key, std::string_view id, std::string_view sealed, size_t raw_len,
                            char* out, bool* damaged) {
  thread_local std::string payload;  // reused, as every chunk read passes through it
  if (damaged) *damaged = false;
  const auto damage = [&](core::Error e) {
    if (damaged) *damaged = true;
    return e;
  };
  if (auto opened = core::aes256gcm_open_into(key.data_key, sealed, blob_aad(id), payload); !opened.ok())
    return damage(opened.error());
  const auto mismatch = [&] { return damage(core::errors::corrupt("chunk content does not match its id")); };
  if (key.chunk_ids == ChunkIds::kPayload) {
    if (!core::constant_time_equal(core::hmac_sha256(key.chunk_key, payload), id)) return mismatch();
    return decompress_chunk_into(payload, raw_len, out);
  }
  OPENDBS_TRY(decompress_chunk_into(payload, raw_len, out));
  if (!core::constant_time_equal(core::hmac_sha256(key.chunk_key, std::string_view(out, raw_len)), id))
    return mismatch();
  return {};
}

core::Result<std::string> open_blob(const MasterKey& key, std::string_view id, std::string_view sealed,
                                    size_t raw_len) {
  std::string raw(raw_len, '\0');
  OPENDBS_TRY(open_blob_into(key, id, sealed, raw_len, raw.data()));
  return raw;
}

}  // namespace opendbs::repo
