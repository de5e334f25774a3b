// What an open repository knows, shared by the Repository and the writers, readers, check and prune
// it creates. Internal to src/repo.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "repo/backend/backend.h"
#include "repo/index.h"
#include "repo/keys.h"
#include "repo/manifest.h"
#include "repo/repository.h"

namespace opendbs::repo {

struct RepoState {
  std::unique_ptr<Backend> backend;
  MasterKey key;
  RepoOptions options;
  const core::Clock* clock = nullptr;
  std::shared_ptr<ChunkIndex> index;  // replaced as a whole after prune
  std::mutex index_mutex;             // guards replacing `index`

  std::shared_ptr<ChunkIndex> current_index() {
    std::lock_guard lk(index_mutex);
    return index;
  }
  unsigned workers() const;
};

// Loads and merges every readable index file. Unreadable ones are skipped (their chunks read as missing,
// check reports them by name, prune refuses to run) and their names go to `damaged` when not null.
core::Result<std::shared_ptr<ChunkIndex>> load_index(RepoState& state, std::vector<std::string>* damaged = nullptr);

// Reads chunks through the index, verified; errors name the chunk, pack and offset.
class ChunkFetcher {
 public:
  ChunkFetcher(RepoState& state, std::shared_ptr<ChunkIndex> index) : state_(state), index_(std::move(index)) {}
  core::Result<std::string> fetch(const ChunkRef& ref) const;
  // Fetches refs[0..n), which the caller grouped so that they are contiguous in one pack, in one read.
  core::Result<std::vector<std::string>> fetch_run(const ChunkRef* refs, size_t n) const;
  // How many refs from `refs` (at most n) can be fetched by one fetch_run, with at most `max_bytes`.
  size_t run_length(const ChunkRef* refs, size_t n, uint64_t max_bytes) const;

 private:
  RepoState& state_;
  std::shared_ptr<ChunkIndex> index_;
};

// Runs fn(0..n-1) on `threads` threads; returns the first error (remaining items are skipped).
core::Status parallel_for(size_t n, unsigned threads, const std::function<core::Status(size_t)>& fn);

std::string describe_chunk(std::string_view id, const ChunkLocation& loc);

}  // namespace opendbs::repo
