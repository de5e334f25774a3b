#include "repo/chunker.h"

#include <gtest/gtest.h>

#include <random>

namespace opendbs::repo {
namespace {

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<std::string> cut_all(const Chunker& chunker, std::string_view data, size_t piece,
                                 Cutting cutting = Cutting::kContentDefined) {
  StreamChunker stream(chunker, cutting);
  std::vector<std::string> chunks;
  auto emit = [&](std::string&& c) {
    chunks.push_back(std::move(c));
    return core::Status{};
  };
  for (size_t at = 0; at < data.size(); at += piece) EXPECT_TRUE(stream.push(data.substr(at, piece), emit).ok());
  EXPECT_TRUE(stream.finish(emit).ok());
  return chunks;
}

const ChunkerParams kSmall{1024, 4096, 16384};

TEST(Chunker, ChunksConcatenateToTheInputAndRespectSizeLimits) {
  Chunker chunker(kSmall);
  const auto data = random_bytes(1 << 20, 1);
  auto chunks = cut_all(chunker, data, 1 << 20);
  std::string joined;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i + 1 < chunks.size()) {
      EXPECT_GE(chunks[i].size(), kSmall.min_size);
    }
    EXPECT_LE(chunks[i].size(), kSmall.max_size);
    joined += chunks[i];
  }
  EXPECT_EQ(joined, data);
  // Normalized chunking keeps the mean near avg_size.
  const double mean = static_cast<double>(data.size()) / static_cast<double>(chunks.size());
  EXPECT_GT(mean, kSmall.avg_size * 0.6);
  EXPECT_LT(mean, kSmall.avg_size * 1.6);
}

TEST(Chunker, CutsDoNotDependOnHowTheStreamIsPushed) {
  Chunker chunker(kSmall);
  const auto data = random_bytes(300000, 2);
  const auto whole = cut_all(chunker, data, data.size());
  EXPECT_EQ(cut_all(chunker, data, 1), whole);
  EXPECT_EQ(cut_all(chunker, data, 777), whole);
  EXPECT_EQ(cut_all(chunker, data, 16384), whole);
}

TEST(Chunker, FixedCuttingCutsEveryAvgSizeBytesWhateverThePieces) {
  Chunker chunker(kSmall);
  const auto data = random_bytes(10 * kSmall.avg_size + 123, 4);
  const auto whole = cut_all(chunker, data, data.size(), Cutting::kFixed);
  ASSERT_EQ(whole.size(), 11u);
  std::string joined;
  for (size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(whole[i].size(), i + 1 < whole.size() ? kSmall.avg_size : 123u) << i;
    joined += whole[i];
  }
  EXPECT_EQ(joined, data);
  EXPECT_EQ(cut_all(chunker, data, 1000, Cutting::kFixed), whole);
  EXPECT_EQ(cut_all(chunker, data, 3 * kSmall.avg_size + 1, Cutting::kFixed), whole);
  EXPECT_TRUE(cut_all(chunker, "", 1, Cutting::kFixed).empty());
}

TEST(Chunker, FixedCuttingKeepsEveryUntouchedBlockOfAPageFile) {
  Chunker chunker(kSmall);
  auto data = random_bytes(64 * kSmall.avg_size, 5);
  const auto before = cut_all(chunker, data, 8192, Cutting::kFixed);
  data[20 * kSmall.avg_size + 100] ^= 1;  // one page changed in place
  const auto after = cut_all(chunker, data, 8192, Cutting::kFixed);
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i] == after[i], i != 20) << i;
}

// The streaming chunker resumes its search between pushes; its cuts must be find_cut's over the
// whole input, for pieces smaller and larger than its internal feed size.
TEST(Chunker, StreamCutsEqualFindCutOverTheWholeInput) {
  for (const ChunkerParams params : {kSmall, default_chunker_params()}) {
    Chunker chunker(params);
    const auto data = random_bytes(6 * params.max_size, 3);
    std::vector<std::string> reference;
    for (size_t at = 0; at < data.size();) {
      const size_t cut = chunker.find_cut(reinterpret_cast<const uint8_t*>(data.data()) + at, data.size() - at);
      reference.push_back(data.substr(at, cut));
      at += cut;
    }
    for (size_t piece : {size_t{1000}, size_t{65536}, size_t{100000}, data.size()})
      EXPECT_EQ(cut_all(chunker, data, piece), reference) << "pieces of " << piece;
  }
}

TEST(Chunker, InsertionChangesOnlyTheChunksNearIt) {
  Chunker chunker(kSmall);
  const auto data = random_bytes(1 << 20, 3);
  std::string edited = data;
  edited.insert(500000, "a few inserted bytes");
  const auto before = cut_all(chunker, data, 65536);
  const auto after = cut_all(chunker, edited, 65536);
  size_t shared = 0;
  std::multiset<std::string> old_chunks(before.begin(), before.end());
  for (const auto& c : after) shared += old_chunks.count(c) > 0;
  EXPECT_GE(shared + 3, after.size()) << "more than 3 chunks changed after one insertion";
}

TEST(Chunker, ConstantInputCutsAtMaxSize) {
  Chunker chunker(kSmall);
  const std::string zeros(100000, '\0');
  const auto chunks = cut_all(chunker, zeros, 4096);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_EQ(chunks[i].size(), kSmall.max_size);
}

TEST(Chunker, GoldenCutPointsPinTheFormat) {
  // The gear table and masks are part of the format (§4): these cut points must never change.
  Chunker chunker(kSmall);
  const auto chunks = cut_all(chunker, random_bytes(100000, 42), 100000);
  std::vector<size_t> sizes;
  for (const auto& c : chunks) sizes.push_back(c.size());
  EXPECT_EQ(::testing::PrintToString(sizes),
            "{ 4101, 5409, 5567, 5568, 5979, 5495, 3613, 4878, 3277, 4342, 4778, 2790, 4597, 5115, 4354, 5475, "
            "7279, 4330, 5016, 5866, 2171 }");
}

TEST(ChunkerParams, RejectsAvgThatIsNotAPowerOfTwoAndBadOrder) {
  EXPECT_FALSE(validate_chunker_params({1024, 3000, 16384}).ok());
  EXPECT_FALSE(validate_chunker_params({8192, 4096, 16384}).ok());
  EXPECT_FALSE(validate_chunker_params({1024, 4096, 4096}).ok());
  EXPECT_TRUE(validate_chunker_params(default_chunker_params()).ok());
}

}  // namespace
}  // namespace opendbs::repo
