#include "engines/postgres/delta_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "core/errors.h"
#include "core/log.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/server_config_files.h"

namespace opendbs::engines::postgres {
namespace fs = std::filesystem;
namespace {

constexpr unsigned kWorkers = 4;

// Bytes compared or written so far, shown as 1..79 % of the set (as a fresh restore shows its copy).
class Tally {
 public:
  Tally(TaskControl& control, uint64_t total) : control_(control), total_(std::max<uint64_t>(total, 1)) {}
  void add(uint64_t compared, uint64_t written) {
    compared_ += compared;
    const uint64_t w = written_ += written;
    const uint64_t done = std::min(total_, compared_ + w);
    control_.progress(1 + static_cast<int>(78 * done / total_), w);
  }
  uint64_t compared() const { return compared_; }
  uint64_t written() const { return written_; }

 private:
  TaskControl& control_;
  const uint64_t total_;
  std::atomic<uint64_t> compared_{0}, written_{0};
};

struct FileJob {
  repo::Repository& repository;
  const std::string& set_id;
  const repo::StreamEntry& entry;
  fs::path file;
  TaskControl& control;
  Tally& tally;
};

core::Status write_all(int fd, const char* data, size_t size, uint64_t offset, const fs::path& file) {
  for (size_t at = 0; at < size;) {
    const ssize_t n = ::pwrite(fd, data + at, size - at, static_cast<off_t>(offset + at));
    if (n <= 0) return core::errors::io("cannot write " + file.string());
    at += static_cast<size_t>(n);
  }
  return {};
}

timespec set_time(const repo::FileMeta& meta) {
  return {meta.mtime_ms / 1000, (meta.mtime_ms % 1000) * 1000000};
}

// Gives a file the set's mode and mtime (what a fresh restore leaves), when they differ.
void set_mode_and_mtime(const fs::path& file, const repo::FileMeta& meta) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) return;
  if ((st.st_mode & 07777) != (meta.mode & 07777)) ::chmod(file.c_str(), meta.mode & 07777);
  const timespec t = set_time(meta);
  if (st.st_mtim.tv_sec != t.tv_sec || st.st_mtim.tv_nsec != t.tv_nsec) {
    const timespec times[2] = {t, t};
    ::utimensat(AT_FDCWD, file.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
}

// Writes the stream to a temporary file beside `file`, then renames it over the old one.
core::Status rewrite(repo::Repository& repository, const std::string& set_id, const repo::StreamEntry& entry,
                     const fs::path& file, TaskControl& control, const std::function<void(uint64_t)>& on_written) {
  const fs::path tmp = file.string() + ".opendbs-tmp";
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, entry.meta.mode & 07777);
  if (fd < 0) return core::errors::io("cannot create " + tmp.string());
  uint64_t at = 0;
  auto st = repository.read_stream(set_id, entry.name, [&](std::string_view b) -> core::Status {
    if (control.cancelled()) return cancelled_error();
    OPENDBS_TRY(write_all(fd, b.data(), b.size(), at, tmp));
    at += b.size();
    if (on_written) on_written(b.size());
    return {};
  });
  const bool synced = st.ok() && ::fsync(fd) == 0;
  ::fchmod(fd, entry.meta.mode & 07777);
  ::close(fd);
  if (st.ok() && !synced) st = core::errors::io("cannot sync " + tmp.string());
  if (st.ok()) {
    const timespec times[2] = {set_time(entry.meta), set_time(entry.meta)};
    ::utimensat(AT_FDCWD, tmp.c_str(), times, 0);
    fs::rename(tmp, file, ec);
    if (ec) st = core::errors::io("cannot replace " + file.string() + ": " + ec.message());
  }
  if (!st.ok()) fs::remove(tmp, ec);
  return st;
}

// The indexes of the set's chunks whose range of the existing file holds other bytes.
core::Result<std::vector<size_t>> differing_chunks(const FileJob& job) {
  const int fd = ::open(job.file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return core::errors::io("cannot open " + job.file.string());
  std::vector<size_t> differing;
  std::string bytes;
  uint64_t offset = 0;
  core::Status st;
  for (size_t i = 0; i < job.entry.chunks.size() && st.ok(); ++i) {
    if (job.control.cancelled()) {
      st = cancelled_error();
      break;
    }
    const auto& chunk = job.entry.chunks[i];
    bytes.resize(chunk.raw_len);
    for (size_t got = 0; got < bytes.size();) {
      const ssize_t n = ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(offset + got));
      if (n <= 0) {
        st = core::errors::io("cannot read " + job.file.string());
        break;
      }
      got += static_cast<size_t>(n);
    }
    if (st.ok() && !job.repository.chunk_matches(chunk.id, bytes)) differing.push_back(i);
    offset += chunk.raw_len;
    job.tally.add(chunk.raw_len, 0);
  }
  ::close(fd);
  OPENDBS_TRY(st);
  return differing;
}

// Fetches the chunks `differing` from the set and writes them over their ranges of the file.
core::Status patch(const FileJob& job, const std::vector<size_t>& differing) {
  OPENDBS_ASSIGN(auto reader, job.repository.open_stream(job.set_id, job.entry.name));
  std::vector<uint64_t> starts;
  uint64_t at = 0;
  for (const auto& c : job.entry.chunks) {
    starts.push_back(at);
    at += c.raw_len;
  }
  const int fd = ::open(job.file.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return core::errors::io("cannot open " + job.file.string() + " for writing");
  core::Status st;
  for (size_t i : differing) {
    if (job.control.cancelled()) {
      st = cancelled_error();
      break;
    }
    auto bytes = reader->read(starts[i], job.entry.chunks[i].raw_len);
    if (!bytes.ok()) {
      st = bytes.error();
      break;
    }
    st = write_all(fd, bytes->data(), bytes->size(), starts[i], job.file);
    if (!st.ok()) break;
    job.tally.add(0, bytes->size());
  }
  if (st.ok() && ::fsync(fd) != 0) st = core::errors::io("cannot sync " + job.file.string());
  ::close(fd);
  return st;
}

enum class Outcome { kKept, kPatched, kWritten };

core::Result<Outcome> bring_up_to_date(const FileJob& job) {
  struct stat st {};
  const bool same_size = ::lstat(job.file.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
                         static_cast<uint64_t>(st.st_size) == job.entry.meta.size;
  if (same_size) {
    auto differing = differing_chunks(job);
    if (!differing.ok() && differing.error().code == cancelled_error().code) return differing.error();
    // A file it cannot read or write in place is rewritten whole, as one of another size.
    if (differing.ok() && (differing->empty() || patch(job, *differing).ok())) {
      set_mode_and_mtime(job.file, job.entry.meta);
      return differing->empty() ? Outcome::kKept : Outcome::kPatched;
    }
    if (job.control.cancelled()) return cancelled_error();
  }
  OPENDBS_TRY(rewrite(job.repository, job.set_id, job.entry, job.file, job.control,
                      [&](uint64_t written) { job.tally.add(0, written); }));
  return Outcome::kWritten;
}

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

core::Status restore_file(repo::Repository& repository, const std::string& set_id, const repo::StreamEntry& entry,
                          const fs::path& file, TaskControl& control) {
  return rewrite(repository, set_id, entry, file, control, {});
}

core::Result<DeltaStats> delta_restore(repo::Repository& repository, const std::string& set_id, const fs::path& dir,
                                       const std::set<std::string>& held_back, TaskControl& control) {
  OPENDBS_ASSIGN(auto manifest, repository.load_manifest(set_id));
  DeltaStats stats;
  std::set<std::string> wanted;
  std::vector<const repo::StreamEntry*> files;
  uint64_t total = 0;
  for (const auto& s : manifest.streams) {
    for (fs::path p = s.name; !p.empty(); p = p.parent_path()) wanted.insert(p.string());
    if (held_back.count(s.name)) {
      continue;
    } else if (repo::is_directory(s.meta)) {
      std::error_code ec;
      fs::create_directories(dir / s.name, ec);
    } else {
      files.push_back(&s);
      total += s.meta.size;
    }
  }
  for (const auto& name : held_back) wanted.insert(name);
  // Configuration files the set lacks (its source keeps them elsewhere) stay: the source's own, copied
  // in by a user, or the minimal ones a restore wrote (server_config_files.h).
  for (const auto& name : config_files_missing_from(manifest)) wanted.insert(name);
  stats.paths_removed = remove_extra(dir, wanted);
  // Big files first, so that the last one to finish is not the largest.
  std::sort(files.begin(), files.end(), [](auto* a, auto* b) { return a->meta.size > b->meta.size; });
  Tally tally(control, total);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  core::Status first_error;
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < std::min<size_t>(kWorkers, files.size()); ++w)
    workers.emplace_back([&] {
      for (size_t i = next++; i < files.size() && !failed; i = next++) {
        const FileJob job{repository, set_id, *files[i], dir / files[i]->name, control, tally};
        auto outcome = bring_up_to_date(job);
        std::lock_guard lock(mu);
        if (!outcome.ok()) {
          if (first_error.ok()) first_error = outcome.error();
          failed = true;
          return;
        }
        ++(*outcome == Outcome::kKept ? stats.files_kept
                                      : *outcome == Outcome::kPatched ? stats.files_patched : stats.files_written);
      }
    });
  for (auto& t : workers) t.join();
  OPENDBS_TRY(first_error);
  stats.bytes_compared = tally.compared();
  stats.bytes_written = tally.written();
  core::log_event(core::LogLevel::info, "postgres_delta_compared",
                  {{"set", set_id}, {"dir", dir.string()}, {"files_kept", stats.files_kept},
                   {"files_patched", stats.files_patched}, {"files_written", stats.files_written},
                   {"bytes_compared", stats.bytes_compared}, {"bytes_written", stats.bytes_written}});
  return stats;
}

}  // namespace opendbs::engines::postgres
