// Remembers each (AccessKeyId, SignatureNonce) for the replay window, so a captured request cannot be
// sent again. Bounded: the oldest entries are dropped first once `capacity` is reached, and entries
// older than the window expire (a request that old fails the timestamp check anyway).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

namespace opendbs::api {

class NonceCache {
 public:
  explicit NonceCache(int64_t window_ms = 15 * 60 * 1000, size_t capacity = 4'000'000)
      : window_ms_(window_ms), capacity_(capacity) {}

  // True if the nonce is new (and records it); false if it was seen within the window.
  bool check_and_remember(const std::string& access_key_id, const std::string& nonce, int64_t now_ms);

 private:
  static constexpr int kShards = 16;
  struct Shard {
    std::mutex mu;
    std::unordered_set<std::string> seen;
    std::deque<std::pair<int64_t, std::string>> order;  // (time, key), oldest first
  };
  int64_t window_ms_;
  size_t capacity_;
  Shard shards_[kShards];
};

}  // namespace opendbs::api
