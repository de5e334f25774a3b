#include "repo/backend/local_backend.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/errors.h"
#include "core/file.h"

namespace opendbs::repo {
namespace fs = std::filesystem;

core::Status validate_object_name(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos)
    return core::make_error("InvalidParameterValid", "invalid object name \"" + name + "\"");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '/' || c == '-';
    if (!ok) return core::make_error("InvalidParameterValid", "invalid character in object name \"" + name + "\"");
  }
  return {};
}

LocalBackend::LocalBackend(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

core::Result<std::string> LocalBackend::path_of(const std::string& name) const {
  OPENDBS_TRY(validate_object_name(name));
  return root_ + "/" + name;
}

core::Status LocalBackend::put(const std::string& name, std::string_view data) {
  OPENDBS_ASSIGN(auto path, path_of(name));
  OPENDBS_TRY(core::make_dirs(fs::path(path).parent_path().string()));
  return core::write_file_durable(path, data, 0600);
}

core::Result<std::string> LocalBackend::get(const std::string& name) {
  OPENDBS_ASSIGN(auto path, path_of(name));
  return core::read_file(path);
}

core::Result<std::string> LocalBackend::get_range(const std::string& name, uint64_t offset, uint64_t length) {
  OPENDBS_ASSIGN(auto path, path_of(name));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return core::errors::not_found("no object " + name + " in " + describe());
    return core::errors::io("cannot open " + path + ": " + std::strerror(errno));
  }
  std::string out(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return core::errors::io("cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (done != length)
    return core::errors::corrupt("object " + name + " is truncated: wanted " + std::to_string(length) +
                                 " bytes at offset " + std::to_string(offset) + ", got " + std::to_string(done));
  return out;
}

core::Result<std::optional<ObjectInfo>> LocalBackend::stat(const std::string& name) {
  OPENDBS_ASSIGN(auto path, path_of(name));
  struct ::stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<ObjectInfo>{};
    return core::errors::io("cannot stat " + path + ": " + std::strerror(errno));
  }
  return std::optional<ObjectInfo>{ObjectInfo{name, static_cast<uint64_t>(st.st_size)}};
}

core::Result<std::vector<ObjectInfo>> LocalBackend::list(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  std::error_code ec;
  if (!fs::exists(root_, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code file_ec;
    if (!it->is_regular_file(file_ec)) continue;
    // Lexically: fs::relative resolves the path on disk, and throws when the file (a lock released
    // meanwhile) is already gone.
    auto rel = it->path().lexically_relative(root_).string();
    if (rel.find(".tmp-") != std::string::npos) continue;  // an interrupted put, never an object
    if (rel.compare(0, prefix.size(), prefix) != 0) continue;
    const auto size = it->file_size(file_ec);
    if (file_ec) continue;  // removed while we listed (a released lock): not an object any more
    out.push_back({rel, static_cast<uint64_t>(size)});
  }
  if (ec) return core::errors::io("cannot list " + root_ + ": " + ec.message());
  return out;
}

core::Status LocalBackend::remove(const std::string& name) {
  OPENDBS_ASSIGN(auto path, path_of(name));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return core::errors::io("cannot remove " + path + ": " + std::strerror(errno));
  return {};
}

}  // namespace opendbs::repo
