#include "repo/keys.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "repo/blob.h"
#include "repo/test_support.h"

namespace opendbs::repo {
namespace {

using testing::passphrase;

Secret secret_of(const std::string& p) { return Secret{p, "passphrase", std::nullopt}; }

MasterKey test_key() { return new_master_key(std::string(64, 'a'), {1024, 4096, 16384}); }

TEST(KeySlot, RightPassphraseUnwrapsTheMasterKey) {
  const auto key = test_key();
  KeySlotInfo info{"", "initial", "", 1};
  const auto slot = seal_key_slot(key, secret_of("s3cret"), info, 10);
  auto opened = open_key_slot(slot, secret_of("s3cret"));
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(opened->has_value());
  EXPECT_EQ((*opened)->data_key, key.data_key);
  EXPECT_EQ((*opened)->chunk_key, key.chunk_key);
  EXPECT_EQ((*opened)->repo_id, key.repo_id);
  EXPECT_EQ(info.slot_id.size(), 16u);
}

TEST(KeySlot, WrongPassphraseIsNoKeyNotAnError) {
  KeySlotInfo info{"", "x", "", 1};
  const auto slot = seal_key_slot(test_key(), secret_of("s3cret"), info, 10);
  auto opened = open_key_slot(slot, secret_of("s3cret "));
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(opened->has_value());
}

TEST(KeySlot, TamperedSlotDoesNotOpen) {
  KeySlotInfo info{"", "x", "", 1};
  auto slot = seal_key_slot(test_key(), secret_of("s3cret"), info, 10);
  const auto at = slot.find("\"wrapped\":\"") + 14;
  slot[at] = slot[at] == 'A' ? 'B' : 'A';
  auto opened = open_key_slot(slot, secret_of("s3cret"));
  EXPECT_TRUE(!opened.ok() || !opened->has_value());
}

TEST(MasterKey, ExportRoundTrips) {
  const auto key = test_key();
  auto parsed = parse_master_key_json(master_key_json(key));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->data_key, key.data_key);
  EXPECT_EQ(parsed->chunker.avg_size, 4096u);
}

MasterKey plaintext_id_key() {
  auto key = test_key();
  key.chunk_ids = ChunkIds::kPlaintext;
  return key;
}

std::string id_of(const MasterKey& key, const std::string& compression, std::string_view raw) {
  return ChunkBlob(key, *parse_compression(compression), raw).id();
}

TEST(MasterKey, NewKeysHavePayloadIdsAndKeysWithoutTheFieldHavePlaintextIds) {
  auto parsed = parse_master_key_json(master_key_json(test_key()));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->chunk_ids, ChunkIds::kPayload);
  auto old = boost::json::parse(master_key_json(test_key())).as_object();
  old.erase("chunk_ids");
  parsed = parse_master_key_json(boost::json::serialize(old));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->chunk_ids, ChunkIds::kPlaintext);
  EXPECT_EQ(parse_master_key_json(master_key_json(*parsed))->chunk_ids, ChunkIds::kPlaintext);
  old["chunk_ids"] = "sha3";
  auto unknown = parse_master_key_json(boost::json::serialize(old));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("sha3"), std::string::npos);
}

TEST(Blob, RoundTripsWithEveryCompressionAndIdScheme) {
  const auto raw = testing::random_data(25000, 7) + std::string(25000, 'x');
  for (const auto& key : {test_key(), plaintext_id_key()}) {
    for (const char* c : {"zstd", "zstd:1", "zstd:19", "lz4", "none"}) {
      auto spec = parse_compression(c);
      ASSERT_TRUE(spec.ok());
      ChunkBlob blob(key, *spec, raw);
      auto back = open_blob(key, blob.id(), blob.seal(), raw.size());
      ASSERT_TRUE(back.ok()) << c << ": " << back.error().message;
      EXPECT_EQ(*back, raw);
    }
  }
}

TEST(Blob, ChunkIdIsKeyed) {
  for (const auto& make : {test_key, plaintext_id_key}) {
    auto a = make(), b = make();
    EXPECT_NE(id_of(a, "zstd", "same bytes"), id_of(b, "zstd", "same bytes"));
    EXPECT_EQ(id_of(a, "zstd", "same bytes"), id_of(a, "zstd", "same bytes"));
  }
}

// Payload ids deduplicate only chunks stored the same way; plaintext ids regardless of compression.
TEST(Blob, PayloadIdsDependOnTheCompressionPlaintextIdsDoNot) {
  const auto raw = std::string(20000, 'p') + testing::random_data(100, 3);
  const auto key = test_key();
  EXPECT_NE(id_of(key, "zstd:1", raw), id_of(key, "lz4", raw));
  EXPECT_NE(id_of(key, "zstd:1", raw), id_of(key, "zstd:19", raw));
  const auto old = plaintext_id_key();
  EXPECT_EQ(id_of(old, "zstd:1", raw), id_of(old, "lz4", raw));
}

TEST(Blob, AnyFlippedByteIsDetected) {
  const auto raw = testing::random_data(1000, 8) + std::string(1000, 'z');
  for (const auto& key : {test_key(), plaintext_id_key()}) {
    ChunkBlob blob(key, {}, raw);
    const auto id = blob.id();
    const auto sealed = blob.seal();
    for (size_t i = 0; i < sealed.size(); i += 7) {
      auto bad = sealed;
      bad[i] ^= 0x01;
      EXPECT_FALSE(open_blob(key, id, bad, raw.size()).ok()) << "flip at " << i;
    }
    auto other_id = id;
    other_id[0] ^= 1;
    EXPECT_FALSE(open_blob(key, other_id, sealed, raw.size()).ok()) << "blob must be bound to its id";
    EXPECT_FALSE(open_blob(key, id, sealed, raw.size() + 1).ok()) << "and to its length";
  }
}

TEST(Compression, ParsesSpecsAndRejectsNonsense) {
  EXPECT_EQ(to_string(*parse_compression("zstd")), "zstd:1");
  EXPECT_EQ(to_string(*parse_compression("zstd:7")), "zstd:7");
  EXPECT_FALSE(parse_compression("zstd:0").ok());
  EXPECT_FALSE(parse_compression("gzip").ok());
}

TEST(Compression, IncompressibleChunkIsStoredAsIs) {
  std::string scratch;
  auto stored = compress_chunk(*parse_compression("zstd"), std::string(1, 'x'), scratch);
  EXPECT_EQ(stored, std::string("\0x", 2));
}

TEST(Compression, ScratchReusedAcrossChunksKeepsEachResultExact) {
  std::string scratch;
  const auto spec = *parse_compression("zstd");
  const std::string big(100000, 'a'), small = "abcabcabcabcabcabcabcabcabcabcabc";
  for (const auto* raw : {&big, &small, &big}) {
    const std::string stored(compress_chunk(spec, *raw, scratch));
    auto back = decompress_chunk(stored, raw->size());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, *raw);
  }
}

}  // namespace
}  // namespace opendbs::repo
