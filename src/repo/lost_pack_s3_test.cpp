// The lost-pack rules (lost_pack_test.cpp) on a real S3 server: an object removed from the bucket, as a
// lifecycle rule does, is found by the next backup that would reuse it and by prune.
#include <gtest/gtest.h>

#include "core/ids.h"
#include "repo/backend/s3_backend.h"
#include "repo/backend/s3rver_process.h"
#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

using testing::random_data;

class LostPackS3Test : public testing::TempRepoTest {
 protected:
  void SetUp() override {
    TempRepoTest::SetUp();
    auto server = testing::S3rverProcess::shared();
    ASSERT_TRUE(server.ok()) << server.error().message;
    config_ = (*server)->config("lostpack/" + core::random_alnum(10), true);
  }
  std::unique_ptr<Backend> s3() const { return std::make_unique<S3Backend>(config_); }
  std::unique_ptr<Repository> init_s3() {
    auto r = Repository::init(s3(), testing::passphrase(), testing::small_options());
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : nullptr;
  }
  S3Config config_;
};

TEST_F(LostPackS3Test, ABackupReusingAPackDeletedFromTheBucketFailsAndTheNextOneRestoresByteForByte) {
  const auto data = random_data(300000, 31);
  auto repo = init_s3();
  ASSERT_TRUE(repo);
  ASSERT_TRUE(write_set(*repo, "monday", {{"db", data}}).ok());
  auto objects = s3()->list("data/");
  ASSERT_TRUE(objects.ok() && !objects->empty());
  const std::string lost = objects->front().name.substr(objects->front().name.rfind('/') + 1);
  ASSERT_TRUE(s3()->remove(objects->front().name).ok());

  auto st = write_set(*repo, "tuesday", {{"db", data}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "Corrupt");
  EXPECT_NE(st.error().message.find(lost), std::string::npos) << st.error().message;

  ASSERT_TRUE(write_set(*repo, "tuesday", {{"db", data}}).ok());
  EXPECT_EQ(read_all(*repo, "tuesday", "db"), data);
  auto pruned = repo->prune();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_TRUE(pruned->lost_packs.empty()) << "the backup dropped it already";
  EXPECT_TRUE(pruned->damaged_sets.empty()) << "storing the chunks again healed monday";
}

TEST_F(LostPackS3Test, PruneReportsAPackDeletedFromTheBucketAndTheSetItDamaged) {
  auto repo = init_s3();
  ASSERT_TRUE(repo);
  ASSERT_TRUE(write_set(*repo, "only", {{"db", random_data(300000, 32)}}).ok());
  auto objects = s3()->list("data/");
  ASSERT_TRUE(objects.ok() && !objects->empty());
  ASSERT_TRUE(s3()->remove(objects->front().name).ok());
  auto pruned = repo->prune();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  ASSERT_EQ(pruned->lost_packs.size(), 1u);
  EXPECT_EQ(pruned->damaged_sets, std::vector<std::string>{"only"});
  EXPECT_EQ(repo->check()->damaged_sets, std::vector<std::string>{"only"});
}

// A pack rewritten in the bucket with one byte changed (bit rot under the object store, a bad
// overwrite): the restore fails clearly, the chunk leaves the index, and the next backup stores it again
// (damaged_chunks.h).
TEST_F(LostPackS3Test, AFlippedByteInAPackInTheBucketIsDroppedOnReadAndTheNextBackupRestoresByteForByte) {
  const auto data = random_data(300000, 33);
  auto repo = init_s3();
  ASSERT_TRUE(repo);
  ASSERT_TRUE(write_set(*repo, "monday", {{"db", data}}).ok());
  auto objects = s3()->list("data/");
  ASSERT_TRUE(objects.ok() && !objects->empty());
  auto bytes = s3()->get(objects->front().name);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[100] ^= 0x40;  // inside the first blob
  ASSERT_TRUE(s3()->put(objects->front().name, *bytes).ok());

  auto st = repo->restore_set("monday", dir_ + "/monday", {.sync = false});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("authentication tag mismatch"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("dropped from the index"), std::string::npos) << st.error().message;
  EXPECT_EQ(repo->check()->damaged_sets, std::vector<std::string>{"monday"});

  ASSERT_TRUE(write_set(*repo, "tuesday", {{"db", data}}).ok());
  EXPECT_EQ(read_all(*repo, "tuesday", "db"), data);
  EXPECT_EQ(read_all(*repo, "monday", "db"), data) << "storing the chunk again healed monday";
}

}  // namespace
}  // namespace opendbs::repo
