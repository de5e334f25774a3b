// Writing restored byte ranges into files, mostly around the page cache.
//
// Whole 4 KiB blocks of a range go to the file with O_DIRECT, straight from the caller's buffer to the
// device; the partial blocks at either end (chunks end anywhere) go through the page cache. A restore
// that copies everything through the page cache and then flushes it spends more CPU in the kernel than
// on decompressing and verifying (measured: docs/REPOSITORY.md §10), and evicts what other programs
// cache. The two kinds of writes never touch the same block, so they stay coherent; callers make the
// files durable with one syncfs at the end, which flushes both. Filesystems without O_DIRECT (tmpfs)
// get every byte through the page cache.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace opendbs::repo {

inline constexpr uint64_t kDirectBlock = 4096;

// A block-aligned buffer reused by one thread for successive ranges.
class AlignedBuffer {
 public:
  // Room for `lead` + `length` bytes at a block-aligned address; the range's first byte goes at
  // data() + lead, with lead = the range's file offset modulo kDirectBlock.
  char* reserve(uint64_t lead, uint64_t length);

 private:
  struct Free {
    void operator()(char* p) const;
  };
  std::unique_ptr<char, Free> data_;
  uint64_t capacity_ = 0;
};

// Writes file[offset, offset + length) from base + offset % kDirectBlock, base being block-aligned.
core::Status write_range(const std::string& path, uint64_t offset, const char* base, uint64_t length);

}  // namespace opendbs::repo
