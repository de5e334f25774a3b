#include "engines/postgres/lz4_frame_reader.h"

#include <gtest/gtest.h>
#include <lz4frame.h>

#include <random>

namespace opendbs::engines::postgres {
namespace {

std::string lz4_frame(const std::string& plain) {
  std::string out(LZ4F_compressFrameBound(plain.size(), nullptr), '\0');
  out.resize(LZ4F_compressFrame(out.data(), out.size(), plain.data(), plain.size(), nullptr));
  return out;
}

std::string sample(size_t n) {
  std::mt19937 rng(5);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 7 == 0 ? rng() : 'a' + i % 13);
  return s;
}

std::string decode(const std::string& compressed, size_t piece, core::Status* finished = nullptr) {
  Lz4FrameReader reader;
  std::string out;
  for (size_t at = 0; at < compressed.size(); at += piece) {
    auto st = reader.feed(std::string_view(compressed).substr(at, piece), [&](std::string_view b) {
      out.append(b);
      return core::Status{};
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
  if (finished) *finished = reader.finish();
  return out;
}

TEST(Lz4FrameReader, DecodesFramesFedInAnyPieces) {
  const auto plain = sample(3 << 20);
  const auto compressed = lz4_frame(plain);
  for (size_t piece : {size_t{1}, size_t{4096}, size_t{65536}, compressed.size()}) {
    if (piece == 1 && compressed.size() > (1 << 20)) continue;  // byte by byte only on small input
    EXPECT_EQ(decode(compressed, piece), plain) << piece;
  }
  const auto small = sample(5000);
  EXPECT_EQ(decode(lz4_frame(small), 1), small);
}

TEST(Lz4FrameReader, ConsecutiveFramesFollowEachOther) {
  const auto a = sample(100000), b = sample(70000);
  core::Status finished;
  EXPECT_EQ(decode(lz4_frame(a) + lz4_frame(b), 8192, &finished), a + b);
  EXPECT_TRUE(finished.ok());
}

TEST(Lz4FrameReader, TruncatedOrDamagedStreamsAreErrors) {
  auto compressed = lz4_frame(sample(200000));
  core::Status finished;
  decode(compressed.substr(0, compressed.size() / 2), 4096, &finished);
  EXPECT_FALSE(finished.ok());

  compressed[4] ^= 0x40;  // the frame descriptor: its checksum no longer matches
  Lz4FrameReader reader;
  auto st = reader.feed(compressed, [](std::string_view) { return core::Status{}; });
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace opendbs::engines::postgres
