#include "engines/postgres/delta_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "core/errors.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/server_config_files.h"

namespace opendbs::engines::postgres {
namespace fs = std::filesystem;
namespace {

constexpr unsigned kWriters = 4;

bool unchanged(const fs::path& file, const repo::FileMeta& meta) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  const int64_t mtime_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  return static_cast<uint64_t>(st.st_size) == meta.size && (st.st_mode & 07777) == (meta.mode & 07777) &&
         mtime_ms == meta.mtime_ms;
}

}  // namespace

core::Status restore_file(repo::Repository& repository, const std::string& set_id, const repo::StreamEntry& entry,
                          const fs::path& file, TaskControl& control) {
  const fs::path tmp = file.string() + ".opendbs-tmp";
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, entry.meta.mode & 07777);
  if (fd < 0) return core::errors::io("cannot create " + tmp.string());
  auto st = repository.read_stream(set_id, entry.name, [&](std::string_view b) -> core::Status {
    if (control.cancelled()) return cancelled_error();
    for (size_t at = 0; at < b.size();) {
      const ssize_t n = ::write(fd, b.data() + at, b.size() - at);
      if (n <= 0) return core::errors::io("cannot write " + tmp.string());
      at += static_cast<size_t>(n);
    }
    return {};
  });
  const bool synced = st.ok() && ::fsync(fd) == 0;
  ::fchmod(fd, entry.meta.mode & 07777);
  ::close(fd);
  if (st.ok() && !synced) st = core::errors::io("cannot sync " + tmp.string());
  if (st.ok()) {
    const timespec times[2] = {{entry.meta.mtime_ms / 1000, (entry.meta.mtime_ms % 1000) * 1000000},
                               {entry.meta.mtime_ms / 1000, (entry.meta.mtime_ms % 1000) * 1000000}};
    ::utimensat(AT_FDCWD, tmp.c_str(), times, 0);
    fs::rename(tmp, file, ec);
    if (ec) st = core::errors::io("cannot replace " + file.string() + ": " + ec.message());
  }
  if (!st.ok()) fs::remove(tmp, ec);
  return st;
}

namespace {

// Removes every path under `dir` that the set does not name (nor contains below a directory it names).
// A directory the set names may be a symlink to another disk — a tablespace moved out of
// pg_tblspc/<oid>/, or pg_wal — : it is kept and followed (its files were compared through it), and
// names are taken relative to `dir` as written, never resolved through such a link.
uint64_t remove_extra(const fs::path& dir, const std::set<std::string>& wanted) {
  std::vector<fs::path> extra;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string rel = it->path().lexically_relative(dir).string();
    if (wanted.count(rel)) continue;
    extra.push_back(it->path());
    it.disable_recursion_pending();
  }
  for (const auto& p : extra) fs::remove_all(p, ec);
  return extra.size();
}

}  // namespace

core::Result<DeltaStats> delta_restore(repo::Repository& repository, const std::string& set_id, const fs::path& dir,
                                       const std::set<std::string>& held_back, TaskControl& control) {
  OPENDBS_ASSIGN(auto manifest, repository.load_manifest(set_id));
  DeltaStats stats;
  std::set<std::string> wanted;
  std::vector<const repo::StreamEntry*> changed;
  for (const auto& s : manifest.streams) {
    for (fs::path p = s.name; !p.empty(); p = p.parent_path()) wanted.insert(p.string());
    if (held_back.count(s.name)) {
      continue;
    } else if (repo::is_directory(s.meta)) {
      std::error_code ec;
      fs::create_directories(dir / s.name, ec);
    } else if (unchanged(dir / s.name, s.meta)) {
      ++stats.files_kept;
    } else {
      changed.push_back(&s);
    }
  }
  for (const auto& name : held_back) wanted.insert(name);
  // Configuration files the set lacks (its source keeps them elsewhere) stay: the source's own, copied
  // in by a user, or the minimal ones a restore wrote (server_config_files.h).
  for (const auto& name : config_files_missing_from(manifest)) wanted.insert(name);
  stats.paths_removed = remove_extra(dir, wanted);
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> bytes{0};
  std::mutex mu;
  core::Status first_error;
  std::vector<std::thread> writers;
  for (unsigned w = 0; w < std::min<size_t>(kWriters, changed.size()); ++w)
    writers.emplace_back([&] {
      for (size_t i = next++; i < changed.size(); i = next++) {
        auto st = restore_file(repository, set_id, *changed[i], dir / changed[i]->name, control);
        std::lock_guard lock(mu);
        if (!st.ok()) {
          if (first_error.ok()) first_error = st;
          return;
        }
        bytes += changed[i]->meta.size;
      }
    });
  for (auto& t : writers) t.join();
  OPENDBS_TRY(first_error);
  stats.files_written = changed.size();
  stats.bytes_written = bytes;
  return stats;
}

}  // namespace opendbs::engines::postgres
