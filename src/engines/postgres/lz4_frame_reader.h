// Decompresses the LZ4 frames BASE_BACKUP sends with COMPRESSION 'lz4' as they arrive, handing the
// plain bytes on in pieces of at most 256 KiB: no archive is ever held whole.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

struct LZ4F_dctx_s;

namespace opendbs::engines::postgres {

class Lz4FrameReader {
 public:
  using Sink = std::function<core::Status(std::string_view)>;
  Lz4FrameReader();
  ~Lz4FrameReader();
  Lz4FrameReader(const Lz4FrameReader&) = delete;
  Lz4FrameReader& operator=(const Lz4FrameReader&) = delete;

  core::Status feed(std::string_view compressed, const Sink& sink);
  // The stream ended: an error when it stopped inside a frame.
  core::Status finish() const;

 private:
  LZ4F_dctx_s* context_ = nullptr;
  std::string out_;  // a ring the plain bytes are decoded into
  size_t at_ = 0;     // where the next piece goes
  bool between_frames_ = true;
};

}  // namespace opendbs::engines::postgres
