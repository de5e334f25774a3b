// What an open repository knows, shared by the Repository and the writers, readers, check and prune
// it creates. Internal to src/repo.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "repo/backend/backend.h"
#include "repo/index.h"
#include "repo/keys.h"
#include "repo/manifest.h"
#include "repo/repository.h"

namespace opendbs::repo {

struct DamagedChunk;  // damaged_chunks.h

struct RepoState {
  std::unique_ptr<Backend> backend;
  MasterKey key;
  RepoOptions options;
  const core::Clock* clock = nullptr;
  std::shared_ptr<ChunkIndex> index;     // replaced as a whole when index files disappear (prune)
  std::set<std::string> index_files;     // the index files merged into `index`
  std::mutex index_mutex;                // guards `index` and `index_files`

  std::mutex damage_mutex;                 // guards on_damage
  std::function<void()> on_damage;         // Repository::set_damage_observer

  unsigned workers() const;
  // Tells the damage observer, if any, that a read found a damaged chunk or manifest.
  void notify_damage();
  // What a pack grows to: sealed once it reaches its target, it is that plus at most one chunk.
  size_t pack_bytes_expected() const { return options.pack_target_size + key.chunker.max_size + 65536; }
};

// Loads and merges every readable index file. Unreadable ones are skipped (their chunks read as missing,
// check reports them by name, prune refuses to run) and their names go to `damaged` when not null;
// `loaded` receives the names of the files merged.
core::Result<std::shared_ptr<ChunkIndex>> load_index(RepoState& state, std::vector<std::string>* damaged = nullptr,
                                                     std::set<std::string>* loaded = nullptr);

// The index as the repository is now: another process may have committed sets (new index files: they
// are merged in) or pruned (files gone: everything is reloaded). Called under a repository lock before
// a backup or restore relies on it, so that a long-lived Repository never dedups against, or reads
// from, packs that a prune elsewhere has deleted.
core::Result<std::shared_ptr<ChunkIndex>> fresh_index(RepoState& state);

// Reads chunks through the index, verified; errors name the chunk, pack and offset.
class ChunkFetcher {
 public:
  ChunkFetcher(RepoState& state, std::shared_ptr<ChunkIndex> index) : state_(state), index_(std::move(index)) {}
  core::Result<std::string> fetch(const ChunkRef& ref) const;
  // Fetches refs[0..n), which the caller grouped so that they are contiguous in one pack, in one read,
  // and writes their verified bytes one after the other at `out` (room for the sum of their raw_len).
  core::Status fetch_run_into(const ChunkRef* refs, size_t n, char* out) const;
  // How many refs from `refs` (at most n) can be fetched by one fetch_run_into, reading at most
  // `max_stored` bytes and producing at most `max_raw` (always at least one ref).
  size_t run_length(const ChunkRef* refs, size_t n, uint64_t max_stored, uint64_t max_raw) const;

 private:
  std::shared_ptr<ChunkIndex> index() const;
  core::Status fetch_with(const ChunkIndex& index, const ChunkRef* refs, size_t n, char* out) const;
  core::Error drop_damaged(const DamagedChunk& chunk) const;

  RepoState& state_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<ChunkIndex> index_;  // guarded by mutex_: a read that finds its pack gone refreshes it
};

// Runs fn(0..n-1) on `threads` threads; returns the first error (remaining items are skipped).
core::Status parallel_for(size_t n, unsigned threads, const std::function<core::Status(size_t)>& fn);

std::string describe_chunk(std::string_view id, const ChunkLocation& loc);

}  // namespace opendbs::repo
