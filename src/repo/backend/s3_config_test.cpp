// Reading s3:// URLs and the environment into an S3Config, and open_backend's choice of backend.
#include "repo/backend/s3_config.h"

#include <gtest/gtest.h>

#include <map>

#include "repo/backend/local_backend.h"

using namespace opendbs;

namespace {

repo::EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

const repo::EnvLookup kAwsKeys = env_of({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"}});

}  // namespace

TEST(S3Config, BareBucketMeansAwsWithVirtualHostedAddressing) {
  auto config = repo::parse_s3_url(
      "s3://my-bucket/backups/prod/",
      env_of({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"}, {"AWS_REGION", "eu-central-1"}}));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->bucket, "my-bucket");
  EXPECT_EQ(config->prefix, "backups/prod");
  EXPECT_EQ(config->scheme, "https");
  EXPECT_EQ(config->endpoint_host, "s3.eu-central-1.amazonaws.com");
  EXPECT_EQ(config->region, "eu-central-1");
  EXPECT_FALSE(config->path_style);
  EXPECT_EQ(config->credentials.access_key_id, "AKID");
  EXPECT_EQ(config->credentials.secret_access_key, "SECRET");
}

TEST(S3Config, EndpointOnAnIpAddressOrLocalhostDefaultsToPathStyle) {
  auto ip = repo::parse_s3_url("s3://b?endpoint=http://127.0.0.1:9000", kAwsKeys);
  ASSERT_TRUE(ip.ok()) << ip.error().message;
  EXPECT_EQ(ip->scheme, "http");
  EXPECT_EQ(ip->endpoint_host, "127.0.0.1:9000");
  EXPECT_TRUE(ip->path_style);
  EXPECT_EQ(ip->prefix, "");
  EXPECT_TRUE(repo::parse_s3_url("s3://b?endpoint=http://localhost:9000/", kAwsKeys)->path_style);
  auto named =
      repo::parse_s3_url("s3://b/p?endpoint=https://oss-cn-hangzhou.aliyuncs.com&region=cn-hangzhou", kAwsKeys);
  ASSERT_TRUE(named.ok());
  EXPECT_FALSE(named->path_style);
  EXPECT_TRUE(repo::parse_s3_url("s3://b?endpoint=minio.lan:9000&path_style=true", kAwsKeys)->path_style);
  EXPECT_EQ(repo::parse_s3_url("s3://b?endpoint=minio.lan:9000", kAwsKeys)->scheme, "https");
}

TEST(S3Config, UrlOptionsWinOverOpendbsVariablesWhichWinOverAwsVariables) {
  auto env = env_of({{"AWS_ACCESS_KEY_ID", "aws-id"},
                     {"AWS_SECRET_ACCESS_KEY", "aws-secret"},
                     {"OPENDBS_S3_ACCESS_KEY_ID", "opendbs-id"},
                     {"OPENDBS_S3_REGION", "ap-southeast-1"},
                     {"AWS_REGION", "us-west-2"},
                     {"AWS_SESSION_TOKEN", "token"}});
  auto config = repo::parse_s3_url("s3://b?secret_access_key=url%2Bsecret%2F%3D", env);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->credentials.access_key_id, "opendbs-id");
  EXPECT_EQ(config->credentials.secret_access_key, "url+secret/=");
  EXPECT_EQ(config->credentials.session_token, "token");
  EXPECT_EQ(config->region, "ap-southeast-1");
  EXPECT_EQ(config->endpoint_host, "s3.ap-southeast-1.amazonaws.com");
}

TEST(S3Config, TuningOptionsAreRead) {
  auto config = repo::parse_s3_url(
      "s3://b?multipart_threshold=128MiB&part_size=8MiB&upload_parallelism=8&list_page_size=500"
      "&connect_timeout_ms=3000&stall_timeout_ms=20000&request_timeout_ms=600000&verify_tls=false"
      "&ca_file=/etc/ca.pem&retry_count_max=9&retry_backoff_ms=250&retry_for_ms=60000",
      kAwsKeys);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->multipart_threshold_bytes, 128ull << 20);
  EXPECT_EQ(config->part_size_bytes, 8ull << 20);
  EXPECT_EQ(config->upload_parallelism, 8);
  EXPECT_EQ(config->list_page_size, 500);
  EXPECT_EQ(config->http.connect_timeout_ms, 3000);
  EXPECT_EQ(config->http.stall_timeout_ms, 20000);
  EXPECT_EQ(config->http.request_timeout_ms, 600000);
  EXPECT_FALSE(config->http.verify_tls);
  EXPECT_EQ(config->http.ca_file, "/etc/ca.pem");
  EXPECT_EQ(config->retry.retry_count_max, 9);
  EXPECT_EQ(config->retry.retry_for_ms, 60000);
  EXPECT_EQ(config->retry.backoff_initial_ms, 250);
}

TEST(S3Config, MistakesAreReportedByName) {
  struct Case {
    std::string url, code, mentions;
  };
  for (const auto& c : std::vector<Case>{
           {"s3://b?part_sise=8MiB", "InvalidParameterValid", "part_sise"},
           {"s3://b?part_size=1MiB", "InvalidParameterValid", "5MiB"},
           {"s3://b?part_size=lots", "InvalidParameterValid", "part_size"},
           {"s3://b?upload_parallelism=0", "InvalidParameterValid", "upload_parallelism"},
           {"s3://b?path_style=maybe", "InvalidParameterValid", "path_style"},
           {"s3://b?endpoint=ftp://host", "InvalidParameterValid", "endpoint"},
           {"s3://Bad_Bucket/x", "InvalidParameterValid", "bucket"},
           {"s3:///prefix", "InvalidParameterValid", "bucket"},
           {"s3://b?region=%zz", "InvalidParameterValid", "%XX"},
           {"s3://b?secret_access_key=abc%zzSECRET", "InvalidParameterValid", "secret_access_key"},
       }) {
    auto config = repo::parse_s3_url(c.url, kAwsKeys);
    ASSERT_FALSE(config.ok()) << c.url;
    EXPECT_EQ(config.error().code, c.code) << c.url;
    EXPECT_NE(config.error().message.find(c.mentions), std::string::npos) << c.url << ": " << config.error().message;
    EXPECT_EQ(config.error().message.find("SECRET"), std::string::npos) << "a secret was echoed: " << c.url;
  }
}

TEST(S3Config, MissingCredentialsSayWhereToPutThem) {
  auto config = repo::parse_s3_url("s3://nobucket/some/prefix?endpoint=http://127.0.0.1:1", env_of({}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, "MissingParameter");
  EXPECT_NE(config.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  // The whole location and where it is (checker round 5: the bucket's name was cut short).
  EXPECT_NE(config.error().message.find("no S3 credentials for s3://nobucket/some/prefix at 127.0.0.1:"),
            std::string::npos) << config.error().message;
}

TEST(OpenBackend, PathsAndFileUrlsOpenALocalBackend) {
  auto plain = repo::open_backend("/var/tmp/repo");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->describe(), "local:/var/tmp/repo");
  EXPECT_EQ((*repo::open_backend("file:///var/tmp/repo"))->describe(), "local:/var/tmp/repo");
  EXPECT_EQ((*repo::open_backend("relative/repo"))->describe(), "local:relative/repo");
  EXPECT_EQ(repo::open_backend("").error().code, "InvalidParameterValid");
  EXPECT_EQ(repo::open_backend("gs://bucket").error().code, "InvalidParameterValid");
}

TEST(OpenBackend, S3UrlsOpenAnS3BackendWithoutSecretsInItsDescription) {
  auto backend = repo::open_backend(
      "s3://bucket/prefix?endpoint=http://127.0.0.1:9000&access_key_id=AKID&secret_access_key=TOPSECRET");
  ASSERT_TRUE(backend.ok()) << backend.error().message;
  EXPECT_EQ((*backend)->describe(), "s3://bucket/prefix at http://127.0.0.1:9000");
  EXPECT_EQ(repo::open_backend("s3://bucket?bogus=1").error().code, "InvalidParameterValid");
}
