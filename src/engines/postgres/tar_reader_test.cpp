#include "engines/postgres/tar_reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

namespace opendbs::engines::postgres {
namespace {

// A ustar member header as PostgreSQL's tarCreateHeader writes it.
std::string header(const std::string& name, char type, uint64_t size, uint32_t mode = 0600, int64_t mtime = 1700000000,
                   const std::string& link = "") {
  std::string h(512, '\0');
  auto put = [&](size_t at, const std::string& s) { h.replace(at, s.size(), s); };
  char buf[32];
  put(0, name);
  std::snprintf(buf, sizeof buf, "%07o", mode);
  put(100, buf);
  put(108, "0000000");
  put(116, "0000000");
  std::snprintf(buf, sizeof buf, "%011llo", static_cast<unsigned long long>(size));
  put(124, buf);
  std::snprintf(buf, sizeof buf, "%011llo", static_cast<unsigned long long>(mtime));
  put(136, buf);
  put(148, "        ");
  h[156] = type;
  put(157, link);
  put(257, "ustar");
  put(263, "00");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(buf, sizeof buf, "%06o", sum);
  put(148, buf);
  h[154] = '\0';
  return h;
}

std::string member(const std::string& name, const std::string& data) {
  return header(name, '0', data.size()) + data + std::string((512 - data.size() % 512) % 512, '\0');
}

struct Recorded {
  TarEntry entry;
  std::string data;
  bool ended = false;
};

class RecordingSink : public TarSink {
 public:
  core::Status begin(const TarEntry& e) override {
    entries.push_back({e, "", false});
    return {};
  }
  core::Status data(std::string_view b) override {
    entries.back().data.append(b);
    return {};
  }
  core::Status end() override {
    entries.back().ended = true;
    return {};
  }
  std::vector<Recorded> entries;
};

std::string sample_archive() {
  return header("base", '5', 0, 0700) + member("base/1/1259", std::string(9000, 'x')) + member("PG_VERSION", "15\n") +
         member("empty", "") + header("pg_tblspc/16385", '2', 0, 0777, 1700000000, "/srv/space") +
         std::string(1024, '\0');
}

TEST(TarReader, StreamsEveryMemberWithItsMetadataWhateverThePieceSizes) {
  const std::string tar = sample_archive();
  for (size_t piece : {size_t{1}, size_t{7}, size_t{512}, size_t{4096}, tar.size()}) {
    RecordingSink sink;
    TarReader reader(sink);
    for (size_t at = 0; at < tar.size(); at += piece) ASSERT_TRUE(reader.feed(std::string_view(tar).substr(at, piece)).ok());
    ASSERT_TRUE(reader.finish().ok());
    ASSERT_EQ(sink.entries.size(), 5u) << "piece " << piece;
    EXPECT_EQ(sink.entries[0].entry.name, "base");
    EXPECT_EQ(sink.entries[0].entry.type, '5');
    EXPECT_EQ(sink.entries[0].entry.mode, 0700u);
    EXPECT_EQ(sink.entries[1].entry.name, "base/1/1259");
    EXPECT_EQ(sink.entries[1].data, std::string(9000, 'x'));
    EXPECT_EQ(sink.entries[1].entry.mtime_s, 1700000000);
    EXPECT_EQ(sink.entries[2].data, "15\n");
    EXPECT_TRUE(sink.entries[3].ended);
    EXPECT_EQ(sink.entries[3].data, "");
    EXPECT_EQ(sink.entries[4].entry.type, '2');
    EXPECT_EQ(sink.entries[4].entry.link_target, "/srv/space");
    for (const auto& e : sink.entries) EXPECT_TRUE(e.ended) << e.entry.name;
  }
}

TEST(TarReader, RejectsAHeaderWithAWrongChecksum) {
  std::string tar = member("PG_VERSION", "15\n");
  tar[0] = 'Q';
  RecordingSink sink;
  TarReader reader(sink);
  auto st = reader.feed(tar);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "Corrupt");
}

TEST(TarReader, ReportsAnArchiveThatEndsInsideAMember) {
  const std::string tar = member("base/1/1259", std::string(9000, 'x'));
  RecordingSink sink;
  TarReader reader(sink);
  ASSERT_TRUE(reader.feed(std::string_view(tar).substr(0, 3000)).ok());
  EXPECT_FALSE(reader.finish().ok());
}

}  // namespace
}  // namespace opendbs::engines::postgres
