#include "console/assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

namespace opendbs::console {
namespace {

std::string read_source(const std::string& relative) {
  std::ifstream in(std::string(OPENDBS_SOURCE_DIR) + "/src/console/static/" + relative, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(ConsoleAssets, IndexPageIsEmbeddedByteForByteAsHtml) {
  const Asset* index = find_asset("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index->body, read_source("index.html"));
}

TEST(ConsoleAssets, ScriptsAndStylesHaveTheirContentTypes) {
  const Asset* script = find_asset("js/main.js");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(script->body, read_source("js/main.js"));
  const Asset* style = find_asset("css/console.css");
  ASSERT_NE(style, nullptr);
  EXPECT_EQ(style->content_type, "text/css; charset=utf-8");
}

TEST(ConsoleAssets, UnknownOrUnnormalisedPathsAreNotFound) {
  EXPECT_EQ(find_asset("nope.html"), nullptr);
  EXPECT_EQ(find_asset("/index.html"), nullptr);
  EXPECT_EQ(find_asset("../index.html"), nullptr);
  EXPECT_EQ(find_asset(""), nullptr);
}

}  // namespace
}  // namespace opendbs::console
