// repo::Repository — the API the rest of opendbs uses to store and read backup sets
// (docs/REPOSITORY.md). Jobs and engines code against this header only.
//
// Thread safety: one Repository may be used from several threads; a SetWriter's streams may be
// written concurrently from several threads (one thread per StreamWriter). The Repository must outlive
// every SetWriter and StreamReader it hands out, and a SetWriter every StreamWriter it hands out.
// A long-lived Repository stays correct when other processes back up or prune the same repository:
// backups and restores look at the index files again under their lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/clock.h"
#include "core/result.h"
#include "repo/backend/backend.h"
#include "repo/chunker.h"
#include "repo/compression.h"
#include "repo/format.h"
#include "repo/keys.h"
#include "repo/manifest.h"

namespace opendbs::repo {

struct RepoOptions {
  CompressionSpec compression;                       // how new chunks are stored
  ChunkerParams chunker = default_chunker_params();  // init only: fixed for the repository's life
  uint64_t pack_target_size = format::kPackTargetDefault;
  unsigned worker_threads = 0;                       // hashing/compression/encryption/fetch; 0 = cores
  int scrypt_log_n = format::kScryptLogNDefault;     // cost of new key slots (tests lower it)
  int64_t lock_lease_ms = format::kLockLeaseDefaultMs;
  std::string key_label = "initial";                 // label of the first key slot (init)
  const core::Clock* clock = nullptr;                // nullptr = the system clock
};

struct SetStats {
  uint64_t bytes_in = 0;
  uint64_t bytes_stored = 0;  // new bytes written after dedup + compression (+ encryption overhead)
  uint64_t chunks = 0;
  uint64_t chunks_new = 0;
};

class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual core::Status write(std::string_view bytes) = 0;
  virtual core::Status close() = 0;  // waits until every chunk of the stream is stored or queued in a pack
};

// One backup set being written. Holds a shared repository lock until commit or abort.
class SetWriter {
 public:
  virtual ~SetWriter() = default;  // aborts when neither commit nor abort was called
  // `meta.size` is informative; the manifest records the number of bytes actually written.
  virtual core::Result<std::unique_ptr<StreamWriter>> add_stream(const std::string& name, const FileMeta& meta,
                                                                 Cutting cutting = Cutting::kContentDefined) = 0;
  // Makes everything durable: packs, then the index, then the manifest. Every stream must be closed.
  // Fails with Corrupt, committing nothing, when a chunk the set reuses lives in a pack the repository
  // no longer has; those chunks are then dropped from the index, so that writing the set again stores
  // them anew.
  virtual core::Status commit(const boost::json::object& engine_metadata) = 0;
  virtual void abort() = 0;  // discards; what was written is garbage for prune
  virtual SetStats stats() const = 0;
};

// Random access to one stream of a committed set; every chunk read is verified.
class StreamReader {
 public:
  virtual ~StreamReader() = default;
  virtual uint64_t size() const = 0;
  // Up to `length` bytes at `offset` (fewer only at the end of the stream).
  virtual core::Result<std::string> read(uint64_t offset, uint64_t length) = 0;
};

struct RestoreOptions {
  unsigned parallelism = 0;  // concurrent fetches; 0 = 2 × worker threads
  bool sync = true;          // syncfs before returning, so that the restored files are durable
  std::function<void(uint64_t bytes)> on_progress;  // called (from worker threads) as bytes land
  // Asked before each run of chunks (from worker threads): true stops the restore with Cancelled,
  // leaving what was written.
  std::function<bool()> cancelled;
};

struct RepoStats {
  uint64_t sets = 0;
  uint64_t packs = 0;
  uint64_t stored_bytes = 0;   // sum of pack sizes
  uint64_t logical_bytes = 0;  // sum of stream sizes over every set
  uint64_t unique_bytes = 0;   // raw bytes of distinct chunks in the index
  double dedup_ratio = 0;      // logical_bytes / stored_bytes
};

struct CheckOptions {
  bool read_data = false;  // also read and verify every blob of every pack
};

struct CheckReport {
  std::vector<std::string> errors;    // damage: a set cannot be fully restored, or an object is corrupt
  std::vector<std::string> warnings;  // harmless: e.g. unreferenced packs that prune will remove
  std::vector<std::string> damaged_sets;  // sets with chunks that no existing pack holds (also in errors)
  uint64_t packs_checked = 0;
  uint64_t bytes_read = 0;
  bool clean() const { return errors.empty(); }
};

// A pack an index file named that the repository no longer has (deleted, removed by an object store's
// lifecycle rule, lost with a damaged directory): its chunks were dropped from the index.
struct LostPack {
  std::string pack_id;  // 64 hex
  uint64_t chunks = 0;  // index entries dropped with it
};

struct PruneReport {
  uint64_t packs_deleted = 0;
  uint64_t packs_repacked = 0;
  uint64_t index_files_replaced = 0;
  uint64_t bytes_freed = 0;
  uint64_t locks_removed = 0;
  // Damage found on the way (each also logged as an error): lost packs, and the sets that reference
  // chunks no remaining pack holds — those sets can no longer be restored in full.
  std::vector<LostPack> lost_packs;
  std::vector<std::string> damaged_sets;
  // For each damaged set, one chunk (hex) it lacks and how many: lost with a pack, or dropped from the
  // index as damaged by a read (docs/REPOSITORY.md §9).
  struct Missing {
    std::string first_chunk;
    uint64_t chunks = 0;
  };
  std::map<std::string, Missing> missing;
};

struct RepoState;  // internal

class Repository {
 public:
  static core::Result<std::unique_ptr<Repository>> init(std::unique_ptr<Backend> backend, const KeySource& key,
                                                        const RepoOptions& options);
  static core::Result<std::unique_ptr<Repository>> open(std::unique_ptr<Backend> backend, const KeySource& key,
                                                        const RepoOptions& options = {});
  ~Repository();

  const std::string& repo_id() const;
  Backend& backend();

  core::Result<std::unique_ptr<SetWriter>> begin_set(const std::string& set_id);
  core::Result<std::vector<std::string>> list_sets();
  // Fails with Corrupt when the manifest is there but cannot be decoded (damaged: the set cannot be
  // restored); other failures (I/O) are no proof of damage.
  core::Result<Manifest> load_manifest(const std::string& set_id);
  // The sets whose manifest is damaged (load_manifest fails with Corrupt), each with why.
  core::Result<std::map<std::string, std::string>> unreadable_sets();
  // Called (from the reading thread) after a restore, stream read or check found a damaged chunk
  // (docs/REPOSITORY.md §9: it then left the index) or a restore or stream read a damaged manifest, e.g.
  // to run a prune soon that reports the sets damaged. Not called by prune. Must be quick; empty to stop.
  void set_damage_observer(std::function<void()> observer);
  core::Result<std::unique_ptr<StreamReader>> open_stream(const std::string& set_id, const std::string& stream);
  // Writes every stream of the set under target_dir (created), with mode and mtime, then (unless
  // options.sync is false) syncs the filesystem so that the restored files are durable when it returns.
  core::Status restore_set(const std::string& set_id, const std::string& target_dir, const RestoreOptions& = {});
  // Streams one stream's bytes, in order, to `sink` (prefetching in parallel).
  core::Status read_stream(const std::string& set_id, const std::string& stream,
                           const std::function<core::Status(std::string_view)>& sink);
  // Whether `plaintext` is the content of the chunk `id` (a ChunkRef's id), hashed as the chunk was
  // named (keyed: the key stays inside). With payload ids the bytes are compressed as this Repository
  // compresses new chunks: a chunk stored under other compression settings reads as different, never
  // the reverse — a caller rewrites what is not a match (the delta restore).
  bool chunk_matches(std::string_view id, std::string_view plaintext) const;
  core::Status forget_set(const std::string& set_id);  // removes the manifest; prune frees the data
  core::Result<RepoStats> stats();

  core::Result<CheckReport> check(const CheckOptions& options = {});
  // Under an exclusive lock. `stop`, polled between stages and between repacked packs, ends the pass
  // before it deletes anything (a node shutting down); what it wrote by then is garbage for the next.
  core::Result<PruneReport> prune(const std::function<bool()>& stop = {});

  core::Result<KeySlotInfo> add_key(const KeySource& key, const std::string& label);
  core::Result<std::vector<KeySlotInfo>> list_keys();
  core::Status remove_key(const std::string& slot_id);  // refuses to remove the last slot
  std::string export_key() const;                      // the master key JSON (§3); keep it secret

 private:
  explicit Repository(std::unique_ptr<RepoState> state);
  std::unique_ptr<RepoState> state_;
};

}  // namespace opendbs::repo
