// Which part of a file a Range / If-Range request gets (RFC 9110 §14.1.2, §13.1.5).
#include "http/byte_range.h"

#include <gtest/gtest.h>

namespace opendbs::http {
namespace {

const FileValidators kValidators = file_validators(1000, 1700000000, 5);

RangeAnswer answer(std::string_view range, std::string_view if_range = "") {
  return answer_range(range, if_range, 1000, kValidators);
}

void expect_partial(const RangeAnswer& a, std::uint64_t first, std::uint64_t length) {
  EXPECT_EQ(a.kind, RangeAnswer::partial);
  EXPECT_EQ(a.first, first);
  EXPECT_EQ(a.length, length);
}

TEST(ByteRange, AClosedRangeIsServedAndClampedToTheEnd) {
  expect_partial(answer("bytes=0-99"), 0, 100);
  expect_partial(answer("bytes=990-999"), 990, 10);
  expect_partial(answer("bytes=990-5000"), 990, 10);
  expect_partial(answer("Bytes = 7-7 "), 7, 1);
  expect_partial(answer("bytes=5-99999999999999999999999"), 5, 995);
}

TEST(ByteRange, AnOpenRangeRunsToTheEnd) { expect_partial(answer("bytes=400-"), 400, 600); }

TEST(ByteRange, ASuffixRangeIsTheLastBytes) {
  expect_partial(answer("bytes=-100"), 900, 100);
  expect_partial(answer("bytes=-5000"), 0, 1000);
}

TEST(ByteRange, ARangeStartingAtOrPastTheEndIsUnsatisfiable) {
  EXPECT_EQ(answer("bytes=1000-").kind, RangeAnswer::unsatisfiable);
  EXPECT_EQ(answer("bytes=1000-2000").kind, RangeAnswer::unsatisfiable);
  EXPECT_EQ(answer("bytes=-0").kind, RangeAnswer::unsatisfiable);
  EXPECT_EQ(answer_range("bytes=0-", "", 0, kValidators).kind, RangeAnswer::unsatisfiable);
  EXPECT_EQ(content_range(answer("bytes=1000-"), 1000), "bytes */1000");
}

TEST(ByteRange, MalformedAndMultipleRangesAreIgnored) {
  for (const char* header : {"", "bytes=", "bytes=-", "bytes=5", "bytes=9-3", "bytes=a-b", "bytes=1-2x",
                             "bytes=+1-2", "items=0-9", "bytes 0-9", "bytes=0-9,20-29", "bytes=0-9, 20-"})
    EXPECT_EQ(answer(header).kind, RangeAnswer::whole) << header;
}

TEST(ByteRange, ContentRangeNamesTheBytesSentAndTheSize) {
  EXPECT_EQ(content_range(answer("bytes=10-19"), 1000), "bytes 10-19/1000");
  EXPECT_EQ(content_range(answer("bytes=-1"), 1000), "bytes 999-999/1000");
}

TEST(ByteRange, IfRangeWithTheCurrentTagOrDateKeepsTheRange) {
  expect_partial(answer("bytes=10-", kValidators.etag), 10, 990);
  expect_partial(answer("bytes=10-", kValidators.last_modified), 10, 990);
}

TEST(ByteRange, IfRangeWithAnotherTagOrDateAsksForTheWholeFile) {
  const std::string weak = "W/" + kValidators.etag;
  for (const std::string& validator :
       {std::string("\"other\""), weak, std::string("Tue, 14 Nov 2023 22:13:21 GMT"), std::string("junk")})
    EXPECT_EQ(answer("bytes=10-", validator).kind, RangeAnswer::whole) << validator;
  EXPECT_EQ(answer("bytes=5000-", "\"other\"").kind, RangeAnswer::whole) << "no 416 when If-Range fails";
}

TEST(ByteRange, ValidatorsAreAStrongTagAndAnHttpDate) {
  EXPECT_EQ(kValidators.last_modified, "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_TRUE(kValidators.etag.starts_with('"') && kValidators.etag.ends_with('"')) << kValidators.etag;
  EXPECT_NE(file_validators(1000, 1700000000, 6).etag, kValidators.etag) << "a rewrite changes the tag";
  EXPECT_NE(file_validators(1001, 1700000000, 5).etag, kValidators.etag);
}

}  // namespace
}  // namespace opendbs::http
