#include "core/utf8.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

using namespace opendbs;
using core::is_valid_utf8;
using core::to_valid_utf8;

TEST(Utf8, WellFormedTextIsValidAndKeptExactly) {
  for (std::string_view s : {"", "plain ascii", "caf\xC3\xA9", "\xE2\x86\x92 arrow", "\xF0\x9F\x98\x80 emoji",
                             "back\\xE9slash", "\xEF\xBF\xBD"}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
    EXPECT_EQ(to_valid_utf8(s), s);
  }
  EXPECT_TRUE(is_valid_utf8(std::string_view("nul\0inside", 10)));
}

TEST(Utf8, Latin1ByteIsShownAsEscapeSoTheNameStaysReadable) {
  const std::string msg = "permission denied for database caf\xE9";
  EXPECT_FALSE(is_valid_utf8(msg));
  EXPECT_EQ(to_valid_utf8(msg), "permission denied for database caf\\xE9");
}

TEST(Utf8, CharacterCutInTheMiddleKeepsItsLeadByteVisible) {
  // "e_ü…ü" cut at byte 63 by PostgreSQL: a lone 0xC3 at the end, and before a closing quote.
  EXPECT_EQ(to_valid_utf8("e_\xC3\xBC\xC3"), "e_\xC3\xBC\\xC3");
  EXPECT_EQ(to_valid_utf8("\"e_\xC3\" does not exist"), "\"e_\\xC3\" does not exist");
  EXPECT_EQ(to_valid_utf8("\xE2\x86"), "\\xE2\\x86");          // three-byte character missing its last byte
  EXPECT_EQ(to_valid_utf8("\xF0\x9F\x98"), "\\xF0\\x9F\\x98");  // four-byte character missing its last byte
}

TEST(Utf8, IllFormedSequencesAreRefusedByteByByte) {
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), "\\xC0\\xAF");                  // overlong '/'
  EXPECT_EQ(to_valid_utf8("\xE0\x80\xAF"), "\\xE0\\x80\\xAF");          // overlong three-byte
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), "\\xED\\xA0\\x80");          // surrogate U+D800
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), "\\xF4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(to_valid_utf8("\xF5\xFF\x80"), "\\xF5\\xFF\\x80");          // never-valid bytes, stray continuation
  EXPECT_EQ(to_valid_utf8("a\x80" "b"), "a\\x80b");
  EXPECT_TRUE(is_valid_utf8(to_valid_utf8("\xC3\xC3\xA9\xFE")));
  EXPECT_EQ(to_valid_utf8("\xC3\xC3\xA9\xFE"), "\\xC3\xC3\xA9\\xFE");  // the valid é after a lone lead byte stays
}

TEST(Utf8, DocumentKeysAndValuesAreRepairedRecursively) {
  boost::json::object doc;
  doc["ok"] = "caf\xC3\xA9";
  doc["ErrMessage"] = "relation \"t\xE9st\" does not exist";
  doc["k\xE9y"] = 1;
  doc["Items"] = boost::json::array{"a\xFF", boost::json::object{{"Name", "x\xC3"}}, 2, nullptr};
  EXPECT_TRUE(core::make_valid_utf8(doc));
  EXPECT_EQ(doc.at("ok").as_string(), "caf\xC3\xA9");
  EXPECT_EQ(doc.at("ErrMessage").as_string(), "relation \"t\\xE9st\" does not exist");
  EXPECT_EQ(doc.at("k\\xE9y").as_int64(), 1);
  EXPECT_FALSE(doc.contains("k\xE9y"));
  const auto& items = doc.at("Items").as_array();
  EXPECT_EQ(items[0].as_string(), "a\\xFF");
  EXPECT_EQ(items[1].as_object().at("Name").as_string(), "x\\xC3");
  EXPECT_EQ(items[2].as_int64(), 2);
  EXPECT_TRUE(is_valid_utf8(boost::json::serialize(doc)));
  EXPECT_FALSE(core::make_valid_utf8(doc));  // a second pass finds nothing to change
}

TEST(Utf8, APrefixEndsBetweenCharacters) {
  const std::string text = std::string(19, 'a') + "\xC3\xBC" + "bb";  // 19 × a, ü, bb
  EXPECT_EQ(core::utf8_prefix(text, 20), std::string(19, 'a'));
  EXPECT_EQ(core::utf8_prefix(text, 21), std::string(19, 'a') + "\xC3\xBC");
  EXPECT_EQ(core::utf8_prefix(text, 100), text);
  EXPECT_EQ(core::utf8_prefix("\xF0\x9F\x98\x80x", 3), "");
  EXPECT_EQ(core::utf8_prefix("ab\xE9" "cd", 3), "ab\xE9");  // a stray byte is a unit of its own
}
