#include "api/nonce_cache.h"

#include <functional>

namespace opendbs::api {

bool NonceCache::check_and_remember(const std::string& access_key_id, const std::string& nonce, int64_t now_ms) {
  std::string key;
  key.reserve(access_key_id.size() + 1 + nonce.size());
  key.append(access_key_id).push_back('\n');
  key.append(nonce);
  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  while (!shard.order.empty() &&
         (shard.order.front().first < now_ms - window_ms_ || shard.order.size() >= capacity_ / kShards)) {
    shard.seen.erase(shard.order.front().second);
    shard.order.pop_front();
  }
  if (!shard.seen.insert(key).second) return false;
  shard.order.emplace_back(now_ms, std::move(key));
  return true;
}

}  // namespace opendbs::api
