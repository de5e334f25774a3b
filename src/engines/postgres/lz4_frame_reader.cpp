#include "engines/postgres/lz4_frame_reader.h"

#include <lz4frame.h>

#include <new>

#include "core/errors.h"

namespace opendbs::engines::postgres {

namespace {
constexpr size_t kPiece = 256 * 1024;  // the most handed on at once
constexpr size_t kRing = 4 * kPiece;
}  // namespace

Lz4FrameReader::Lz4FrameReader() : out_(kRing, '\0') {
  if (LZ4F_isError(LZ4F_createDecompressionContext(&context_, LZ4F_VERSION))) throw std::bad_alloc();
}

Lz4FrameReader::~Lz4FrameReader() { LZ4F_freeDecompressionContext(context_); }

core::Status Lz4FrameReader::feed(std::string_view compressed, const Sink& sink) {
  while (!compressed.empty()) {
    // Each piece goes right after the previous one until the ring wraps: a linked LZ4 block refers to
    // the 64 KiB before it, which the decoder then finds in place instead of copying it aside.
    if (out_.size() - at_ < kPiece) at_ = 0;
    char* out = out_.data() + at_;
    size_t out_size = kPiece, in_size = compressed.size();
    const size_t hint = LZ4F_decompress(context_, out, &out_size, compressed.data(), &in_size, nullptr);
    if (LZ4F_isError(hint))
      return core::errors::corrupt(std::string("the server's LZ4 stream does not decode: ") + LZ4F_getErrorName(hint));
    compressed.remove_prefix(in_size);
    between_frames_ = hint == 0;  // 0: a frame just ended; a next one may follow
    at_ += out_size;
    if (out_size > 0) OPENDBS_TRY(sink(std::string_view(out, out_size)));
    if (in_size == 0 && out_size == 0)
      return core::errors::internal("LZ4 decoder made no progress");  // cannot happen with input left
  }
  return {};
}

core::Status Lz4FrameReader::finish() const {
  if (!between_frames_) return core::errors::corrupt("the server's LZ4 stream ended inside a frame");
  return {};
}

}  // namespace opendbs::engines::postgres
