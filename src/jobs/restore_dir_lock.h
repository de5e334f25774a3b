// A restore owns its RestoreDir while it runs: two restores writing one directory would each replace
// and delete the other's files, and either could report finish on a directory the other was changing.
// StartRestoreTask refuses a restore into a directory a running restore task of the catalog writes;
// the task itself holds an exclusive flock(2) on the directory while it restores, which also keeps
// out a restore by another node process on this machine (and is let go when its holder dies).
#pragma once

#include <optional>
#include <string>

#include "catalog/store.h"
#include "core/result.h"

namespace opendbs::jobs {

// RestoreDir as a comparable path: absolute (from the node's working directory), normalised, with no
// trailing separator. "" for "".
std::string restore_dir_key(const std::string& dir);

// The running restore task, other than `except_id`, whose RestoreDir is `dir`, or a directory above
// or below it (a delta restore removes what its set does not have, a nested restore's files too), of
// any account (the directory is the node's), if any.
core::Result<std::optional<catalog::Record>> running_restore_into(catalog::Tx& tx, const std::string& dir,
                                                                  const std::string& except_id);

class RestoreDirLock {
 public:
  // Creates `dir` (mode 0700) if it does not exist, then takes the lock without waiting: an error
  // (OperationDenied.PlanStatus) when another restore holds it, IOError when it cannot be taken.
  static core::Result<RestoreDirLock> acquire(const std::string& dir);

  RestoreDirLock(RestoreDirLock&& other) noexcept
      : fd_(other.fd_), path_(std::move(other.path_)), created_(other.created_) {
    other.fd_ = -1;
  }
  RestoreDirLock& operator=(RestoreDirLock&&) = delete;
  ~RestoreDirLock();

  // For a restore that did not finish: removes the directory if acquire() created it and it is empty
  // (the engine removes what it wrote into a directory that was empty), so that none is left behind.
  void remove_if_created_and_empty();

 private:
  RestoreDirLock(int fd, std::string path, bool created) : fd_(fd), path_(std::move(path)), created_(created) {}
  int fd_ = -1;
  std::string path_;
  bool created_ = false;
};

// The lock of `dir` for the restore task `restore` (restore_dir_lock.h), or the refusal naming the
// running restore task of the catalog that writes there (only "of another account" for another
// account's), or "another restore still writing there" when the catalog knows none running.
core::Result<RestoreDirLock> lock_restore_dir(catalog::Store& store, const catalog::Record& restore,
                                              const std::string& dir);

// The refusal of a restore into `dir` while `other` (a running restore task) writes there, as seen
// by the owner of `account_id`.
core::Error restore_dir_in_use(const std::string& dir, const catalog::Record& other, const std::string& account_id);

}  // namespace opendbs::jobs
