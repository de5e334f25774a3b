#include "api/nonce_cache.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"

using opendbs::api::NonceCache;

TEST(NonceCache, RefusesAReusedNonceOnlyWithinTheWindowAndPerKey) {
  NonceCache cache(1000);
  EXPECT_TRUE(cache.check_and_remember("ak", "n1", 10'000));
  EXPECT_FALSE(cache.check_and_remember("ak", "n1", 10'500));
  EXPECT_TRUE(cache.check_and_remember("other", "n1", 10'500));
  EXPECT_TRUE(cache.check_and_remember("ak", "n1", 11'001));  // expired from the window
}

TEST(NonceCache, JournalKeepsNoncesAcrossRestartsAndRotates) {
  auto dir = std::filesystem::temp_directory_path() / ("opendbs-nonce-" + opendbs::core::random_alnum(6));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "nonces").string();
  {
    NonceCache first(1000);
    ASSERT_TRUE(first.open_journal(path, 10'000).ok());
    EXPECT_TRUE(first.check_and_remember("ak", "before-crash", 10'100));
    EXPECT_TRUE(first.check_and_remember("ak", "rotated", 11'200));  // rotates: the first record moves to .previous
  }
  NonceCache second(1000);
  ASSERT_TRUE(second.open_journal(path, 11'500).ok());
  EXPECT_FALSE(second.check_and_remember("ak", "rotated", 11'600));       // replay after restart: refused
  EXPECT_TRUE(second.check_and_remember("ak", "before-crash", 11'600));  // older than the window: forgotten
  EXPECT_TRUE(std::filesystem::exists(path + ".previous"));
  std::filesystem::remove_all(dir);
}
