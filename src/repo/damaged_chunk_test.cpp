// A chunk whose bytes changed in a pack that is still there (bit rot, a bad sector) fails every read
// clearly, leaves the index so that the next backup stores it again, and the sets that use it are
// named by prune and check (damaged_chunks.h; docs/REPOSITORY.md §9). Nothing is dropped for a read
// that merely failed.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "core/errors.h"
#include "core/file.h"
#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

using testing::random_data;

// Reads of pack ranges fail with an I/O error while `failing` is set (a timeout, an S3 5xx).
class FlakyReads final : public Backend {
 public:
  FlakyReads(std::unique_ptr<Backend> inner, std::atomic<bool>& failing) : inner_(std::move(inner)), failing_(failing) {}
  core::Status put(const std::string& name, std::string_view data) override { return inner_->put(name, data); }
  core::Result<std::string> get(const std::string& name) override {
    if (failing_ && name.starts_with("data/")) return core::errors::io("timeout reading " + name);
    return inner_->get(name);
  }
  core::Result<std::string> get_range(const std::string& name, uint64_t offset, uint64_t length) override {
    if (failing_) return core::errors::io("timeout reading " + name);
    return inner_->get_range(name, offset, length);
  }
  core::Result<std::optional<ObjectInfo>> stat(const std::string& name) override { return inner_->stat(name); }
  core::Result<std::vector<ObjectInfo>> list(const std::string& prefix) override { return inner_->list(prefix); }
  core::Status remove(const std::string& name) override { return inner_->remove(name); }
  std::string describe() const override { return "flaky(" + inner_->describe() + ")"; }

 private:
  std::unique_ptr<Backend> inner_;
  std::atomic<bool>& failing_;
};

class DamagedChunkTest : public testing::TempRepoTest {
 protected:
  void SetUp() override {
    TempRepoTest::SetUp();
    data_ = random_data(300000, 31);
    auto repo = init_repo();
    ASSERT_TRUE(write_set(*repo, "monday", {{"db", data_}}).ok());
  }
  std::string first_pack() {
    auto listed = backend()->list("data/");
    EXPECT_TRUE(listed.ok() && !listed->empty());
    std::vector<std::string> names;
    for (const auto& o : *listed) names.push_back(o.name);
    std::sort(names.begin(), names.end());
    return names.front();
  }
  // Flips one byte inside the first blob of the first pack (blobs start at offset 0).
  std::string damage_a_chunk(const std::string& pack = "") {
    const std::string name = pack.empty() ? first_pack() : pack;
    const std::string path = repo_dir() + "/" + name;
    auto bytes = *core::read_file(path);
    bytes[100] ^= 0x40;
    EXPECT_TRUE(core::write_file_durable(path, bytes).ok());
    return name.substr(name.rfind('/') + 1);
  }
  core::Status restore(Repository& repo, const std::string& set_id, std::string* out = nullptr) {
    const std::string target = dir_ + "/restore-" + set_id + "-" + std::to_string(restores_++);
    OPENDBS_TRY(repo.restore_set(set_id, target, {.sync = false}));
    if (!out) return {};
    OPENDBS_ASSIGN(*out, core::read_file(target + "/db"));
    return {};
  }
  std::string all_errors(const CheckReport& r) {
    std::string s;
    for (const auto& e : r.errors) s += e + "\n";
    return s;
  }
  std::string data_;
  int restores_ = 0;
};

TEST_F(DamagedChunkTest, RestoreOfAFlippedByteFailsClearlyDropsTheChunkAndTheNextBackupStoresItAgain) {
  const std::string pack = damage_a_chunk();
  auto repo = open_repo();
  int damage_seen = 0;
  repo->set_damage_observer([&] { ++damage_seen; });

  auto st = restore(*repo, "monday");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "Corrupt");
  EXPECT_NE(st.error().message.find("in pack " + pack + " at offset 0"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("authentication tag mismatch"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("dropped from the index"), std::string::npos) << st.error().message;
  EXPECT_EQ(damage_seen, 1);

  // The chunk left the index files: check (structure only) now names the set that needs it, and so
  // does prune.
  auto report = open_repo()->check();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->damaged_sets, std::vector<std::string>{"monday"}) << all_errors(*report);
  auto pruned = repo->prune();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(pruned->damaged_sets, std::vector<std::string>{"monday"});
  ASSERT_EQ(pruned->missing.count("monday"), 1u);
  EXPECT_EQ(pruned->missing.at("monday").chunks, 1u);
  EXPECT_EQ(pruned->missing.at("monday").first_chunk.size(), 64u);

  // The next backup of the same data stores the chunk again (it does not deduplicate against the
  // damaged copy) and restores byte for byte; the chunk being a content address, monday is healed too.
  auto tuesday = repo->begin_set("tuesday");
  ASSERT_TRUE(tuesday.ok());
  auto w = (*tuesday)->add_stream("db", FileMeta{data_.size(), 0640, 1700000000123});
  ASSERT_TRUE(w.ok() && (*w)->write(data_).ok() && (*w)->close().ok());
  ASSERT_TRUE((*tuesday)->commit({{"engine", "test"}}).ok());
  EXPECT_EQ((*tuesday)->stats().chunks_new, 1u);
  std::string restored;
  ASSERT_TRUE(restore(*repo, "tuesday", &restored).ok());
  EXPECT_EQ(restored, data_);
  ASSERT_TRUE(restore(*open_repo(), "monday", &restored).ok());
  EXPECT_EQ(restored, data_);
  auto healed = open_repo()->check({.read_data = true});
  EXPECT_TRUE(healed->damaged_sets.empty()) << all_errors(*healed);
}

TEST_F(DamagedChunkTest, AStreamReadAsForADownloadOrWalFetchDropsTheDamagedChunkToo) {
  damage_a_chunk();
  auto repo = open_repo();
  auto st = repo->read_stream("monday", "db", [](std::string_view) { return core::Status{}; });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("authentication tag mismatch"), std::string::npos) << st.error().message;
  auto again = open_repo()->read_stream("monday", "db", [](std::string_view) { return core::Status{}; });
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("no index entry"), std::string::npos) << again.error().message;
  EXPECT_EQ(open_repo()->check()->damaged_sets, std::vector<std::string>{"monday"});
}

TEST_F(DamagedChunkTest, CheckReadDataNamesTheSetsUsingADamagedChunkAndDropsIt) {
  const std::string pack = damage_a_chunk();
  auto repo = open_repo();
  ASSERT_TRUE(write_set(*repo, "other", {{"unrelated", random_data(50000, 32)}}).ok());
  auto report = repo->check({.read_data = true});
  ASSERT_TRUE(report.ok());
  const std::string errors = all_errors(*report);
  EXPECT_EQ(report->damaged_sets, std::vector<std::string>{"monday"}) << errors;
  EXPECT_NE(errors.find("in pack " + pack + " at offset 0"), std::string::npos) << errors;
  EXPECT_NE(errors.find("set monday stream db at byte "), std::string::npos) << errors;
  EXPECT_NE(errors.find("set monday cannot be restored"), std::string::npos) << errors;
  EXPECT_EQ(errors.find("set other"), std::string::npos) << errors;
  // Dropped: a later check without reading data still names the set; the next backup stores the chunk.
  EXPECT_EQ(open_repo()->check()->damaged_sets, std::vector<std::string>{"monday"});
  ASSERT_TRUE(write_set(*repo, "tuesday", {{"db", data_}}).ok());
  EXPECT_TRUE(open_repo()->check({.read_data = true})->clean());
}

TEST_F(DamagedChunkTest, ABackupRunningWhenAReadDropsAChunkItReusesIsNotCommittedAndTheNextOneStoresIt) {
  damage_a_chunk();
  auto repo = open_repo();
  auto tuesday = repo->begin_set("tuesday");  // its index still lists the damaged chunk: it deduplicates
  ASSERT_TRUE(tuesday.ok());
  auto w = (*tuesday)->add_stream("db", FileMeta{data_.size(), 0640, 1700000000123});
  ASSERT_TRUE(w.ok() && (*w)->write(data_).ok() && (*w)->close().ok());
  ASSERT_FALSE(restore(*open_repo(), "monday").ok()) << "another process's restore meets the damage meanwhile";

  auto st = (*tuesday)->commit({{"engine", "test"}});
  ASSERT_FALSE(st.ok()) << "a set that cannot be restored must never commit";
  EXPECT_EQ(st.error().code, "Corrupt");
  EXPECT_NE(st.error().message.find("run the backup again"), std::string::npos) << st.error().message;
  EXPECT_EQ(*repo->list_sets(), std::vector<std::string>{"monday"});
  ASSERT_TRUE(write_set(*repo, "tuesday", {{"db", data_}}).ok());
  EXPECT_EQ(read_all(*repo, "tuesday", "db"), data_);
}

TEST_F(DamagedChunkTest, AReadThatFailsWithAnIoErrorDropsNothing) {
  std::atomic<bool> failing{true};
  auto repo = Repository::open(std::make_unique<FlakyReads>(backend(), failing), testing::passphrase(),
                               testing::small_options());
  ASSERT_TRUE(repo.ok());
  auto st = (*repo)->read_stream("monday", "db", [](std::string_view) { return core::Status{}; });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "IOError") << st.error().message;
  EXPECT_FALSE((*repo)->restore_set("monday", dir_ + "/r", {.sync = false}).ok());
  EXPECT_FALSE((*repo)->check({.read_data = true})->clean());
  failing = false;
  EXPECT_TRUE(open_repo()->check({.read_data = true})->clean()) << "every index entry is still there";
  EXPECT_EQ(read_all(**repo, "monday", "db"), data_);
}

TEST_F(DamagedChunkTest, PruneRepackingADamagedChunkDropsItAndNamesTheSetInsteadOfStopping) {
  auto repo = open_repo();
  // A set sharing only monday's first chunks stays, monday goes: prune repacks the pack that holds
  // them, and every blob of every pack is damaged.
  ASSERT_TRUE(write_set(*repo, "part", {{"db", data_.substr(0, 10000)}}).ok());
  ASSERT_TRUE(repo->forget_set("monday").ok());
  auto listed = backend()->list("data/");
  ASSERT_TRUE(listed.ok());
  for (const auto& o : listed.value()) {
    const std::string path = repo_dir() + "/" + o.name;
    auto bytes = *core::read_file(path);
    for (size_t at = 100; at < bytes.size(); at += 200) bytes[at] ^= 0x40;
    ASSERT_TRUE(core::write_file_durable(path, bytes).ok());
  }
  auto pruned = open_repo()->prune();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_GE(pruned->packs_repacked, 1u);
  EXPECT_EQ(pruned->damaged_sets, std::vector<std::string>{"part"});
  EXPECT_EQ(open_repo()->check()->damaged_sets, std::vector<std::string>{"part"});
}

}  // namespace
}  // namespace opendbs::repo
