// Damage to packs, index files and manifests is detected and reported precisely: which pack and offset,
// which index file, which set — never silently wrong bytes.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/file.h"
#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

using testing::random_data;

class CorruptionTest : public testing::TempRepoTest {
 protected:
  void SetUp() override {
    TempRepoTest::SetUp();
    auto repo = init_repo();
    data_ = random_data(300000, 7);
    ASSERT_TRUE(write_set(*repo, "s", {{"db", data_}}).ok());
  }
  std::vector<std::string> objects(const std::string& prefix) {
    std::vector<std::string> out;
    auto listed = backend()->list(prefix);
    EXPECT_TRUE(listed.ok());
    for (const auto& o : listed.value()) out.push_back(o.name);
    std::sort(out.begin(), out.end());
    return out;
  }
  void flip(const std::string& object, size_t at) {
    const std::string path = repo_dir() + "/" + object;
    auto bytes = *core::read_file(path);
    bytes[at] ^= 0x10;
    ASSERT_TRUE(core::write_file_durable(path, bytes).ok());
  }
  std::string all_errors(const CheckReport& r) {
    std::string s;
    for (const auto& e : r.errors) s += e + "\n";
    return s;
  }
  std::string data_;
};

TEST_F(CorruptionTest, FlippedBlobByteFailsTheReadNamingPackAndOffset) {
  const auto pack = objects("data/").front();
  const std::string pack_id = pack.substr(pack.rfind('/') + 1);
  flip(pack, 100);  // inside the first blob, which starts at offset 0
  auto repo = open_repo();
  std::string out;
  auto st = repo->read_stream("s", "db", [&](std::string_view b) {
    out.append(b);
    return core::Status{};
  });
  const std::string target = dir_ + "/restore";
  auto restored = repo->restore_set("s", target);
  ASSERT_FALSE(st.ok()) << "the only set has chunks in every pack";
  EXPECT_EQ(st.error().code, "Corrupt");
  EXPECT_NE(st.error().message.find("in pack " + pack_id + " at offset 0"), std::string::npos) << st.error().message;
  ASSERT_FALSE(restored.ok());
  // The damaged chunk left the index with the first read (damaged_chunk_test.cpp): the restore finds no
  // entry, and check names the set without reading data.
  EXPECT_NE(restored.error().message.find("no index entry"), std::string::npos) << restored.error().message;
  auto structure = repo->check({});
  EXPECT_EQ(structure->damaged_sets, std::vector<std::string>{"s"}) << all_errors(*structure);
}

TEST_F(CorruptionTest, FlippedBlobByteIsNamedByReadDataWithPackOffsetAndSet) {
  const auto pack = objects("data/").front();
  const std::string pack_id = pack.substr(pack.rfind('/') + 1);
  flip(pack, 100);
  auto repo = open_repo();
  EXPECT_TRUE(repo->check({})->clean()) << "structure is intact; only data is damaged";
  auto report = repo->check({.read_data = true});
  ASSERT_FALSE(report->errors.empty());
  EXPECT_NE(report->errors[0].find("in pack " + pack_id + " at offset 0"), std::string::npos) << all_errors(*report);
  EXPECT_EQ(report->damaged_sets, std::vector<std::string>{"s"}) << all_errors(*report);
}

TEST_F(CorruptionTest, EveryFlippedByteOfAPackIsFoundByReadData) {
  const auto pack = objects("data/").front();
  const auto size = std::filesystem::file_size(repo_dir() + "/" + pack);
  const std::string pristine = dir_ + "/pristine";
  std::filesystem::copy(repo_dir(), pristine, std::filesystem::copy_options::recursive);
  for (size_t at : {size_t{0}, size / 3, size / 2, size - 40, size - 13, size - 1}) {
    flip(pack, at);
    auto report = open_repo()->check({.read_data = true});
    EXPECT_FALSE(report->clean()) << "flip at " << at << " of " << size;
    // Undone with the index too: a damaged chunk found by the check left it.
    std::filesystem::remove_all(repo_dir());
    std::filesystem::copy(pristine, repo_dir(), std::filesystem::copy_options::recursive);
  }
  EXPECT_TRUE(open_repo()->check({.read_data = true})->clean());
}

TEST_F(CorruptionTest, FlippedIndexFileIsReportedByName) {
  const auto index = objects("index/").front();
  flip(index, 20);
  auto repo = open_repo();
  auto report = repo->check({});
  ASSERT_FALSE(report->clean());
  EXPECT_NE(all_errors(*report).find("index file " + index + " is unreadable"), std::string::npos)
      << all_errors(*report);
  EXPECT_NE(all_errors(*report).find("is missing (in no index file)"), std::string::npos);
  // The packs it listed hold live data: check must not call them garbage that prune removes.
  ASSERT_FALSE(report->warnings.empty());
  for (const auto& w : report->warnings) {
    EXPECT_EQ(w.find("prune removes it"), std::string::npos) << w;
    EXPECT_NE(w.find("may be listed by the unreadable one"), std::string::npos) << w;
  }
  auto st = repo->read_stream("s", "db", [](std::string_view) { return core::Status{}; });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("no index entry"), std::string::npos);
  auto pruned = repo->prune();
  ASSERT_FALSE(pruned.ok()) << "prune must not delete anything on a damaged index";
  EXPECT_NE(pruned.error().message.find(index), std::string::npos);
  EXPECT_FALSE(objects("data/").empty());
}

TEST_F(CorruptionTest, FlippedManifestIsReportedWithItsSet) {
  flip("sets/s", 30);
  auto repo = open_repo();
  int damage_seen = 0;
  repo->set_damage_observer([&] { ++damage_seen; });
  auto m = repo->load_manifest("s");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, "Corrupt");
  EXPECT_NE(m.error().message.find("manifest of set s"), std::string::npos);
  auto report = repo->check({});
  EXPECT_NE(all_errors(*report).find("manifest of set s is unreadable"), std::string::npos);
  EXPECT_NE(all_errors(*report).find("`opendbs repo forget s`"), std::string::npos) << all_errors(*report);
  auto pruned = repo->prune();
  ASSERT_FALSE(pruned.ok()) << "prune must not treat the set's data as garbage";
  EXPECT_EQ(pruned.error().code, "Corrupt");
  EXPECT_NE(pruned.error().message.find("nothing deleted"), std::string::npos) << pruned.error().message;
  EXPECT_NE(pruned.error().message.find("`opendbs repo forget s`"), std::string::npos) << pruned.error().message;
  auto unreadable = repo->unreadable_sets();
  ASSERT_TRUE(unreadable.ok());
  ASSERT_EQ(unreadable->size(), 1u);
  EXPECT_NE(unreadable->at("s").find("authentication tag mismatch"), std::string::npos) << unreadable->at("s");
  EXPECT_EQ(damage_seen, 0) << "prune and check meet it at every pass: they do not ask for another";
  EXPECT_FALSE(repo->restore_set("s", dir_ + "/restore", {.sync = false}).ok());
  EXPECT_EQ(damage_seen, 1) << "a restore that meets it does";
}

TEST_F(CorruptionTest, MissingPackIsReportedWithTheSetsThatNeedIt) {
  const auto pack = objects("data/").front();
  std::filesystem::remove(repo_dir() + "/" + pack);
  auto report = open_repo()->check({});
  const auto errors = all_errors(*report);
  EXPECT_NE(errors.find("pack " + pack.substr(pack.rfind('/') + 1) + " named by index/"), std::string::npos) << errors;
  EXPECT_NE(errors.find("set s stream db at byte"), std::string::npos) << errors;
}

TEST_F(CorruptionTest, TruncatedPackIsReported) {
  const auto pack = objects("data/").front();
  std::filesystem::resize_file(repo_dir() + "/" + pack, 100);
  auto report = open_repo()->check({});
  EXPECT_NE(all_errors(*report).find("is truncated"), std::string::npos) << all_errors(*report);
}

TEST_F(CorruptionTest, UnknownFormatVersionIsRefused) {
  auto config = *core::read_file(repo_dir() + "/config");
  config.replace(config.find("\"version\":1"), 11, "\"version\":2");
  ASSERT_TRUE(core::write_file_durable(repo_dir() + "/config", config).ok());
  auto r = Repository::open(backend(), testing::passphrase(), testing::small_options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("version 2 is not supported"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace opendbs::repo
