#include "cli/data_dir_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

namespace opendbs::cli {
namespace {

class DataDirLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("opendbs-lock-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(DataDirLockTest, ASecondNodeOnTheDataDirIsRefusedNamingTheFirstsPid) {
  std::optional<DataDirLock> first;
  {
    auto held = DataDirLock::acquire(dir_.string());
    ASSERT_TRUE(held.ok()) << held.error().message;
    first.emplace(std::move(*held));
  }
  auto second = DataDirLock::acquire(dir_.string());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("is in use by another opendbs node (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second.error().message;
  first.reset();
  EXPECT_TRUE(DataDirLock::acquire(dir_.string()).ok());
}

TEST_F(DataDirLockTest, AKilledHolderLeavesNoHold) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto held = DataDirLock::acquire(dir_.string());
    const char c = held.ok() ? 'y' : 'n';
    (void)::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EXPECT_FALSE(DataDirLock::acquire(dir_.string()).ok());
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(DataDirLock::acquire(dir_.string()).ok());
  ::close(ready[0]);
  ::close(ready[1]);
}

}  // namespace
}  // namespace opendbs::cli
