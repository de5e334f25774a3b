// Reading committed sets: random access (StreamReader), whole-set restore to a directory with parallel,
// out-of-order writes, and in-order streaming for --stdout. Every chunk is verified by ChunkFetcher.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "core/errors.h"
#include "core/file.h"
#include "repo/lock.h"
#include "repo/range_writer.h"
#include "repo/repo_state.h"

namespace opendbs::repo {
namespace {

// One ranged read fetches at most this much, and decompresses to at most this much: what a restore
// thread holds in memory.
constexpr uint64_t kRunBytesMax = 8 * 1024 * 1024;

class ManifestStreamReader final : public StreamReader {
 public:
  ManifestStreamReader(RepoState& state, std::shared_ptr<ChunkIndex> index, StreamEntry entry)
      : fetcher_(state, std::move(index)), entry_(std::move(entry)) {
    uint64_t at = 0;
    for (const auto& c : entry_.chunks) {
      starts_.push_back(at);
      at += c.raw_len;
    }
  }

  uint64_t size() const override { return entry_.meta.size; }

  core::Result<std::string> read(uint64_t offset, uint64_t length) override {
    std::string out;
    if (offset >= size()) return out;
    length = std::min(length, size() - offset);
    size_t i = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), offset) - starts_.begin()) - 1;
    while (out.size() < length) {
      if (cached_index_ != i) {
        OPENDBS_ASSIGN(cached_, fetcher_.fetch(entry_.chunks[i]));
        cached_index_ = i;
      }
      const uint64_t from = offset + out.size() - starts_[i];
      const uint64_t take = std::min<uint64_t>(cached_.size() - from, length - out.size());
      out.append(cached_, from, take);
      ++i;
    }
    return out;
  }

 private:
  ChunkFetcher fetcher_;
  StreamEntry entry_;
  std::vector<uint64_t> starts_;
  size_t cached_index_ = SIZE_MAX;
  std::string cached_;
};

// A run of chunks of one stream fetched with one ranged read.
struct Run {
  size_t stream = 0;
  size_t first = 0;
  size_t count = 0;
  uint64_t file_offset = 0;
  uint64_t raw_bytes = 0;
};

// Spreads each stream's runs evenly over the whole restore, so that the runs in flight at any moment
// belong to different files: buffered writes to one file serialize on its inode lock.
void spread_over_files(std::vector<Run>& runs) {
  std::vector<size_t> per_stream;
  for (const auto& r : runs) {
    if (per_stream.size() <= r.stream) per_stream.resize(r.stream + 1, 0);
    ++per_stream[r.stream];
  }
  std::vector<std::pair<double, size_t>> keys;
  std::vector<size_t> seen(per_stream.size(), 0);
  for (size_t i = 0; i < runs.size(); ++i) {
    const size_t s = runs[i].stream;
    keys.emplace_back((static_cast<double>(seen[s]++) + 0.5) / static_cast<double>(per_stream[s]), i);
  }
  std::stable_sort(keys.begin(), keys.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<Run> ordered;
  ordered.reserve(runs.size());
  for (const auto& k : keys) ordered.push_back(runs[k.second]);
  runs = std::move(ordered);
}

std::vector<Run> plan_runs(const ChunkFetcher& fetcher, const std::vector<StreamEntry>& streams) {
  std::vector<Run> runs;
  for (size_t s = 0; s < streams.size(); ++s) {
    const auto& chunks = streams[s].chunks;
    uint64_t at = 0;
    for (size_t i = 0; i < chunks.size();) {
      const size_t n = fetcher.run_length(&chunks[i], chunks.size() - i, kRunBytesMax, kRunBytesMax);
      uint64_t raw = 0;
      for (size_t k = i; k < i + n; ++k) raw += chunks[k].raw_len;
      runs.push_back(Run{s, i, n, at, raw});
      at += raw;
      i += n;
    }
  }
  return runs;
}

core::Error sys_error(const std::string& what, const std::string& path) {
  return core::errors::io(what + " " + path + ": " + std::strerror(errno));
}

// Makes every directory of the set, and the parent directory of every file.
core::Status create_directories(const std::vector<StreamEntry>& streams, const std::string& root) {
  for (const auto& s : streams) {
    const std::filesystem::path path = root + "/" + s.name;
    OPENDBS_TRY(core::make_dirs(is_directory(s.meta) ? path.string() : path.parent_path().string(),
                                is_directory(s.meta) ? 0700 : 0755));
  }
  return {};
}

// Creates each file at its final size exactly once, so that runs can be written in any order. A
// thread of its own creates them in the order the runs need them while the restore threads decode;
// a run whose file is not there yet creates it itself. Creating a data directory's thousand files
// before any data flowed took half of a restore where many files had just been deleted (ext4 then
// skips each recently freed inode in its bitmaps, ~1 ms a file); creating them from all restore
// threads at once contended in the kernel and gained nothing.
class LazyFiles {
 public:
  LazyFiles(const std::vector<StreamEntry>& streams, std::string root, std::vector<size_t> order)
      : streams_(streams), root_(std::move(root)), once_(streams.size()), status_(streams.size()),
        creator_([this, order = std::move(order)](std::stop_token stop) {
          for (size_t i : order) {
            if (stop.stop_requested()) return;
            if (!ensure(i).ok()) return;  // the run or the end that needs the file reports it
          }
        }) {}

  core::Status ensure(size_t i) {
    std::call_once(once_[i], [&] { status_[i] = create(streams_[i]); });
    return status_[i];
  }

 private:
  core::Status create(const StreamEntry& s) const {
    const std::string path = root_ + "/" + s.name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return sys_error("cannot create", path);
    const bool ok = ::ftruncate(fd, static_cast<off_t>(s.meta.size)) == 0;
    ::close(fd);
    if (!ok) return sys_error("cannot size", path);
    return {};
  }

  const std::vector<StreamEntry>& streams_;
  const std::string root_;
  std::vector<std::once_flag> once_;
  std::vector<core::Status> status_;
  std::jthread creator_;  // last: stopped and joined before the members it uses go
};

// The files of `streams` in the order `runs` first write them, then files without runs (empty).
std::vector<size_t> creation_order(const std::vector<StreamEntry>& streams, const std::vector<Run>& runs) {
  std::vector<size_t> order;
  std::vector<bool> listed(streams.size(), false);
  for (const auto& r : runs)
    if (!listed[r.stream]) order.push_back(r.stream), listed[r.stream] = true;
  for (size_t i = 0; i < streams.size(); ++i)
    if (!listed[i] && !is_directory(streams[i].meta)) order.push_back(i);
  return order;
}

// The recorded mode and mtime (durability comes from one syncfs at the end, far cheaper than an
// fsync per file on a data directory of thousands of files).
core::Status finish_file(const StreamEntry& s, const std::string& root) {
  const std::string path = root + "/" + s.name;
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = s.meta.mtime_ms / 1000;
  times[0].tv_nsec = times[1].tv_nsec = (s.meta.mtime_ms % 1000) * 1000000;
  if (::chmod(path.c_str(), s.meta.mode & 07777) != 0 || ::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0)
    return sys_error("cannot set mode and mtime of", path);
  return {};
}

// Flushes every restored file and directory to disk.
core::Status sync_filesystem(const std::string& root) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open", root);
  const bool ok = ::syncfs(fd) == 0;
  ::close(fd);
  if (!ok) return sys_error("cannot sync", root);
  return {};
}

// The manifest of a set being read; a damaged one is news for the damage observer (prune and check,
// which meet it at every pass, do not tell it: each would bring the next pass).
core::Result<Manifest> manifest_to_read(Repository& repo, RepoState& state, const std::string& set_id) {
  auto manifest = repo.load_manifest(set_id);
  if (!manifest.ok() && manifest.error().code == "Corrupt") state.notify_damage();
  return manifest;
}

}  // namespace

core::Result<std::unique_ptr<StreamReader>> Repository::open_stream(const std::string& set_id,
                                                                    const std::string& stream) {
  OPENDBS_ASSIGN(auto manifest, manifest_to_read(*this, *state_, set_id));
  const StreamEntry* entry = manifest.find_stream(stream);
  if (!entry) return core::errors::not_found("set " + set_id + " has no stream " + stream);
  OPENDBS_ASSIGN(auto index, fresh_index(*state_));
  return std::unique_ptr<StreamReader>(std::make_unique<ManifestStreamReader>(*state_, std::move(index), *entry));
}

core::Status Repository::restore_set(const std::string& set_id, const std::string& target_dir,
                                     const RestoreOptions& options) {
  OPENDBS_ASSIGN(auto lock, RepoLock::acquire(*state_->backend, LockKind::kShared, "restore set " + set_id,
                                              state_->options.lock_lease_ms, *state_->clock));
  OPENDBS_ASSIGN(auto manifest, manifest_to_read(*this, *state_, set_id));
  OPENDBS_TRY(core::make_dirs(target_dir));
  OPENDBS_TRY(create_directories(manifest.streams, target_dir));
  OPENDBS_ASSIGN(auto index, fresh_index(*state_));
  ChunkFetcher fetcher(*state_, std::move(index));
  auto runs = plan_runs(fetcher, manifest.streams);
  spread_over_files(runs);
  LazyFiles files(manifest.streams, target_dir, creation_order(manifest.streams, runs));
  const unsigned threads = options.parallelism ? options.parallelism : 2 * state_->workers();
  // Writes into one file take turns here: the kernel serialises them anyway (the inode lock), and
  // waiting on its lock spins a CPU that is better spent decoding the next run; when one big file
  // makes up most of a set (a database's table), most runs in flight are that file's.
  const auto file_locks = std::make_unique<std::mutex[]>(manifest.streams.size());
  OPENDBS_TRY(parallel_for(runs.size(), threads, [&](size_t r) -> core::Status {
    if (options.cancelled && options.cancelled())
      return core::make_error("Cancelled", "the restore of set " + set_id + " was cancelled");
    const Run& run = runs[r];
    const StreamEntry& s = manifest.streams[run.stream];
    OPENDBS_TRY(files.ensure(run.stream));
    thread_local AlignedBuffer buffer;
    const uint64_t lead = run.file_offset % kDirectBlock;
    char* base = buffer.reserve(lead, run.raw_bytes);
    OPENDBS_TRY(fetcher.fetch_run_into(&s.chunks[run.first], run.count, base + lead));
    {
      std::lock_guard turn(file_locks[run.stream]);
      OPENDBS_TRY(write_range(target_dir + "/" + s.name, run.file_offset, base, run.raw_bytes));
    }
    if (options.on_progress) options.on_progress(run.raw_bytes);
    return core::Status{};
  }));
  OPENDBS_TRY(parallel_for(manifest.streams.size(), threads, [&](size_t i) -> core::Status {
    if (is_directory(manifest.streams[i].meta)) return core::Status{};
    OPENDBS_TRY(files.ensure(i));
    return finish_file(manifest.streams[i], target_dir);
  }));
  // Directories last: creating their entries changed their mtimes.
  for (auto it = manifest.streams.rbegin(); it != manifest.streams.rend(); ++it)
    if (is_directory(it->meta)) OPENDBS_TRY(finish_file(*it, target_dir));
  return options.sync ? sync_filesystem(target_dir) : core::Status{};
}

core::Status Repository::read_stream(const std::string& set_id, const std::string& stream,
                                     const std::function<core::Status(std::string_view)>& sink) {
  OPENDBS_ASSIGN(auto manifest, manifest_to_read(*this, *state_, set_id));
  const StreamEntry* entry = manifest.find_stream(stream);
  if (!entry) return core::errors::not_found("set " + set_id + " has no stream " + stream);
  OPENDBS_ASSIGN(auto index, fresh_index(*state_));
  ChunkFetcher fetcher(*state_, std::move(index));
  const std::vector<StreamEntry> one{*entry};
  const auto runs = plan_runs(fetcher, one);
  // Fetch a window of runs in parallel, hand them to the sink in order, repeat: memory stays at
  // window × kRunBytesMax.
  const size_t window = 2 * state_->workers();
  for (size_t base = 0; base < runs.size(); base += window) {
    const size_t n = std::min(window, runs.size() - base);
    std::vector<std::string> fetched(n);
    OPENDBS_TRY(parallel_for(n, static_cast<unsigned>(n), [&](size_t i) -> core::Status {
      const Run& run = runs[base + i];
      fetched[i].resize(run.raw_bytes);
      return fetcher.fetch_run_into(&entry->chunks[run.first], run.count, fetched[i].data());
    }));
    for (const auto& bytes : fetched) OPENDBS_TRY(sink(bytes));
  }
  return {};
}

}  // namespace opendbs::repo
