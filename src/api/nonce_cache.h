// Remembers each (AccessKeyId, SignatureNonce) for the replay window, so a captured request cannot be
// sent again — also after a restart, through an optional journal. Bounded: the oldest entries are
// dropped first once `capacity` is reached, and entries older than the window expire (a request that
// old fails the timestamp check anyway).
//
// The journal is two files of fixed 24-byte records (8-byte time, 16 bytes of SHA-256 of the key and
// nonce): new records are appended to `PATH.current` with one write(2) each, so a killed process loses
// none; every window the current file becomes `PATH.previous` and the older one is dropped, so the
// journal never holds more than two windows.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

#include "core/result.h"

namespace opendbs::api {

class NonceCache {
 public:
  explicit NonceCache(int64_t window_ms = 15 * 60 * 1000, size_t capacity = 4'000'000)
      : window_ms_(window_ms), capacity_(capacity) {}
  ~NonceCache();

  // Loads the journal's recent entries and keeps appending to it. Without it, nonces live in memory only.
  core::Status open_journal(const std::string& path, int64_t now_ms);

  // True if the nonce is new (and records it); false if it was seen within the window.
  bool check_and_remember(const std::string& access_key_id, const std::string& nonce, int64_t now_ms);

 private:
  static constexpr int kShards = 16;
  struct Shard {
    std::mutex mu;
    std::unordered_set<std::string> seen;
    std::deque<std::pair<int64_t, std::string>> order;  // (time, key), oldest first
  };
  bool remember(const std::string& key, int64_t at_ms, int64_t now_ms);
  void append_to_journal(const std::string& key, int64_t at_ms);

  int64_t window_ms_;
  size_t capacity_;
  Shard shards_[kShards];
  std::mutex journal_mu_;  // guards rotation; appends use O_APPEND writes
  std::string journal_path_;
  int journal_fd_ = -1;
  int64_t journal_started_ms_ = 0;
};

}  // namespace opendbs::api
