#include "repo/compression.h"

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "core/errors.h"

namespace opendbs::repo {
namespace {

// One compression context per thread: creating a ZSTD_CCtx per chunk would cost more than a small chunk.
ZSTD_CCtx* thread_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  return ctx.get();
}

ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  return ctx.get();
}

std::string_view stored_as_is(std::string_view raw, std::string& scratch) {
  scratch.assign(1, static_cast<char>(format::Compression::kNone));
  scratch.append(raw);
  return scratch;
}

// Grows `scratch` to at least n bytes; only growth pays for zeroing.
char* room(std::string& scratch, size_t n) {
  if (scratch.size() < n) scratch.resize(n);
  return scratch.data();
}

}  // namespace

core::Result<CompressionSpec> parse_compression(std::string_view text) {
  if (text == "none") return CompressionSpec{format::Compression::kNone, 0};
  if (text == "lz4") return CompressionSpec{format::Compression::kLz4, 0};
  if (text == "zstd") return CompressionSpec{};
  if (text.rfind("zstd:", 0) == 0) {
    int level = 0;
    auto digits = text.substr(5);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), level);
    if (ec == std::errc() && end == digits.data() + digits.size() && level >= 1 && level <= 19)
      return CompressionSpec{format::Compression::kZstd, level};
  }
  return core::errors::invalid_parameter("compression", text, "zstd, zstd:1..zstd:19, lz4 or none");
}

std::string to_string(const CompressionSpec& spec) {
  switch (spec.kind) {
    case format::Compression::kNone: return "none";
    case format::Compression::kLz4: return "lz4";
    case format::Compression::kZstd: return "zstd:" + std::to_string(spec.level);
  }
  return "none";
}

std::string_view compress_chunk(const CompressionSpec& spec, std::string_view raw, std::string& scratch) {
  size_t n = 0;
  if (spec.kind == format::Compression::kZstd) {
    const size_t bound = ZSTD_compressBound(raw.size());
    n = ZSTD_compressCCtx(thread_cctx(), room(scratch, 1 + bound) + 1, bound, raw.data(), raw.size(), spec.level);
    if (ZSTD_isError(n)) return stored_as_is(raw, scratch);
  } else if (spec.kind == format::Compression::kLz4) {
    const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
    const int lz4 = LZ4_compress_default(raw.data(), room(scratch, 1 + static_cast<size_t>(bound)) + 1,
                                         static_cast<int>(raw.size()), bound);
    if (lz4 <= 0) return stored_as_is(raw, scratch);
    n = static_cast<size_t>(lz4);
  } else {
    return stored_as_is(raw, scratch);
  }
  if (n >= raw.size()) return stored_as_is(raw, scratch);
  scratch[0] = static_cast<char>(spec.kind);
  return std::string_view(scratch.data(), 1 + n);
}

core::Status decompress_chunk_into(std::string_view stored, size_t raw_len, char* out) {
  if (stored.empty()) return core::errors::corrupt("empty blob plaintext (no compression kind)");
  const auto kind = static_cast<format::Compression>(stored[0]);
  stored.remove_prefix(1);
  switch (kind) {
    case format::Compression::kNone:
      if (stored.size() != raw_len) return core::errors::corrupt("uncompressed blob has the wrong length");
      std::copy(stored.begin(), stored.end(), out);
      return {};
    case format::Compression::kZstd: {
      size_t n = ZSTD_decompressDCtx(thread_dctx(), out, raw_len, stored.data(), stored.size());
      if (ZSTD_isError(n) || n != raw_len)
        return core::errors::corrupt(std::string("zstd payload does not decompress to the indexed length: ") +
                                     (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong length"));
      return {};
    }
    case format::Compression::kLz4: {
      int n = LZ4_decompress_safe(stored.data(), out, static_cast<int>(stored.size()), static_cast<int>(raw_len));
      if (n < 0 || static_cast<size_t>(n) != raw_len)
        return core::errors::corrupt("lz4 payload does not decompress to the indexed length");
      return {};
    }
  }
  return core::errors::corrupt("unknown compression kind " + std::to_string(static_cast<int>(kind)));
}

core::Result<std::string> decompress_chunk(std::string_view stored, size_t raw_len) {
  std::string out(raw_len, '\0');
  OPENDBS_TRY(decompress_chunk_into(stored, raw_len, out.data()));
  return out;
}

}  // namespace opendbs::repo
