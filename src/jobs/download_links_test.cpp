#include "jobs/download_links.h"

#include <gtest/gtest.h>

namespace opendbs::jobs {
namespace {

const DownloadLinks kLinks(std::string(32, 'k'), "/data/downloads");
constexpr int64_t kNow = 1700000000;

TEST(DownloadLinks, ASignedPathVerifiesUntilItExpiresAndNamesTheFileOnDisk) {
  const std::string path = kLinks.signed_path("s102h7rf5anq", "set1.sql", kNow + 60);
  EXPECT_TRUE(path.starts_with("/downloads/s102h7rf5anq/set1.sql?Expires=1700000060&Signature=")) << path;
  auto target = kLinks.verify(path, kNow);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(target->file, "/data/downloads/s102h7rf5anq.sql");
  EXPECT_EQ(target->name, "set1.sql");
  EXPECT_TRUE(kLinks.verify(path, kNow + 60).ok());

  auto late = kLinks.verify(path, kNow + 61);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "Request.Forbidden");
  EXPECT_EQ(late.error().http_status, 403);
  EXPECT_NE(late.error().message.find("expired at 2023-11-14T22:14:20Z"), std::string::npos) << late.error().message;
}

TEST(DownloadLinks, FileNamesKeepEverythingAfterTheFirstDotAndNoneWithoutOne) {
  EXPECT_EQ(kLinks.file_for("t1", "set.csv.tar"), "/data/downloads/t1.csv.tar");
  EXPECT_EQ(kLinks.file_for("t1", "000000010000000000000003"), "/data/downloads/t1");
  auto wal = kLinks.verify(kLinks.signed_path("t1", "000000010000000000000003", kNow + 1), kNow);
  ASSERT_TRUE(wal.ok());
  EXPECT_EQ(wal->file, "/data/downloads/t1");
}

TEST(DownloadLinks, ATamperedSignatureExpiryTaskOrNameIsForbidden) {
  const std::string path = kLinks.signed_path("task1", "a.sql", kNow + 60);
  std::string flipped = path;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  std::string later = path;
  later.replace(later.find("1700000060"), 10, "1900000060");
  std::string other_task = path;
  other_task.replace(other_task.find("task1"), 5, "task2");
  std::string other_name = path;
  other_name.replace(other_name.find("a.sql"), 5, "b.sql");
  const DownloadLinks other_key(std::string(32, 'x'), "/data/downloads");
  for (const auto& bad : {flipped, later, other_task, other_name}) {
    auto r = kLinks.verify(bad, kNow);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "Request.Forbidden") << bad;
    EXPECT_NE(r.error().message.find("signature does not match"), std::string::npos);
  }
  auto foreign = other_key.verify(path, kNow);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, "Request.Forbidden");
  auto unsigned_path = kLinks.verify("/downloads/task1/a.sql", kNow);
  ASSERT_FALSE(unsigned_path.ok());
  EXPECT_NE(unsigned_path.error().message.find("missing"), std::string::npos);
}

TEST(DownloadLinks, PathsThatCouldLeaveTheDownloadDirectoryAreNotDownloads) {
  for (const char* bad : {"/downloads/../master.key?Expires=1&Signature=00", "/downloads/t1/..?Expires=1&Signature=00",
                          "/downloads/t1/a/b?Expires=1&Signature=00", "/downloads/t1/.hidden?Expires=1&Signature=00",
                          "/downloads/t1?Expires=1&Signature=00", "/downloads/t1/a..sql?Expires=1&Signature=00"}) {
    auto r = kLinks.verify(bad, kNow);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "NotFound") << bad;
  }
}

}  // namespace
}  // namespace opendbs::jobs
