// Pack, index and manifest encodings (docs/REPOSITORY.md §5–§7).
#include <gtest/gtest.h>

#include "repo/index.h"
#include "repo/manifest.h"
#include "repo/pack.h"

namespace opendbs::repo {
namespace {

MasterKey test_key() { return new_master_key(std::string(64, 'b'), {1024, 4096, 16384}); }

std::string id_of(char c) { return std::string(32, c); }

TEST(Pack, HeaderListsEveryBlobAtItsOffset) {
  const auto key = test_key();
  PackBuilder b;
  b.add(id_of('1'), "first-blob", 100);
  b.add(id_of('2'), "second", 200);
  auto bytes = b.finish(key);
  EXPECT_TRUE(b.empty());
  auto entries = parse_pack(key, bytes);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].id, id_of('2'));
  EXPECT_EQ((*entries)[1].offset, 10u);
  EXPECT_EQ((*entries)[1].stored_len, 6u);
  EXPECT_EQ((*entries)[1].raw_len, 200u);
  EXPECT_EQ(bytes.substr(0, 10), "first-blob");
}

TEST(Pack, TruncatedOrFlippedPackHeaderIsCorrupt) {
  const auto key = test_key();
  PackBuilder b;
  b.add(id_of('1'), "blob", 4);
  const auto bytes = b.finish(key);
  EXPECT_EQ(parse_pack(key, bytes.substr(0, bytes.size() - 1)).error().code, "Corrupt");
  for (size_t i = 4; i < bytes.size(); ++i) {
    auto bad = bytes;
    bad[i] ^= 0x40;
    EXPECT_FALSE(parse_pack(key, bad).ok()) << "flip at " << i;
  }
}

TEST(IndexFile, RoundTripsAndMerges) {
  const auto key = test_key();
  std::vector<IndexPack> packs{{std::string(64, 'c'), {{id_of('1'), 0, 10, 20}, {id_of('2'), 10, 5, 5}}},
                               {std::string(64, 'd'), {{id_of('3'), 0, 7, 9}}}};
  auto decoded = decode_index_file(key, encode_index_file(key, packs));
  ASSERT_TRUE(decoded.ok());
  ChunkIndex index;
  for (const auto& p : *decoded) index.add(p);
  EXPECT_EQ(index.size(), 3u);
  auto loc = index.find(id_of('2'));
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->pack_id, std::string(64, 'c'));
  EXPECT_EQ(loc->offset, 10u);
  EXPECT_EQ(index.raw_bytes(), 34u);
  EXPECT_FALSE(index.find(id_of('9')));
}

TEST(IndexFile, AnyFlipIsCorrupt) {
  const auto key = test_key();
  const auto sealed = encode_index_file(key, {{std::string(64, 'c'), {{id_of('1'), 0, 10, 20}}}});
  for (size_t i = 0; i < sealed.size(); ++i) {
    auto bad = sealed;
    bad[i] ^= 0x02;
    auto r = decode_index_file(key, bad);
    ASSERT_FALSE(r.ok()) << "flip at " << i;
    EXPECT_EQ(r.error().code, "Corrupt");
  }
}

Manifest sample_manifest() {
  Manifest m;
  m.set_id = "set-1";
  m.created_ms = 1700000000000;
  m.engine_metadata = boost::json::object{{"start_lsn", "0/3000028"}};
  m.streams.push_back(StreamEntry{"base/1/1259", FileMeta{30, 0600, 1234}, {{id_of('1'), 10}, {id_of('2'), 20}}});
  m.streams.push_back(StreamEntry{"empty", FileMeta{0, 0644, 0}, {}});
  return m;
}

TEST(ManifestFile, RoundTripsStreamsAndEngineMetadata) {
  const auto key = test_key();
  auto m = decode_manifest(key, "set-1", encode_manifest(key, sample_manifest()));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->engine_metadata.at("start_lsn").as_string(), "0/3000028");
  ASSERT_EQ(m->streams.size(), 2u);
  EXPECT_EQ(m->streams[0].meta.mode, 0600u);
  EXPECT_EQ(m->streams[0].chunks[1].id, id_of('2'));
  EXPECT_EQ(m->find_stream("empty")->meta.size, 0u);
}

// A SQL_ASCII database's names are whatever bytes its users wrote (here LATIN1's é): the manifest keeps
// them exactly, in stream names and engine metadata, so that the set reads back and restores them.
TEST(ManifestFile, KeepsNamesThatAreNotUtf8ByteForByte) {
  const auto key = test_key();
  auto m = sample_manifest();
  const std::string latin1 = "caf\xe9";
  m.engine_metadata["database"] = latin1;
  m.streams.push_back(StreamEntry{"db/" + latin1, FileMeta{0, 0600, 0}, {}});
  auto back = decode_manifest(key, "set-1", encode_manifest(key, m));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(std::string(back->engine_metadata.at("database").as_string()), latin1);
  EXPECT_NE(back->find_stream("db/" + latin1), nullptr);
}

TEST(ManifestFile, IsBoundToItsSetId) {
  const auto key = test_key();
  auto m = decode_manifest(key, "set-2", encode_manifest(key, sample_manifest()));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, "Corrupt");
}

TEST(ManifestFile, ChunkLengthsMustSumToSize) {
  const auto key = test_key();
  auto bad = sample_manifest();
  bad.streams[0].meta.size = 31;
  auto m = decode_manifest(key, "set-1", encode_manifest(key, bad));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("sum to 30"), std::string::npos);
}

TEST(Names, SetIdsAndStreamNamesCannotEscape) {
  EXPECT_TRUE(validate_set_id("20240101-abc_1.x").ok());
  EXPECT_FALSE(validate_set_id("..").ok());
  EXPECT_FALSE(validate_set_id("a/b").ok());
  EXPECT_FALSE(validate_set_id("").ok());
  EXPECT_TRUE(validate_stream_name("base/1/1259").ok());
  EXPECT_FALSE(validate_stream_name("../etc/passwd").ok());
  EXPECT_FALSE(validate_stream_name("/abs").ok());
  EXPECT_FALSE(validate_stream_name("a//b").ok());
  EXPECT_FALSE(validate_stream_name("a/./b").ok());
}

}  // namespace
}  // namespace opendbs::repo
