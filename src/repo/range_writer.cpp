#include "repo/range_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"

namespace opendbs::repo {
namespace {

core::Error sys_error(const std::string& what, const std::string& path) {
  return core::errors::io(what + " " + path + ": " + std::strerror(errno));
}

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// pwrite until done; `direct_refused` is set (and nothing else reported) when an O_DIRECT write is
// refused for its alignment, so that the caller can write the same bytes through the page cache.
core::Status write_all(int fd, const char* data, uint64_t length, uint64_t offset, const std::string& path,
                       bool* direct_refused = nullptr) {
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pwrite(fd, data + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL && direct_refused && done == 0) {
      *direct_refused = true;
      return {};
    }
    if (n < 0) return sys_error("cannot write", path);
    done += static_cast<uint64_t>(n);
  }
  return {};
}

}  // namespace

void AlignedBuffer::Free::operator()(char* p) const { std::free(p); }

char* AlignedBuffer::reserve(uint64_t lead, uint64_t length) {
  const uint64_t need = (lead + length + kDirectBlock - 1) / kDirectBlock * kDirectBlock;
  if (need > capacity_) {
    data_.reset(static_cast<char*>(std::aligned_alloc(kDirectBlock, need)));
    capacity_ = data_ ? need : 0;
    if (!data_) throw std::bad_alloc();
  }
  return data_.get();
}

core::Status write_range(const std::string& path, uint64_t offset, const char* base, uint64_t length) {
  const uint64_t end = offset + length;
  const uint64_t block_start = offset / kDirectBlock * kDirectBlock;
  const uint64_t head_end = std::min(end, block_start == offset ? offset : block_start + kDirectBlock);
  const uint64_t whole_end = std::max(head_end, end / kDirectBlock * kDirectBlock);
  const char* at = base + (offset - block_start);  // file byte x is at base + (x - block_start)

  bool through_cache = whole_end == head_end;  // no whole block
  if (!through_cache) {
    Fd direct(::open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
    if (direct.get() < 0 && errno != EINVAL) return sys_error("cannot open", path);
    through_cache = direct.get() < 0;
    if (!through_cache)
      OPENDBS_TRY(write_all(direct.get(), at + (head_end - offset), whole_end - head_end, head_end, path,
                            &through_cache));
  }
  Fd cached(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (cached.get() < 0) return sys_error("cannot open", path);
  if (through_cache) return write_all(cached.get(), at, length, offset, path);
  OPENDBS_TRY(write_all(cached.get(), at, head_end - offset, offset, path));
  return write_all(cached.get(), at + (whole_end - offset), end - whole_end, whole_end, path);
}

}  // namespace opendbs::repo
