// The files downloads are made of: DownloadFile, written sequentially (buffered) and synced at the end,
// and TarWriter, a ustar archive over it. Members larger than ustar's 8 GiB field use the base-256
// size encoding, and names longer than ustar's name/prefix fields a pax "path" record — what GNU tar
// and bsdtar read. A member whose size is not known when it starts (a CSV being converted) is written
// with a placeholder header that is patched when the member ends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace opendbs::engines::postgres {

class DownloadFile {
 public:
  // Creates (truncates) `path` with mode 0600.
  static core::Result<DownloadFile> create(const std::string& path);
  DownloadFile(DownloadFile&& other) noexcept;
  DownloadFile& operator=(DownloadFile&&) = delete;
  ~DownloadFile();

  core::Status write(std::string_view bytes);
  // Overwrites bytes already written (after flushing the buffer).
  core::Status write_at(uint64_t offset, std::string_view bytes);
  uint64_t size() const { return size_; }
  // Flushes, fsyncs and closes; the file is durable when this returns ok.
  core::Status finish();

 private:
  DownloadFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  core::Status flush();

  int fd_ = -1;
  std::string path_;
  std::string buffer_;
  uint64_t size_ = 0;
};

class TarWriter {
 public:
  explicit TarWriter(DownloadFile& out) : out_(out) {}

  core::Status add_directory(const std::string& name, uint32_t mode, int64_t mtime_s);
  // Starts a regular file; `size` = nullopt when unknown until end_file(). Then data(), then end_file().
  core::Status begin_file(const std::string& name, std::optional<uint64_t> size, uint32_t mode, int64_t mtime_s);
  core::Status data(std::string_view bytes);
  // Pads the member to a whole block; an error when a declared size was not met exactly.
  core::Status end_file();
  // The two zero blocks that end an archive.
  core::Status finish();

 private:
  core::Status put_header(const std::string& name, char type, uint64_t size, uint32_t mode, int64_t mtime_s);

  DownloadFile& out_;
  std::string name_, header_;
  std::optional<uint64_t> declared_;
  uint64_t header_offset_ = 0, written_ = 0;
  uint32_t mode_ = 0;
  int64_t mtime_s_ = 0;
};

// One ustar header block (512 bytes) for a member; exposed for tests. A name that does not fit is
// left to a pax record (see TarWriter) and truncated here.
std::string tar_header(const std::string& name, char type, uint64_t size, uint32_t mode, int64_t mtime_s);

}  // namespace opendbs::engines::postgres
