#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"
#include "repo/backend/local_backend.h"

using namespace opendbs;

TEST(LocalBackend, PutGetRangeListRemove) {
  auto root = std::filesystem::temp_directory_path() / ("opendbs-lb-" + core::random_alnum(6));
  repo::LocalBackend b(root.string());
  ASSERT_TRUE(b.put("data/ab/abcdef", "hello world").ok());
  EXPECT_EQ(*b.get("data/ab/abcdef"), "hello world");
  EXPECT_EQ(*b.get_range("data/ab/abcdef", 6, 5), "world");
  auto past_end = b.get_range("data/ab/abcdef", 6, 6);
  ASSERT_FALSE(past_end.ok());
  EXPECT_EQ(past_end.error().code, "Corrupt");
  EXPECT_EQ(b.get("data/none").error().code, "NotFound");
  EXPECT_EQ(b.list("data/")->size(), 1u);
  EXPECT_EQ((*b.stat("data/ab/abcdef"))->size, 11u);
  EXPECT_FALSE(b.stat("data/none")->has_value());
  EXPECT_FALSE(b.put("../escape", "x").ok());
  ASSERT_TRUE(b.remove("data/ab/abcdef").ok());
  ASSERT_TRUE(b.remove("data/ab/abcdef").ok());
  EXPECT_TRUE(b.list("")->empty());
  std::filesystem::remove_all(root);
}
