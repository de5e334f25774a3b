#include "engines/postgres/lz4_frame_reader.h"

#include <lz4frame.h>

#include <new>

#include "core/errors.h"

namespace opendbs::engines::postgres {

Lz4FrameReader::Lz4FrameReader() : out_(256 * 1024, '\0') {
  if (LZ4F_isError(LZ4F_createDecompressionContext(&context_, LZ4F_VERSION))) throw std::bad_alloc();
}

Lz4FrameReader::~Lz4FrameReader() { LZ4F_freeDecompressionContext(context_); }

core::Status Lz4FrameReader::feed(std::string_view compressed, const Sink& sink) {
  while (!compressed.empty()) {
    size_t out_size = out_.size(), in_size = compressed.size();
    const size_t hint = LZ4F_decompress(context_, out_.data(), &out_size, compressed.data(), &in_size, nullptr);
    if (LZ4F_isError(hint))
      return core::errors::corrupt(std::string("the server's LZ4 stream does not decode: ") + LZ4F_getErrorName(hint));
    compressed.remove_prefix(in_size);
    between_frames_ = hint == 0;  // 0: a frame just ended; a next one may follow
    if (out_size > 0) OPENDBS_TRY(sink(std::string_view(out_.data(), out_size)));
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
