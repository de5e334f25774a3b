// An incremental reader of the ustar archives BASE_BACKUP sends: bytes arrive in arbitrary pieces
// (CopyData messages) and each member is handed to a sink as it streams, without buffering files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace opendbs::engines::postgres {

struct TarEntry {
  std::string name;  // without "./" in front or '/' behind; "" for the archive's root
  char type = '0';   // '0' file, '5' directory, '2' symlink (other types are passed through)
  uint32_t mode = 0;
  int64_t mtime_s = 0;
  uint64_t size = 0;
  std::string link_target;
};

class TarSink {
 public:
  virtual ~TarSink() = default;
  virtual core::Status begin(const TarEntry& entry) = 0;
  virtual core::Status data(std::string_view bytes) = 0;  // the member's bytes, in order
  virtual core::Status end() = 0;                         // after the last byte of the member
};

class TarReader {
 public:
  explicit TarReader(TarSink& sink) : sink_(sink) {}
  core::Status feed(std::string_view bytes);
  // The archive ended: an error when it stopped inside a member.
  core::Status finish() const;

 private:
  core::Status parse_header();

  TarSink& sink_;
  std::string header_;
  uint64_t data_left_ = 0;
  uint64_t padding_left_ = 0;
  bool in_member_ = false;
};

}  // namespace opendbs::engines::postgres
