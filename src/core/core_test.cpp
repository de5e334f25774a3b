#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/errors.h"
#include "core/file.h"
#include "core/ids.h"

using namespace opendbs::core;

TEST(Clock, FormatsAndParsesIso8601) {
  EXPECT_EQ(format_iso8601(1705307400000), "2024-01-15T08:30:00Z");
  EXPECT_EQ(parse_iso8601("2024-01-15T08:30:00Z"), 1705307400000);
  EXPECT_EQ(parse_iso8601("2024-01-15T08:30:00.123Z"), 1705307400000);
  EXPECT_FALSE(parse_iso8601("2024-01-15 08:30:00Z"));
  EXPECT_FALSE(parse_iso8601("2024-02-30T08:30:00Z"));
  EXPECT_FALSE(parse_iso8601("2024-01-15T08:30:00"));
}

TEST(Ids, HaveTheShapesDbsClientsExpect) {
  auto plan = new_plan_id();
  EXPECT_EQ(plan.size(), 14u);
  EXPECT_EQ(plan.substr(0, 3), "dbs");
  auto rid = new_request_id();
  EXPECT_EQ(rid.size(), 36u);
  for (char c : rid) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || c == '-') << rid;
  auto acct = new_account_id();
  EXPECT_EQ(acct.size(), 16u);
  EXPECT_NE(acct[0], '0');
  EXPECT_NE(new_job_id(), new_job_id());
}

TEST(Crypto, HmacAndShaMatchKnownAnswers) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 2202 test case 2 and RFC 4231 test case 2.
  EXPECT_EQ(to_hex(hmac_sha1("Jefe", "what do ya want for nothing?")), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Base64RoundTripsAndRejectsGarbage) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto decoded = base64_decode(base64_encode(s));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_FALSE(base64_decode("abc").ok());
  EXPECT_FALSE(base64_decode("a!c=").ok());
}

TEST(Crypto, AesGcmDetectsTamperingAndWrongKey) {
  const std::string key(32, 'k');
  auto sealed = aes256gcm_seal(key, "secret data", "aad");
  auto opened = aes256gcm_open(key, sealed, "aad");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "secret data");
  EXPECT_FALSE(aes256gcm_open(std::string(32, 'x'), sealed, "aad").ok());
  EXPECT_FALSE(aes256gcm_open(key, sealed, "other").ok());
  for (size_t i = 0; i < sealed.size(); ++i) {
    auto bad = sealed;
    bad[i] ^= 1;
    auto r = aes256gcm_open(key, bad, "aad");
    ASSERT_FALSE(r.ok()) << "flip at " << i;
    EXPECT_EQ(r.error().code, "Corrupt");
  }
  EXPECT_NE(aes256gcm_seal(key, "x"), aes256gcm_seal(key, "x"));  // fresh nonce each time
}

TEST(File, DurableWriteReplacesWholeFileWithMode) {
  auto dir = std::filesystem::temp_directory_path() / ("opendbs-core-" + random_alnum(6));
  ASSERT_TRUE(make_dirs(dir.string()).ok());
  auto path = (dir / "secret.json").string();
  ASSERT_TRUE(write_file_durable(path, "first", 0600).ok());
  ASSERT_TRUE(write_file_durable(path, "second", 0600).ok());
  auto content = read_file(path);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "second");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temp files left
  EXPECT_EQ(read_file((dir / "missing").string()).error().code, "NotFound");
  std::filesystem::remove_all(dir);
}

TEST(Errors, TableGivesStatusesAndUnknownCodesAreInternal) {
  EXPECT_EQ(make_error("Request.Forbidden", "x").http_status, 403);
  EXPECT_EQ(errors::missing_parameter("BackupPlanId").http_status, 400);
  EXPECT_NE(errors::missing_parameter("BackupPlanId").message.find("BackupPlanId"), std::string::npos);
  EXPECT_EQ(error_kind("NoSuchCode").code, "InternalError");
}
