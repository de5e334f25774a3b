#include "engines/postgres/large_objects.h"

#include <gtest/gtest.h>

#include "core/errors.h"

namespace opendbs::engines::postgres {
namespace {

// Three objects as a backup writes them: an empty one, a binary one with line ends, a text one.
std::string three_objects() {
  const std::string binary("\n\0\xff 12 3\n", 9);
  return std::string(kLargeObjectsMagic) + large_object_record_line(16384, 0) +
         large_object_record_line(16385, binary.size()) + binary + large_object_record_line(4294967295u, 5) + "hello";
}

// What a reader reports, as text: "begin oid length", "data oid offset bytes", "end oid" lines.
struct Recorder {
  std::string events;
  LargeObjectStreamReader::Sink sink() {
    return {[this](uint32_t oid, uint64_t length) {
              events += "begin " + std::to_string(oid) + " " + std::to_string(length) + "\n";
              return core::Status{};
            },
            [this](uint32_t oid, uint64_t offset, std::string_view bytes) {
              EXPECT_FALSE(bytes.empty());
              for (size_t i = 0; i < bytes.size(); ++i)
                events += "data " + std::to_string(oid) + " " + std::to_string(offset + i) + " " +
                          std::to_string(static_cast<unsigned char>(bytes[i])) + "\n";
              return core::Status{};
            },
            [this](uint32_t oid) {
              events += "end " + std::to_string(oid) + "\n";
              return core::Status{};
            }};
  }
};

std::string read_in_pieces(const std::string& stream, size_t piece, core::Status* finished = nullptr) {
  Recorder recorder;
  LargeObjectStreamReader reader(recorder.sink());
  for (size_t at = 0; at < stream.size(); at += piece) {
    auto st = reader.feed(std::string_view(stream).substr(at, piece));
    if (!st.ok()) return "error: " + st.error().message;
  }
  auto st = reader.finish();
  if (finished) *finished = st;
  return recorder.events + "objects " + std::to_string(reader.objects());
}

TEST(LargeObjectStream, ReadsTheSameObjectsWhereverThePiecesOfTheStreamEnd) {
  const std::string whole = read_in_pieces(three_objects(), 1 << 20);
  EXPECT_TRUE(whole.starts_with("begin 16384 0\nend 16384\nbegin 16385 9\ndata 16385 0 10\n")) << whole;
  EXPECT_NE(whole.find("data 16385 1 0\n"), std::string::npos);
  EXPECT_NE(whole.find("data 16385 2 255\n"), std::string::npos);
  EXPECT_NE(whole.find("end 16385\nbegin 4294967295 5\ndata 4294967295 0 104\n"), std::string::npos);
  EXPECT_TRUE(whole.ends_with("data 4294967295 4 111\nend 4294967295\nobjects 3"));
  for (size_t piece : {1, 2, 7, 30}) EXPECT_EQ(read_in_pieces(three_objects(), piece), whole) << piece;
}

TEST(LargeObjectStream, ATruncatedOrForeignStreamIsCorrupt) {
  const std::string stream = three_objects();
  for (size_t cut : {size_t{3}, size_t{30}, stream.size() - 1}) {
    core::Status st;
    read_in_pieces(stream.substr(0, cut), 4, &st);
    ASSERT_FALSE(st.ok()) << cut;
    EXPECT_EQ(st.error().code, core::errors::corrupt("").code);
  }
  EXPECT_NE(read_in_pieces("COPY t FROM stdin;\n", 5).find("error: not a large object stream"), std::string::npos);
  EXPECT_NE(read_in_pieces(std::string(kLargeObjectsMagic) + "12x 3\nabc", 5).find("bad record line '12x 3'"),
            std::string::npos);
  EXPECT_NE(read_in_pieces(std::string(kLargeObjectsMagic) + std::string(100, '1'), 5).find("too long"),
            std::string::npos);
  core::Status st;
  read_in_pieces(std::string(kLargeObjectsMagic), 5, &st);
  EXPECT_TRUE(st.ok()) << "a stream of no objects is complete";
}

}  // namespace
}  // namespace opendbs::engines::postgres
