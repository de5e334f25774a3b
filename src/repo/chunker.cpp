#include "repo/chunker.h"

#include <array>
#include <algorithm>
#include <bit>
#include <utility>

#include "core/errors.h"
#include "repo/format.h"

namespace opendbs::repo {
namespace {

// GEAR[i] = i-th output of splitmix64 seeded with format::kGearSeed (§4).
std::array<uint64_t, 256> make_gear() {
  std::array<uint64_t, 256> gear{};
  uint64_t state = format::kGearSeed;
  for (auto& g : gear) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    g = z ^ (z >> 31);
  }
  return gear;
}

const std::array<uint64_t, 256> kGear = make_gear();

uint64_t top_bits(int count) { return count <= 0 ? 0 : ~uint64_t{0} << (64 - count); }

}  // namespace

ChunkerParams default_chunker_params() {
  return {format::kChunkMinDefault, format::kChunkAvgDefault, format::kChunkMaxDefault};
}

core::Status validate_chunker_params(const ChunkerParams& p) {
  const bool ok = p.min_size >= 64 && std::has_single_bit(p.avg_size) && p.min_size < p.avg_size &&
                  p.avg_size < p.max_size && p.max_size <= 64u * 1024 * 1024;
  if (!ok)
    return core::errors::invalid_parameter(
        "chunker", std::to_string(p.min_size) + "/" + std::to_string(p.avg_size) + "/" + std::to_string(p.max_size),
        "min >= 64 < avg (a power of two) < max <= 64 MiB");
  return {};
}

Chunker::Chunker(ChunkerParams params) : params_(params) {
  const int bits = std::countr_zero(params.avg_size);
  mask_small_ = top_bits(bits + 2);
  mask_large_ = top_bits(bits - 2);
}

size_t Chunker::find_cut(const uint8_t* data, size_t n) const {
  Scan scan;
  const size_t cut = resume_cut(data, n, scan);
  return cut ? cut : n;
}

size_t Chunker::resume_cut(const uint8_t* data, size_t n, Scan& scan) const {
  if (n <= params_.min_size) return 0;
  const size_t end = n < params_.max_size ? n : params_.max_size;
  const size_t normal = end < params_.avg_size ? end : params_.avg_size;
  uint64_t h = scan.hash;
  size_t i = scan.pos < params_.min_size ? params_.min_size : scan.pos;  // the first min_size bytes never cut
  for (; i < normal; ++i) {
    h = (h << 1) + kGear[data[i]];
    if ((h & mask_small_) == 0) return i + 1;
  }
  for (; i < end; ++i) {
    h = (h << 1) + kGear[data[i]];
    if ((h & mask_large_) == 0) return i + 1;
  }
  if (end == params_.max_size) return end;
  scan = Scan{i, h};
  return 0;
}

core::Status StreamChunker::push(std::string_view bytes, const Emit& emit) {
  if (cutting_ == Cutting::kFixed) return push_fixed(bytes, emit);
  while (!bytes.empty()) {
    const size_t take = std::min(bytes.size(), kFeedBytes);
    buffer_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    OPENDBS_TRY(emit_cuts(emit));
  }
  return {};
}

core::Status StreamChunker::push_fixed(std::string_view bytes, const Emit& emit) {
  const size_t size = chunker_.params().avg_size;
  while (!bytes.empty()) {
    if (buffer_.empty()) buffer_.reserve(size);
    const size_t take = std::min(bytes.size(), size - buffer_.size());
    buffer_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (buffer_.size() == size) OPENDBS_TRY(emit(std::exchange(buffer_, std::string())));
  }
  return {};
}

core::Status StreamChunker::finish(const Emit& emit) {
  if (cutting_ == Cutting::kContentDefined) OPENDBS_TRY(emit_cuts(emit));
  if (!buffer_.empty()) {
    if (buffer_.size() < buffer_.capacity() / 4) buffer_.shrink_to_fit();  // a small last chunk waits in queues
    OPENDBS_TRY(emit_front(buffer_.size(), emit));
  }
  buffer_ = std::string();
  return {};
}

core::Status StreamChunker::emit_cuts(const Emit& emit) {
  for (;;) {
    const size_t cut = chunker_.resume_cut(reinterpret_cast<const uint8_t*>(buffer_.data()), buffer_.size(), scan_);
    if (cut == 0) return {};
    OPENDBS_TRY(emit_front(cut, emit));
  }
}

// The buffer itself becomes the chunk; the few bytes after the cut start the next buffer, sized for a
// whole chunk so that it never grows by copying (only a stream's first buffer does).
core::Status StreamChunker::emit_front(size_t cut, const Emit& emit) {
  std::string next;
  if (cut < buffer_.size()) {
    next.reserve(chunker_.params().max_size + kFeedBytes);
    next.append(buffer_, cut);
    buffer_.resize(cut);
  }
  scan_ = {};
  std::string chunk = std::move(buffer_);
  buffer_ = std::move(next);
  return emit(std::move(chunk));
}

}  // namespace opendbs::repo
