// RestoreDirLock: one restore at a time owns a RestoreDir, whichever thread or process asks, and
// however the directory is spelt; a restore refused names the running restore task that holds it.
#include "jobs/restore_dir_lock.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/ids.h"

namespace opendbs::jobs {
namespace {

namespace fs = std::filesystem;

class RestoreDirLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("opendbs-dirlock-" + core::random_alnum(8));
    fs::create_directories(dir_);
    store_ = std::move(catalog::open_store((dir_ / "catalog.db").string()).value());
  }
  void TearDown() override { fs::remove_all(dir_); }

  catalog::Record restore(const std::string& id, const std::string& account, const std::string& restore_dir,
                          const std::string& state = "running") {
    catalog::Record r{id, account, "dbsplan1", state, 1, {{"RestoreDir", restore_dir}}};
    EXPECT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(catalog::Kind::restore_task, r); }).ok());
    return r;
  }

  fs::path dir_;
  std::unique_ptr<catalog::Store> store_;
};

TEST_F(RestoreDirLockTest, OneHolderAtATimeHoweverTheDirectoryIsSpelt) {
  const std::string target = (dir_ / "restored").string();
  fs::create_directories(dir_ / "links");
  fs::create_symlink(target, dir_ / "links" / "alias");
  auto first = RestoreDirLock::acquire(target);
  ASSERT_TRUE(first.ok()) << first.error().message;
  for (const std::string& same : {target + "/", (dir_ / "links" / ".." / "restored").string(),
                                  (dir_ / "links" / "alias").string()}) {
    const auto again = RestoreDirLock::acquire(same);
    ASSERT_FALSE(again.ok()) << same;
    EXPECT_EQ(again.error().code, "OperationDenied.PlanStatus") << same;
  }
  EXPECT_TRUE(RestoreDirLock::acquire((dir_ / "restored-2").string()).ok());
  { auto moved = std::move(*first); }  // the holder ends
  EXPECT_TRUE(RestoreDirLock::acquire(target).ok());
}

// Another node process on the machine (here flock(1), which takes the same lock) keeps a restore out.
TEST_F(RestoreDirLockTest, ALockHeldByAnotherProcessKeepsARestoreOut) {
  const std::string target = (dir_ / "restored").string();
  fs::create_directories(target);
  const std::string ready = (dir_ / "ready").string(), release = (dir_ / "release").string();
  std::thread holder([&] {
    const std::string cmd = "flock -n " + target + " sh -c 'touch " + ready + "; while [ ! -e " + release +
                            " ]; do sleep 0.02; done'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  });
  for (int i = 0; i < 500 && !fs::exists(ready); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(fs::exists(ready));
  const auto refused = lock_restore_dir(*store_, restore("mine", "A", target), target);
  std::ofstream(release).close();
  holder.join();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("locked by another restore still writing there"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(RestoreDirLock::acquire(target).ok());  // the process ended: its lock went with it
}

TEST_F(RestoreDirLockTest, ARefusalNamesTheRunningRestoreTaskThatWritesTheDirectory) {
  const std::string target = (dir_ / "restored").string();
  auto held = RestoreDirLock::acquire(target);
  ASSERT_TRUE(held.ok());
  restore("theirs", "A", target + "/");
  restore("done", "A", target, "finish");  // an ended restore holds nothing
  const auto refused = lock_restore_dir(*store_, restore("mine", "A", target), target);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "OperationDenied.PlanStatus");
  EXPECT_NE(refused.error().message.find("RestoreDir " + target + " is being written by restore task theirs"),
            std::string::npos)
      << refused.error().message;
  // A directory inside the one written, or above it, overlaps it (StartRestoreTask refuses it).
  for (const std::string& overlapping : {target + "/base", dir_.string()}) {
    std::optional<catalog::Record> other;
    ASSERT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(other, running_restore_into(tx, overlapping, "mine"));
      return {};
    }).ok());
    ASSERT_TRUE(other) << overlapping;
    EXPECT_EQ(other->id, "theirs");
    const std::string message = restore_dir_in_use(overlapping, *other, "A").message;
    EXPECT_NE(message.find("RestoreDir " + overlapping + " overlaps " + target + ", which restore task theirs"),
              std::string::npos) << message;
  }
  std::optional<catalog::Record> beside;
  ASSERT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(beside, running_restore_into(tx, target + "-2", "mine"));  // a name that only starts alike
    return {};
  }).ok());
  EXPECT_FALSE(beside);
  // Another account's restore is not named to this one.
  const auto foreign = lock_restore_dir(*store_, restore("mine-b", "B", target), target);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("a restore task of another account"), std::string::npos);
  EXPECT_EQ(foreign.error().message.find("theirs"), std::string::npos);
}

TEST_F(RestoreDirLockTest, AMissingDirectoryIsCreatedForPostgreSQLAndAFileIsRefused) {
  const fs::path target = dir_ / "new" / "restored";
  ASSERT_TRUE(RestoreDirLock::acquire(target.string()).ok());
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::ofstream(dir_ / "file") << "x";
  const auto refused = RestoreDirLock::acquire((dir_ / "file").string());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "IOError");
  EXPECT_NE(refused.error().message.find("must be a directory"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace opendbs::jobs
