#include "repo/set_writer.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_set>

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/blob.h"
#include "repo/chunker.h"
#include "repo/lock.h"
#include "repo/lost_packs.h"
#include "repo/pack.h"
#include "repo/task_pool.h"

namespace opendbs::repo {
namespace {

// A stream's chunk list, filled in by worker threads in any order; slots never move.
struct StreamState {
  StreamEntry entry;
  std::vector<std::unique_ptr<ChunkRef>> refs;
  std::mutex mutex;
  std::condition_variable done;
  size_t pending = 0;
  bool closed = false;
};

class ChunkingSetWriter final : public SetWriter {
 public:
  ChunkingSetWriter(RepoState& state, std::string set_id, std::unique_ptr<RepoLock> lock,
                    std::shared_ptr<ChunkIndex> index)
      : state_(state),
        set_id_(std::move(set_id)),
        lock_(std::move(lock)),
        index_(std::move(index)),
        chunker_(state.key.chunker),
        open_pack_(state.pack_bytes_expected()),
        pool_(state.workers(), 2 * state.workers()) {}
  ~ChunkingSetWriter() override {
    if (!finished_) abort();
  }

  core::Result<std::unique_ptr<StreamWriter>> add_stream(const std::string& name, const FileMeta& meta,
                                                         Cutting cutting) override;
  core::Status commit(const boost::json::object& engine_metadata) override;
  void abort() override;
  SetStats stats() const override;

  // Called by streams.
  core::Status submit_chunk(StreamState& stream, std::string&& chunk);
  core::Status first_error();

 private:
  void store_chunk(StreamState& stream, ChunkRef& ref, const std::string& data);
  void seal_pack_and_upload(std::unique_lock<std::mutex>& lk);
  core::Status check_reused_packs(const Manifest& manifest);
  core::Error lease_lapsed() const {
    return core::make_error("ServiceUnavailable", "backup set " + set_id_ +
                                                      " not committed: its repository lock lease lapsed, so a prune "
                                                      "may have removed data it relies on; run the backup again");
  }

  RepoState& state_;
  const std::string set_id_;
  std::unique_ptr<RepoLock> lock_;
  std::shared_ptr<ChunkIndex> index_;
  Chunker chunker_;
  std::atomic<uint64_t> bytes_in_{0}, bytes_stored_{0}, chunks_{0}, chunks_new_{0};
  std::mutex mutex_;  // guards everything below
  std::unordered_set<std::string> seen_;  // chunk ids this set stores (or dedups against itself)
  PackBuilder open_pack_;
  std::vector<IndexPack> written_packs_;
  std::vector<std::shared_ptr<StreamState>> streams_;
  std::optional<core::Error> error_;
  bool finished_ = false;
  TaskPool pool_;  // last: destroyed (joined) first, while the members its tasks use still exist
};

class ChunkingStreamWriter final : public StreamWriter {
 public:
  ChunkingStreamWriter(ChunkingSetWriter& set, std::shared_ptr<StreamState> stream, const Chunker& chunker,
                       Cutting cutting)
      : set_(set), stream_(std::move(stream)), chunker_(chunker, cutting) {}
  ~ChunkingStreamWriter() override {
    if (!stream_->closed) (void)close();
  }

  core::Status write(std::string_view bytes) override {
    if (stream_->closed) return core::errors::internal("write to closed stream " + stream_->entry.name);
    OPENDBS_TRY(set_.first_error());
    stream_->entry.meta.size += bytes.size();
    return chunker_.push(bytes, [this](std::string&& c) { return set_.submit_chunk(*stream_, std::move(c)); });
  }

  core::Status close() override {
    if (stream_->closed) return set_.first_error();
    auto st = chunker_.finish([this](std::string&& c) { return set_.submit_chunk(*stream_, std::move(c)); });
    std::unique_lock lk(stream_->mutex);
    stream_->done.wait(lk, [this] { return stream_->pending == 0; });
    for (const auto& ref : stream_->refs) stream_->entry.chunks.push_back(*ref);
    stream_->refs.clear();
    stream_->closed = true;
    lk.unlock();
    OPENDBS_TRY(st);
    return set_.first_error();
  }

 private:
  ChunkingSetWriter& set_;
  std::shared_ptr<StreamState> stream_;
  StreamChunker chunker_;
};

core::Result<std::unique_ptr<StreamWriter>> ChunkingSetWriter::add_stream(const std::string& name,
                                                                          const FileMeta& meta, Cutting cutting) {
  OPENDBS_TRY(validate_stream_name(name));
  auto stream = std::make_shared<StreamState>();
  stream->entry.name = name;
  stream->entry.meta = meta;
  stream->entry.meta.size = 0;  // counts what is actually written
  std::lock_guard lk(mutex_);
  if (finished_) return core::errors::internal("add_stream after commit or abort of set " + set_id_);
  for (const auto& s : streams_)
    if (s->entry.name == name) return core::errors::invalid_parameter("stream name", name, "a name unique in the set");
  streams_.push_back(stream);
  return std::unique_ptr<StreamWriter>(std::make_unique<ChunkingStreamWriter>(*this, stream, chunker_, cutting));
}

core::Status ChunkingSetWriter::submit_chunk(StreamState& stream, std::string&& chunk) {
  OPENDBS_TRY(first_error());
  ChunkRef* ref;
  {
    std::lock_guard lk(stream.mutex);
    stream.refs.push_back(std::make_unique<ChunkRef>());
    ref = stream.refs.back().get();
    ++stream.pending;
  }
  bytes_in_ += chunk.size();
  ++chunks_;
  pool_.submit([this, &stream, ref, data = std::move(chunk)] {
    store_chunk(stream, *ref, data);
    std::lock_guard lk(stream.mutex);
    if (--stream.pending == 0) stream.done.notify_all();
  });
  return {};
}

void ChunkingSetWriter::store_chunk(StreamState&, ChunkRef& ref, const std::string& data) {
  ChunkBlob blob(state_.key, state_.options.compression, data);
  ref.id = blob.id();
  ref.raw_len = static_cast<uint32_t>(data.size());
  {
    std::lock_guard lk(mutex_);
    if (error_ || index_->contains(ref.id) || !seen_.insert(ref.id).second) return;
  }
  const std::string sealed = blob.seal();
  ++chunks_new_;
  bytes_stored_ += sealed.size();
  std::unique_lock lk(mutex_);
  open_pack_.add(ref.id, sealed, ref.raw_len);
  if (open_pack_.size() >= state_.options.pack_target_size) seal_pack_and_upload(lk);
}

// Called with mutex_ held; uploads without it so that several packs can be in flight.
void ChunkingSetWriter::seal_pack_and_upload(std::unique_lock<std::mutex>& lk) {
  IndexPack pack{core::to_hex(core::random_bytes(format::kIdSize)), open_pack_.entries()};
  std::string bytes = open_pack_.finish(state_.key);
  lk.unlock();
  auto st = state_.backend->put(pack_object_name(pack.pack_id), bytes);
  bytes_stored_ += bytes.size() - [&] {
    uint64_t blobs = 0;
    for (const auto& e : pack.entries) blobs += e.stored_len;
    return blobs;
  }();
  lk.lock();
  if (!st.ok()) {
    if (!error_) error_ = st.error().with_context("backup set " + set_id_);
    return;
  }
  written_packs_.push_back(std::move(pack));
}

core::Status ChunkingSetWriter::first_error() {
  std::lock_guard lk(mutex_);
  if (error_) return *error_;
  return {};
}

core::Status ChunkingSetWriter::commit(const boost::json::object& engine_metadata) {
  pool_.wait_idle();
  std::unique_lock lk(mutex_);
  if (finished_) return core::errors::internal("commit after commit or abort of set " + set_id_);
  for (const auto& s : streams_)
    if (!s->closed) return core::errors::internal("commit of set " + set_id_ + " with stream " + s->entry.name + " open");
  if (!open_pack_.empty()) seal_pack_and_upload(lk);
  if (error_) return *error_;
  Manifest manifest{set_id_, state_.clock->now_ms(), engine_metadata, {}};
  for (const auto& s : streams_) manifest.streams.push_back(std::move(s->entry));
  lk.unlock();
  // Under a lapsed lease a prune may have deleted packs we reuse (no loss: our commit fails anyway), and
  // rewriting index files while a prune replaces them would list its deleted packs again.
  if (!lock_->held()) return lease_lapsed();
  if (auto reused = check_reused_packs(manifest); !reused.ok()) {
    lk.lock();
    error_ = reused.error();  // the streams went into `manifest`: no second commit may write an empty set
    return reused;
  }
  // Write order (§9): packs are durable; now the index, then the manifest.
  std::string index_name;
  if (!written_packs_.empty()) {
    index_name = std::string(format::kIndexPrefix) + core::to_hex(core::random_bytes(format::kIdSize));
    OPENDBS_TRY(state_.backend->put(index_name, encode_index_file(state_.key, written_packs_)));
  }
  if (!lock_->held()) return lease_lapsed();
  OPENDBS_TRY(state_.backend->put(manifest_object_name(set_id_), encode_manifest(state_.key, manifest)));
  for (const auto& p : written_packs_) index_->add(p);
  {
    // Our index file is now part of the cached index (when that is still the one we added to), so
    // that fresh_index() notices when a prune elsewhere deletes it.
    std::lock_guard cache_lock(state_.index_mutex);
    if (!index_name.empty() && state_.index == index_) state_.index_files.insert(index_name);
  }
  lk.lock();
  finished_ = true;
  lock_.reset();
  return {};
}

// A set must not commit while a chunk it reuses lives in a pack the repository no longer has: it would
// be `finish`ed and fail only at its restore. The lost packs' chunks leave the index (lost_packs.h), so
// that the next attempt stores them anew. Nor while a chunk it reuses left the index since the set began
// (a read found it damaged: damaged_chunks.h).
core::Status ChunkingSetWriter::check_reused_packs(const Manifest& manifest) {
  OPENDBS_ASSIGN(auto now, fresh_index(state_));
  std::map<std::string, uint64_t> reused;  // pack → chunks of this set in it
  for (const auto& s : manifest.streams)
    for (const auto& c : s.chunks) {
      auto loc = index_->find(c.id);
      if (!loc) continue;  // stored by this set
      if (!now->contains(c.id))
        return core::errors::corrupt("backup set " + set_id_ + " not committed: its chunk " + core::to_hex(c.id) +
                                     " left the repository's index while the set was written (a read found it "
                                     "damaged): run the backup again and it stores the chunk anew");
      ++reused[loc->pack_id];
    }
  std::set<std::string> packs;
  for (const auto& [pack, chunks] : reused) packs.insert(pack);
  OPENDBS_ASSIGN(auto lost, find_lost_packs(state_, packs));
  if (lost.empty()) return {};
  if (!lock_->held()) return lease_lapsed();  // the packs may be a prune's doing, not a loss
  OPENDBS_ASSIGN(auto dropped, drop_lost_packs(state_, lost, "backup set " + set_id_));
  std::string names;
  uint64_t chunks = 0;
  for (const auto& p : dropped) {
    names += (names.empty() ? "" : ", ") + p.pack_id;
    chunks += reused[p.pack_id];
  }
  return core::errors::corrupt(
      "backup set " + set_id_ + " not committed: " + std::to_string(chunks) + " of its chunks are in pack(s) " + names +
      ", missing from the repository (deleted, removed by a lifecycle rule, or lost with damaged storage). Those "
      "packs were dropped from the index: run the backup again and it stores the chunks anew. Sets that use them "
      "cannot be restored; `opendbs repo check` names them");
}

void ChunkingSetWriter::abort() {
  {
    std::lock_guard lk(mutex_);
    if (finished_) return;
    if (!error_) error_ = core::errors::internal("backup set " + set_id_ + " was aborted");
  }
  pool_.wait_idle();
  std::lock_guard lk(mutex_);
  finished_ = true;
  lock_.reset();
}

SetStats ChunkingSetWriter::stats() const { return {bytes_in_, bytes_stored_, chunks_, chunks_new_}; }

}  // namespace

core::Result<std::unique_ptr<SetWriter>> make_set_writer(RepoState& state, const std::string& set_id) {
  OPENDBS_TRY(validate_set_id(set_id));
  OPENDBS_ASSIGN(auto existing, state.backend->stat(manifest_object_name(set_id)));
  if (existing) return core::errors::invalid_parameter("set id", set_id, "an id not already in the repository");
  OPENDBS_ASSIGN(auto lock, RepoLock::acquire(*state.backend, LockKind::kShared, "backup set " + set_id,
                                              state.options.lock_lease_ms, *state.clock));
  // Under the lock, no prune can run until commit: the index we dedup against stays true.
  OPENDBS_ASSIGN(auto index, fresh_index(state));
  return std::unique_ptr<SetWriter>(
      std::make_unique<ChunkingSetWriter>(state, set_id, std::move(lock), std::move(index)));
}

}  // namespace opendbs::repo
