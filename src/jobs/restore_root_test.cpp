// check_restore_root: with a restore root, RestoreDir must resolve strictly inside it, however it is
// spelt and whatever symlinks it passes through.
#include "jobs/restore_root.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"

namespace opendbs::jobs {
namespace {

namespace fs = std::filesystem;

class RestoreRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("opendbs-restoreroot-" + core::random_alnum(8));
    root_ = base_ / "restores";
    fs::create_directories(root_ / "existing");
    fs::create_directories(base_ / "elsewhere");
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_, root_;
};

TEST_F(RestoreRootTest, WithoutARootEveryAbsoluteDirectoryButTheFilesystemRootIsAllowed) {
  EXPECT_TRUE(check_restore_root("", "/var/lib/postgresql/15/main").ok());
  for (const std::string dir : {"relative/dir", "./here", "", "/", "//", "/./"}) {
    const auto st = check_restore_root("", dir);
    ASSERT_FALSE(st.ok()) << dir;
    EXPECT_EQ(st.error().code, "InvalidParameter");
    EXPECT_NE(st.error().message.find("RestoreDir"), std::string::npos);
    EXPECT_NE(st.error().message.find("absolute path"), std::string::npos);
  }
}

TEST_F(RestoreRootTest, ADirectoryBelowTheRootIsAllowedWhetherItExistsOrNot) {
  EXPECT_TRUE(check_restore_root(root_.string(), (root_ / "existing").string()).ok());
  EXPECT_TRUE(check_restore_root(root_.string(), (root_ / "new" / "deeper").string()).ok());
  EXPECT_TRUE(check_restore_root(root_.string() + "/", (root_ / "existing" / ".." / "other").string()).ok());
}

TEST_F(RestoreRootTest, TheRootItselfAndPathsOutsideItAreRefusedNamingRestoreDirAndTheRoot) {
  for (const fs::path& dir : {root_, base_ / "elsewhere", base_ / "restores-sibling", root_ / ".." / "elsewhere" / "x",
                              fs::path("/var/lib/postgresql/15/main")}) {
    auto st = check_restore_root(root_.string(), dir.string());
    ASSERT_FALSE(st.ok()) << dir;
    EXPECT_EQ(st.error().code, "InvalidParameter");
    EXPECT_NE(st.error().message.find("RestoreDir " + dir.string()), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("restore root " + root_.string()), std::string::npos) << st.error().message;
  }
}

TEST_F(RestoreRootTest, ASymlinkBelowTheRootThatLeadsOutIsRefused) {
  fs::create_directory_symlink(base_ / "elsewhere", root_ / "link");
  auto st = check_restore_root(root_.string(), (root_ / "link" / "data").string());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find((base_ / "elsewhere" / "data").string()), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace opendbs::jobs
