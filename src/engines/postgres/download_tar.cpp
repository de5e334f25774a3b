#include "engines/postgres/download_tar.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.h"

namespace opendbs::engines::postgres {
namespace {

constexpr size_t kBlock = 512;
constexpr size_t kBufferBytes = 1 << 20;
constexpr uint64_t kOctalSizeLimit = 077777777777ULL;  // 11 octal digits: 8 GiB - 1

core::Error io_error(const std::string& what, const std::string& path) {
  return core::errors::io(what + " " + path + ": " + std::strerror(errno));
}

void put_octal(std::string& h, size_t at, size_t width, uint64_t value) {
  // width - 1 digits and a NUL, as GNU tar writes them.
  for (size_t i = width - 1; i-- > 0;) {
    h[at + i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  h[at + width - 1] = '\0';
}

void put_size(std::string& h, uint64_t size) {
  if (size <= kOctalSizeLimit) return put_octal(h, 124, 12, size);
  // Base-256: the first byte's high bit set, the value big-endian in the remaining bytes.
  h[124] = static_cast<char>(0x80);
  for (size_t i = 0; i < 11; ++i) h[124 + 11 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
}

void put_text(std::string& h, size_t at, size_t width, std::string_view text) {
  std::memcpy(h.data() + at, text.data(), std::min(width, text.size()));
}

// Splits a long name into ustar's prefix (≤ 155) and name (≤ 100) at a '/'; nullopt when impossible.
std::optional<std::pair<std::string, std::string>> split_name(const std::string& name) {
  if (name.size() <= 100) return std::pair<std::string, std::string>{"", name};
  for (size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1))
    if (slash <= 155 && name.size() - slash - 1 <= 100 && slash + 1 < name.size())
      return std::pair<std::string, std::string>{name.substr(0, slash), name.substr(slash + 1)};
  return std::nullopt;
}

// "<len> path=<name>\n" where <len> counts the whole record, itself included.
std::string pax_path_record(const std::string& name) {
  const size_t body = std::string(" path=\n").size() + name.size();
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  return std::to_string(len) + " path=" + name + "\n";
}

std::string padding(uint64_t size) { return std::string((kBlock - size % kBlock) % kBlock, '\0'); }

}  // namespace

std::string tar_header(const std::string& name, char type, uint64_t size, uint32_t mode, int64_t mtime_s) {
  std::string h(kBlock, '\0');
  auto split = split_name(name);
  if (split) {
    put_text(h, 0, 100, split->second);
    put_text(h, 345, 155, split->first);
  } else {
    put_text(h, 0, 100, name);
  }
  put_octal(h, 100, 8, mode & 07777);
  put_octal(h, 108, 8, 0);
  put_octal(h, 116, 8, 0);
  put_size(h, size);
  put_octal(h, 136, 12, static_cast<uint64_t>(std::max<int64_t>(0, mtime_s)));
  h[156] = type;
  put_text(h, 257, 6, std::string_view("ustar\0", 6));
  put_text(h, 263, 2, "00");
  put_text(h, 265, 32, "postgres");
  put_text(h, 297, 32, "postgres");
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  put_octal(h, 148, 7, sum);  // six digits, NUL, then the space already there
  return h;
}

core::Result<DownloadFile> DownloadFile::create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create", path);
  return DownloadFile(fd, path);
}

DownloadFile::DownloadFile(DownloadFile&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)), buffer_(std::move(other.buffer_)), size_(other.size_) {
  other.fd_ = -1;
}

DownloadFile::~DownloadFile() {
  if (fd_ >= 0) ::close(fd_);
}

core::Status DownloadFile::flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot write", path_);
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return {};
}

core::Status DownloadFile::write(std::string_view bytes) {
  size_ += bytes.size();
  if (buffer_.size() + bytes.size() < kBufferBytes) {
    buffer_.append(bytes);
    return {};
  }
  OPENDBS_TRY(flush());
  if (bytes.size() < kBufferBytes) {
    buffer_.append(bytes);
    return {};
  }
  buffer_.assign(bytes);  // a large piece goes straight through
  return flush();
}

core::Status DownloadFile::write_at(uint64_t offset, std::string_view bytes) {
  OPENDBS_TRY(flush());
  if (::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset)) != static_cast<ssize_t>(bytes.size()))
    return io_error("cannot write", path_);
  return {};
}

core::Status DownloadFile::finish() {
  OPENDBS_TRY(flush());
  if (::fsync(fd_) != 0) return io_error("cannot sync", path_);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return io_error("cannot close", path_);
  return {};
}

core::Status TarWriter::put_header(const std::string& name, char type, uint64_t size, uint32_t mode, int64_t mtime_s) {
  if (!split_name(name)) {  // a pax extended header carries the whole name
    const std::string record = pax_path_record(name);
    OPENDBS_TRY(out_.write(tar_header("PaxHeader/" + name.substr(name.size() - std::min<size_t>(80, name.size())), 'x',
                                      record.size(), 0644, mtime_s)));
    OPENDBS_TRY(out_.write(record));
    OPENDBS_TRY(out_.write(padding(record.size())));
  }
  header_offset_ = out_.size();
  return out_.write(tar_header(name, type, size, mode, mtime_s));
}

core::Status TarWriter::add_directory(const std::string& name, uint32_t mode, int64_t mtime_s) {
  return put_header(name.ends_with('/') ? name : name + "/", '5', 0, mode, mtime_s);
}

core::Status TarWriter::begin_file(const std::string& name, std::optional<uint64_t> size, uint32_t mode,
                                   int64_t mtime_s) {
  name_ = name;
  declared_ = size;
  written_ = 0;
  mode_ = mode;
  mtime_s_ = mtime_s;
  // An unknown size is written as 0 and the header rewritten in end_file(): same name, same length.
  return put_header(name, '0', size.value_or(0), mode, mtime_s);
}

core::Status TarWriter::data(std::string_view bytes) {
  written_ += bytes.size();
  return out_.write(bytes);
}

core::Status TarWriter::end_file() {
  if (declared_ && *declared_ != written_)
    return core::errors::corrupt("tar member " + name_ + " declared " + std::to_string(*declared_) + " bytes but has " +
                                 std::to_string(written_));
  if (!declared_) OPENDBS_TRY(out_.write_at(header_offset_, tar_header(name_, '0', written_, mode_, mtime_s_)));
  return out_.write(padding(written_));
}

core::Status TarWriter::finish() { return out_.write(std::string(2 * kBlock, '\0')); }

}  // namespace opendbs::engines::postgres
