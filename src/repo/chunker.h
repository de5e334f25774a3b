// FastCDC content-defined chunking (docs/REPOSITORY.md §4). Cut points depend only on the bytes just
// before them, so an insertion or deletion in a stream moves only the cuts next to it and every other
// chunk (hence its id) stays the same: that is what makes a second backup small.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace opendbs::repo {

struct ChunkerParams {
  uint32_t min_size = 0;
  uint32_t avg_size = 0;  // a power of two
  uint32_t max_size = 0;
};

ChunkerParams default_chunker_params();
// min ≥ 64, avg a power of two, min < avg < max ≤ 64 MiB.
core::Status validate_chunker_params(const ChunkerParams& params);

class Chunker {
 public:
  explicit Chunker(ChunkerParams params);  // params must validate

  // Length of the chunk that starts at data[0], given n available bytes: the first cut point, or
  // min(n, max_size) when there is none. A cut at position p depends only on data[0..p), so callers
  // that stream must only trust a result when n ≥ max_size or the input has ended.
  size_t find_cut(const uint8_t* data, size_t n) const;

  // Where a search for the cut of one chunk stopped, so that it can go on when more bytes arrive
  // instead of hashing the chunk again from its start.
  struct Scan {
    size_t pos = 0;
    uint64_t hash = 0;
  };
  // Goes on with `scan` over data[scan.pos..n): the cut find_cut would give, or 0 while it is not
  // yet decided (no cut point in the n < max_size bytes seen so far).
  size_t resume_cut(const uint8_t* data, size_t n, Scan& scan) const;

  const ChunkerParams& params() const { return params_; }

 private:
  ChunkerParams params_;
  uint64_t mask_small_;  // stricter mask before avg_size
  uint64_t mask_large_;  // looser mask after avg_size
};

// How a stream is cut into chunks. Content-defined cuts move with the bytes, so an insertion changes
// only the chunks next to it. Files that only ever change in place — a database's page files, whose
// pages never shift — deduplicate as well with cuts every avg_size bytes, which cost nothing to find
// (the content-defined search is the busiest part of a PostgreSQL backup's receiving thread).
enum class Cutting { kContentDefined, kFixed };

// Cuts a stream pushed in arbitrary pieces into the same chunks as if it came in one piece. Holds at
// most max_size + kFeedBytes bytes, and hands each chunk's buffer on without copying it.
class StreamChunker {
 public:
  using Emit = std::function<core::Status(std::string&& chunk)>;
  explicit StreamChunker(const Chunker& chunker, Cutting cutting = Cutting::kContentDefined)
      : chunker_(chunker), cutting_(cutting) {}

  core::Status push(std::string_view bytes, const Emit& emit);
  core::Status finish(const Emit& emit);  // emits what remains

 private:
  // Input is appended at most this much at a time, so that the bytes after a cut, which move to the
  // next chunk's buffer, are few.
  static constexpr size_t kFeedBytes = 64 * 1024;

  core::Status push_fixed(std::string_view bytes, const Emit& emit);
  core::Status emit_cuts(const Emit& emit);
  core::Status emit_front(size_t cut, const Emit& emit);
  const Chunker& chunker_;
  const Cutting cutting_;
  std::string buffer_;  // the current chunk's bytes so far, from its start
  Chunker::Scan scan_;
};

}  // namespace opendbs::repo
