// Repository locks with leases (docs/REPOSITORY.md §8). Backups, checks and restores take shared locks;
// prune takes an exclusive one. A background thread renews the lease every third of its length; a
// holder whose lease ran out (a stalled process) no longer holds the lock and must not commit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/result.h"
#include "repo/backend/backend.h"

namespace opendbs::repo {

enum class LockKind { kShared, kExclusive };

// True for the error RepoLock::acquire returns while a conflicting lock is live (also with context put
// in front by the layers above): prune's exclusive lock holds off backups and restores, a backup's
// shared lock holds off prune. The holder finishes; callers may wait and try again.
bool locked_by_another(const core::Error& e);

class RepoLock {
 public:
  // Fails (ServiceUnavailable: retry later) with a message naming the holder when a live conflicting lock exists.
  static core::Result<std::unique_ptr<RepoLock>> acquire(Backend& backend, LockKind kind, std::string purpose,
                                                         int64_t lease_ms, const core::Clock& clock);
  ~RepoLock();  // stops renewing and removes the lock object
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

  // True while the lease has never lapsed: every renewal so far succeeded in time.
  bool held() const;
  const std::string& lock_id() const { return lock_id_; }

 private:
  RepoLock(Backend& backend, LockKind kind, std::string purpose, int64_t lease_ms, const core::Clock& clock);
  core::Status write();  // (re)writes the lock object with a fresh expiry
  void renew_loop();

  Backend& backend_;
  const LockKind kind_;
  const std::string purpose_;
  const int64_t lease_ms_;
  const core::Clock& clock_;
  const std::string lock_id_;
  int64_t created_ms_ = 0;
  std::atomic<int64_t> valid_until_ms_{0};
  std::atomic<bool> lapsed_{false};
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread renewer_;
};

// Deletes every lock whose lease has expired; returns how many. Only under an exclusive lock.
core::Result<size_t> remove_stale_locks(Backend& backend, const core::Clock& clock);

}  // namespace opendbs::repo
