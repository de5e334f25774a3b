#include "jobs/restore_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/errors.h"

namespace opendbs::jobs {
namespace fs = std::filesystem;

std::string restore_dir_key(const std::string& dir) {
  if (dir.empty()) return "";
  std::error_code ec;
  fs::path path = fs::absolute(dir, ec);
  if (ec) path = dir;
  std::string out = path.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

namespace {

std::string restore_dir_of(const catalog::Record& restore) {
  const auto* dir = restore.doc.if_contains("RestoreDir");
  return dir && dir->is_string() ? restore_dir_key(std::string(dir->as_string())) : "";
}

// Whether `inner` is `outer` or a directory below it.
bool within(const std::string& inner, const std::string& outer) {
  return inner == outer || (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
                            (outer.back() == '/' || inner[outer.size()] == '/'));
}

}  // namespace

core::Result<std::optional<catalog::Record>> running_restore_into(catalog::Tx& tx, const std::string& dir,
                                                                  const std::string& except_id) {
  const std::string key = restore_dir_key(dir);
  if (key.empty()) return std::optional<catalog::Record>();
  catalog::Query q{catalog::Kind::restore_task};
  q.states = {"running"};
  OPENDBS_ASSIGN(auto running, tx.list(q));
  for (auto& r : running) {
    const std::string other = restore_dir_of(r);
    if (r.id != except_id && !other.empty() && (within(key, other) || within(other, key)))
      return std::optional<catalog::Record>(std::move(r));
  }
  return std::optional<catalog::Record>();
}

core::Result<RestoreDirLock> RestoreDirLock::acquire(const std::string& dir) {
  const std::string path = restore_dir_key(dir);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  // 0700 as PostgreSQL wants its data directory; the lock is on the directory itself, so nothing is
  // left in or beside it.
  const bool created = ::mkdir(path.c_str(), 0700) == 0;
  if (!created && errno != EEXIST)
    return core::errors::io("cannot create RestoreDir " + path + ": " + std::strerror(errno));
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return core::errors::io("cannot open RestoreDir " + path + " (it must be a directory): " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK)
      return core::make_error("OperationDenied.PlanStatus", "RestoreDir " + path + " is in use by another restore");
    return core::errors::io("cannot lock RestoreDir " + path + ": " + std::strerror(error));
  }
  return RestoreDirLock(fd, path, created);
}

void RestoreDirLock::remove_if_created_and_empty() {
  if (created_) (void)::rmdir(path_.c_str());  // rmdir removes only an empty directory
}

RestoreDirLock::~RestoreDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor lets the lock go
}

core::Error restore_dir_in_use(const std::string& dir, const catalog::Record& other, const std::string& account_id) {
  const std::string who = other.account_id == account_id ? "restore task " + other.id + " (of plan " + other.parent_id + ")"
                                                         : "a restore task of another account";
  const std::string key = restore_dir_key(dir), theirs = restore_dir_of(other);
  const std::string what = key == theirs ? " is being written by " + who
                                         : " overlaps " + theirs + ", which " + who + " is writing";
  return core::make_error("OperationDenied.PlanStatus",
                          "RestoreDir " + key + what +
                              ": a restore owns its directory until it ends; start this one when that one has "
                              "ended, or give another RestoreDir");
}

core::Result<RestoreDirLock> lock_restore_dir(catalog::Store& store, const catalog::Record& restore,
                                              const std::string& dir) {
  auto lock = RestoreDirLock::acquire(dir);
  if (lock.ok() || lock.error().code != "OperationDenied.PlanStatus") return lock;
  std::optional<catalog::Record> other;
  (void)store.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(other, running_restore_into(tx, dir, restore.id));
    return {};
  });
  if (other) return restore_dir_in_use(dir, *other, restore.account_id);
  return core::make_error("OperationDenied.PlanStatus",
                          "RestoreDir " + restore_dir_key(dir) +
                              " is locked by another restore still writing there (one by another opendbs process on "
                              "this machine, or one stopped that has not ended yet): a restore owns its directory until "
                              "it ends; this one wrote nothing");
}

}  // namespace opendbs::jobs
