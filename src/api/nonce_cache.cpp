#include "api/nonce_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "core/crypto.h"
#include "core/errors.h"
#include "core/file.h"

namespace opendbs::api {
namespace {

constexpr size_t kKeyBytes = 16, kRecordBytes = 8 + kKeyBytes;

std::string key_of(const std::string& access_key_id, const std::string& nonce) {
  return core::sha256(access_key_id + '\0' + nonce).substr(0, kKeyBytes);
}

}  // namespace

NonceCache::~NonceCache() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
}

bool NonceCache::remember(const std::string& key, int64_t at_ms, int64_t now_ms) {
  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  while (!shard.order.empty() &&
         (shard.order.front().first < now_ms - window_ms_ || shard.order.size() >= capacity_ / kShards)) {
    shard.seen.erase(shard.order.front().second);
    shard.order.pop_front();
  }
  if (!shard.seen.insert(key).second) return false;
  shard.order.emplace_back(at_ms, key);
  return true;
}

bool NonceCache::check_and_remember(const std::string& access_key_id, const std::string& nonce, int64_t now_ms) {
  const std::string key = key_of(access_key_id, nonce);
  if (!remember(key, now_ms, now_ms)) return false;
  if (journal_fd_ >= 0) append_to_journal(key, now_ms);
  return true;
}

void NonceCache::append_to_journal(const std::string& key, int64_t at_ms) {
  char record[kRecordBytes];
  std::memcpy(record, &at_ms, 8);
  std::memcpy(record + 8, key.data(), kKeyBytes);
  std::lock_guard lock(journal_mu_);
  if (at_ms - journal_started_ms_ > window_ms_) {
    // Rotate: what is in `current` is at most one window old and still needed; `previous` is not.
    ::close(journal_fd_);
    ::rename((journal_path_ + ".current").c_str(), (journal_path_ + ".previous").c_str());
    journal_fd_ = ::open((journal_path_ + ".current").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    journal_started_ms_ = at_ms;
    if (journal_fd_ < 0) return;  // memory-only until the next start; the window still protects
  }
  (void)!::write(journal_fd_, record, kRecordBytes);
}

core::Status NonceCache::open_journal(const std::string& path, int64_t now_ms) {
  for (const char* suffix : {".previous", ".current"}) {
    auto data = core::read_file(path + suffix);
    if (!data.ok()) continue;
    for (size_t at = 0; at + kRecordBytes <= data->size(); at += kRecordBytes) {
      int64_t ms = 0;
      std::memcpy(&ms, data->data() + at, 8);
      if (ms >= now_ms - window_ms_) remember(data->substr(at + 8, kKeyBytes), ms, now_ms);
    }
  }
  std::lock_guard lock(journal_mu_);
  journal_path_ = path;
  journal_fd_ = ::open((path + ".current").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (journal_fd_ < 0) return core::errors::io("cannot open nonce journal " + path + ".current: " + std::strerror(errno));
  journal_started_ms_ = now_ms;
  return {};
}

}  // namespace opendbs::api
