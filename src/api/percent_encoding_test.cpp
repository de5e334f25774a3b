#include "api/percent_encoding.h"

#include <gtest/gtest.h>

using namespace opendbs::api;

TEST(PercentEncode, LeavesOnlyUnreservedCharactersLiteral) {
  EXPECT_EQ(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(PercentEncode, EncodesSubDelimitersThatEncodeUriComponentLeaves) {
  EXPECT_EQ(percent_encode("!'()*"), "%21%27%28%29%2A");
}

TEST(PercentEncode, EncodesSpaceAsPercent20AndPlusAsPercent2B) { EXPECT_EQ(percent_encode("a b+c"), "a%20b%2Bc"); }

TEST(PercentEncode, EncodesReservedCharactersWithUpperCaseHex) {
  EXPECT_EQ(percent_encode("/:=&?#[]@,;$%"), "%2F%3A%3D%26%3F%23%5B%5D%40%2C%3B%24%25");
  EXPECT_EQ(percent_encode("\x7f\xff"), "%7F%FF");
  EXPECT_EQ(percent_encode(std::string("a\0b", 3)), "a%00b");
}

TEST(PercentEncode, EncodesEachUtf8ByteOfNonAsciiText) {
  EXPECT_EQ(percent_encode("测试"), "%E6%B5%8B%E8%AF%95");
  EXPECT_EQ(percent_encode("\xF0\x9F\x98\x80"), "%F0%9F%98%80");  // U+1F600, four bytes
}

TEST(PercentDecode, AcceptsEitherHexCaseAndKeepsLiteralBytes) {
  EXPECT_EQ(*percent_decode("%2a%2A~*!'()", false), "**~*!'()");
  EXPECT_EQ(*percent_decode("%E6%B5%8B", false), "测");
}

TEST(PercentDecode, TreatsPlusAsSpaceOnlyWhenAsked) {
  EXPECT_EQ(*percent_decode("a+b%2B", true), "a b+");
  EXPECT_EQ(*percent_decode("a+b%2B", false), "a+b+");
}

TEST(PercentDecode, RejectsTruncatedAndNonHexEscapesNamingThem) {
  for (std::string_view bad : {"%", "%4", "abc%4", "%G1", "%1G", "%%41"}) {
    auto r = percent_decode(bad, true);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "BadRequest");
    EXPECT_NE(r.error().message.find("Malformed percent-encoding"), std::string::npos);
  }
  EXPECT_NE(percent_decode("x%G1y", true).error().message.find("\"%G1\""), std::string::npos);
}

TEST(PercentEncoding, RoundTripsEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(*percent_decode(percent_encode(all), true), all);
}

TEST(ParseUrlencoded, KeepsWireOrderAndDecodesNamesAndValues) {
  auto r = parse_urlencoded("b=2&a=x+y%20z&N%61me=%7E&c=");
  ASSERT_TRUE(r.ok());
  ParamList expected{{"b", "2"}, {"a", "x y z"}, {"Name", "~"}, {"c", ""}};
  EXPECT_EQ(*r, expected);
}

TEST(ParseUrlencoded, SkipsEmptySegmentsAndReadsBareNamesAsEmptyValues) {
  auto r = parse_urlencoded("&a=1&&flag&b=c=d&");
  ASSERT_TRUE(r.ok());
  ParamList expected{{"a", "1"}, {"flag", ""}, {"b", "c=d"}};
  EXPECT_EQ(*r, expected);
  EXPECT_TRUE(parse_urlencoded("")->empty());
}

TEST(ParseUrlencoded, KeepsDuplicateNamesForTheCallerToJudge) {
  auto r = parse_urlencoded("a=1&a=2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 2u);
}

TEST(ParseUrlencoded, LeavesTeaStyleLiteralSubDelimitersAlone) {
  auto r = parse_urlencoded("ClientToken=tok-~*&Name=(v1)!%27");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].second, "tok-~*");
  EXPECT_EQ((*r)[1].second, "(v1)!'");
}

TEST(ParseUrlencoded, NamesTheParameterWhoseValueIsMalformed) {
  auto r = parse_urlencoded("ok=1&BackupPlanName=abc%zz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "BadRequest");
  EXPECT_NE(r.error().message.find("BackupPlanName"), std::string::npos);
  EXPECT_NE(r.error().message.find("%zz"), std::string::npos);
  EXPECT_FALSE(parse_urlencoded("%zz=1").ok());
}
