#include "repo/repository.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/file.h"
#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

using testing::passphrase;
using testing::random_data;
using testing::small_options;

class RepositoryTest : public testing::TempRepoTest {};

TEST_F(RepositoryTest, BackupThenRestoreGivesBackTheSameBytesForRandomInputs) {
  auto repo = init_repo();
  std::mt19937 rng(5);
  for (int round = 0; round < 6; ++round) {
    std::vector<std::pair<std::string, std::string>> streams;
    const int count = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < count; ++i)
      streams.emplace_back("dir" + std::to_string(i % 2) + "/f" + std::to_string(i),
                           random_data(rng() % 200000, static_cast<uint32_t>(rng())));
    const std::string set = "set" + std::to_string(round);
    ASSERT_TRUE(write_set(*repo, set, streams).ok());
    auto reopened = open_repo();
    for (const auto& [name, data] : streams) EXPECT_EQ(read_all(*reopened, set, name), data) << set << " " << name;
  }
  auto report = open_repo()->check({.read_data = true});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clean()) << report->errors.front();
}

TEST_F(RepositoryTest, SecondBackupOfSlightlyChangedDataStoresLittle) {
  auto repo = init_repo();
  const auto data = random_data(2 << 20, 11);
  ASSERT_TRUE(write_set(*repo, "first", {{"db", data}}).ok());
  auto changed = data;
  for (size_t at = 100000; at < changed.size(); at += 500000) changed[at] ^= 0x55;  // 5 small edits
  auto set = repo->begin_set("second");
  ASSERT_TRUE(set.ok());
  auto w = (*set)->add_stream("db", {});
  ASSERT_TRUE((*w)->write(changed).ok());
  ASSERT_TRUE((*w)->close().ok());
  ASSERT_TRUE((*set)->commit({}).ok());
  const auto stats = (*set)->stats();
  EXPECT_EQ(stats.bytes_in, changed.size());
  EXPECT_LE(stats.chunks_new, 10u);
  EXPECT_LT(stats.bytes_stored, changed.size() / 20);
  EXPECT_EQ(read_all(*repo, "second", "db"), changed);
}

TEST_F(RepositoryTest, StreamsCanBeWrittenFromSeveralThreadsAtOnce) {
  auto repo = init_repo();
  auto set = repo->begin_set("parallel");
  ASSERT_TRUE(set.ok());
  std::vector<std::string> data;
  for (int i = 0; i < 4; ++i) data.push_back(random_data(300000, 100 + i));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      auto w = (*set)->add_stream("s" + std::to_string(i), {});
      ASSERT_TRUE(w.ok());
      for (size_t at = 0; at < data[i].size(); at += 4096) ASSERT_TRUE((*w)->write(data[i].substr(at, 4096)).ok());
      ASSERT_TRUE((*w)->close().ok());
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE((*set)->commit({}).ok());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(read_all(*repo, "parallel", "s" + std::to_string(i)), data[i]);
}

TEST_F(RepositoryTest, RandomAccessReadsAnyRangeOfOneStream) {
  auto repo = init_repo();
  const auto data = random_data(500000, 12);
  ASSERT_TRUE(write_set(*repo, "s", {{"a", random_data(100000, 1)}, {"b", data}}).ok());
  auto reader = repo->open_stream("s", "b");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->size(), data.size());
  std::mt19937 rng(3);
  for (int i = 0; i < 50; ++i) {
    const uint64_t off = rng() % data.size(), len = rng() % 40000;
    auto got = (*reader)->read(off, len);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, data.substr(off, len)) << off << "+" << len;
  }
  EXPECT_EQ((*reader)->read(data.size(), 10)->size(), 0u);
  EXPECT_FALSE(repo->open_stream("s", "nope").ok());
}

// What a delta restore relies on to keep a file's bytes: the set's chunk ids tell its content.
TEST_F(RepositoryTest, ChunkMatchesTellsWhetherBytesAreTheContentOfAChunkOfTheSet) {
  auto repo = init_repo();
  std::string data = random_data(300000, 31) + std::string(200000, 'p');  // random and compressible chunks
  ASSERT_TRUE(write_set(*repo, "m", {{"f", data}}).ok());
  auto manifest = open_repo()->load_manifest("m");
  ASSERT_TRUE(manifest.ok());
  const auto& chunks = manifest->find_stream("f")->chunks;
  ASSERT_GT(chunks.size(), 2u);
  auto reopened = open_repo();
  uint64_t at = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const std::string bytes = data.substr(at, chunks[i].raw_len);
    EXPECT_TRUE(reopened->chunk_matches(chunks[i].id, bytes)) << i;
    std::string flipped = bytes;
    flipped[flipped.size() / 2] ^= 0x01;
    EXPECT_FALSE(reopened->chunk_matches(chunks[i].id, flipped)) << i;
    EXPECT_FALSE(reopened->chunk_matches(chunks[i].id, bytes.substr(1))) << i;
    const auto other =
        std::find_if(chunks.begin(), chunks.end(), [&](const ChunkRef& c) { return c.id != chunks[i].id; });
    EXPECT_FALSE(reopened->chunk_matches(other->id, bytes)) << i;  // runs of 'p' share one chunk id
    at += chunks[i].raw_len;
  }
  EXPECT_EQ(at, data.size());
}

TEST_F(RepositoryTest, RestoreSetWritesFilesWithModeAndMtime) {
  auto repo = init_repo();
  const auto a = random_data(123457, 20), b = random_data(0, 21), c = random_data(70000, 22);
  ASSERT_TRUE(write_set(*repo, "r", {{"base/1/a", a}, {"empty", b}, {"global/c", c}}).ok());
  const std::string target = dir_ + "/restored";
  ASSERT_TRUE(repo->restore_set("r", target, {.parallelism = 3}).ok());
  EXPECT_EQ(*core::read_file(target + "/base/1/a"), a);
  EXPECT_EQ(*core::read_file(target + "/empty"), b);
  EXPECT_EQ(*core::read_file(target + "/global/c"), c);
  struct stat st {};
  ASSERT_EQ(::stat((target + "/base/1/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000000);
}

TEST_F(RepositoryTest, RestoreReportsAFileItCannotCreateByPath) {
  auto repo = init_repo();
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 40; ++i) files.emplace_back("base/f" + std::to_string(i), random_data(5000 + i, 30 + i));
  files.emplace_back("base/empty", "");
  ASSERT_TRUE(write_set(*repo, "many", files).ok());
  for (const char* blocked : {"base/f17", "base/empty"}) {
    const std::string target = dir_ + "/blocked-" + std::string(blocked).substr(5);
    ASSERT_TRUE(core::make_dirs(target + "/" + blocked).ok());  // a directory where the file goes
    auto restored = repo->restore_set("many", target, {.parallelism = 4});
    ASSERT_FALSE(restored.ok()) << blocked;
    EXPECT_NE(restored.error().message.find(target + "/" + blocked), std::string::npos) << restored.error().message;
  }
}

TEST_F(RepositoryTest, DirectoryEntriesRestoreAsDirectoriesEvenWhenEmpty) {
  auto repo = init_repo();
  auto set = repo->begin_set("dirs");
  ASSERT_TRUE(set.ok());
  for (const char* d : {"data", "data/pg_notify"}) {
    auto w = (*set)->add_stream(d, FileMeta{0, kModeDirectory | 0750, 1600000000000});
    ASSERT_TRUE(w.ok() && (*w)->close().ok());
  }
  auto f = (*set)->add_stream("data/PG_VERSION", FileMeta{3, 0600, 1600000000000});
  ASSERT_TRUE((*f)->write("15\n").ok() && (*f)->close().ok());
  ASSERT_TRUE((*set)->commit({}).ok());
  const std::string target = dir_ + "/restored";
  ASSERT_TRUE(repo->restore_set("dirs", target).ok());
  struct stat st {};
  ASSERT_EQ(::stat((target + "/data/pg_notify").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(::stat((target + "/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000) << "directory mtimes are set after their entries exist";
  EXPECT_EQ(*core::read_file(target + "/data/PG_VERSION"), "15\n");
}

TEST_F(RepositoryTest, ManifestKeepsEngineMetadataAndStreamMeta) {
  auto repo = init_repo();
  ASSERT_TRUE(write_set(*repo, "m", {{"x", "hello"}}).ok());
  auto m = open_repo()->load_manifest("m");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->engine_metadata.at("engine").as_string(), "test");
  EXPECT_EQ(m->streams[0].meta.size, 5u);
  EXPECT_EQ(m->streams[0].meta.mtime_ms, 1700000000123);
  EXPECT_EQ(open_repo()->load_manifest("absent").error().code, "InvalidJobId");
}

TEST_F(RepositoryTest, SetIdsAreUniqueAndListed) {
  auto repo = init_repo();
  ASSERT_TRUE(write_set(*repo, "b", {{"x", "1"}}).ok());
  ASSERT_TRUE(write_set(*repo, "a", {{"x", "2"}}).ok());
  EXPECT_FALSE(repo->begin_set("a").ok());
  EXPECT_EQ(*repo->list_sets(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(RepositoryTest, WrongPassphraseIsAClearError) {
  init_repo();
  auto r = Repository::open(backend(), passphrase("wrong"), small_options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("wrong passphrase or key file"), std::string::npos) << r.error().message;
}

TEST_F(RepositoryTest, OpeningADirectoryWithoutRepositoryIsNotFound) {
  auto r = Repository::open(backend(), passphrase(), small_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NotFound");
  init_repo();
  EXPECT_FALSE(Repository::init(backend(), passphrase(), small_options()).ok()) << "init twice must fail";
}

TEST_F(RepositoryTest, KeySlotsCanBeAddedListedRemovedAndExported) {
  auto repo = init_repo();
  ASSERT_TRUE(write_set(*repo, "k", {{"x", "secret data"}}).ok());
  const std::string keyfile = dir_ + "/key.bin";
  ASSERT_TRUE(core::write_file_durable(keyfile, random_data(64, 1), 0600).ok());
  auto added = repo->add_key(KeySource{std::nullopt, keyfile}, "dr-site");
  ASSERT_TRUE(added.ok());
  auto keys = repo->list_keys();
  ASSERT_EQ(keys->size(), 2u);
  auto by_file = Repository::open(backend(), KeySource{std::nullopt, keyfile}, small_options());
  ASSERT_TRUE(by_file.ok());
  EXPECT_EQ(read_all(**by_file, "k", "x"), "secret data");

  std::string first_slot;
  for (const auto& k : *keys)
    if (k.slot_id != added->slot_id) first_slot = k.slot_id;
  ASSERT_TRUE(repo->remove_key(first_slot).ok());
  EXPECT_FALSE(Repository::open(backend(), passphrase(), small_options()).ok()) << "removed slot still opens";
  EXPECT_FALSE(repo->remove_key(added->slot_id).ok()) << "the last slot must stay";

  const std::string exported = dir_ + "/master.json";
  ASSERT_TRUE(core::write_file_durable(exported, repo->export_key(), 0600).ok());
  auto by_export = Repository::open(backend(), KeySource{std::nullopt, exported}, small_options());
  ASSERT_TRUE(by_export.ok());
  EXPECT_EQ(read_all(**by_export, "k", "x"), "secret data");
}

TEST_F(RepositoryTest, StatsReportDedup) {
  auto repo = init_repo();
  const auto data = random_data(400000, 30);
  ASSERT_TRUE(write_set(*repo, "one", {{"d", data}}).ok());
  ASSERT_TRUE(write_set(*repo, "two", {{"d", data}}).ok());
  auto s = repo->stats();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->sets, 2u);
  EXPECT_EQ(s->logical_bytes, 2 * data.size());
  EXPECT_EQ(s->unique_bytes, data.size());
  EXPECT_GT(s->dedup_ratio, 2.0);  // two copies, and the data compresses
}

TEST_F(RepositoryTest, EveryCompressionKindRestores) {
  for (const char* c : {"none", "lz4", "zstd:1"}) {
    auto o = small_options();
    o.compression = *parse_compression(c);
    std::filesystem::remove_all(repo_dir());
    auto repo = init_repo(o);
    const auto data = random_data(100000, 40);
    ASSERT_TRUE(write_set(*repo, "c", {{"d", data}}).ok());
    EXPECT_EQ(read_all(*open_repo(), "c", "d"), data) << c;
  }
}

TEST_F(RepositoryTest, AbortedSetLeavesNoManifestAndPruneRemovesItsPacks) {
  auto repo = init_repo();
  {
    auto set = repo->begin_set("gone");
    auto w = (*set)->add_stream("d", {});
    ASSERT_TRUE((*w)->write(random_data(300000, 50)).ok());
    ASSERT_TRUE((*w)->close().ok());
    (*set)->abort();
  }
  EXPECT_TRUE(repo->list_sets()->empty());
  auto pruned = repo->prune();
  ASSERT_TRUE(pruned.ok());
  EXPECT_GT(pruned->packs_deleted, 0u);
  EXPECT_TRUE(repo->backend().list("data/")->empty());
}

}  // namespace
}  // namespace opendbs::repo
