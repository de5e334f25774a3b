// The SigV4 signer against AWS's published test suite (aws-sig-v4-test-suite, 2015-08-30 vectors for
// service "service" in us-east-1) and against botocore's S3SigV4Auth/SigV4Auth as an oracle.
#include "repo/backend/sigv4.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/crypto.h"
#include "core/ids.h"

using namespace opendbs;
using repo::sigv4::Pairs;

namespace {

const repo::sigv4::Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const repo::sigv4::Scope kSuiteScope{"20150830T123600Z", "us-east-1", "service"};
const std::string kSuiteSessionToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YU"
    "uwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8Y"
    "QcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2IC"
    "CR/oLxBA==";

struct SuiteCase {
  std::string name;
  std::string method;
  std::string path;
  Pairs query;
  Pairs extra_headers;  // besides Host and X-Amz-Date, which every case has
  std::string body;
  std::string signed_headers;
  std::string signature;
};

std::vector<SuiteCase> suite_cases() {
  const std::string d = "host;x-amz-date";
  const std::string h1 = "host;my-header1;x-amz-date";
  const std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  // clang-format off
  return {
      {"get-vanilla", "GET", "/", {}, {}, "", d, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-empty-query-key", "GET", "/", {{"Param1", "value1"}}, {}, "", d,
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-order-key", "GET", "/", {{"Param1", "value2"}, {"Param1", "Value1"}}, {}, "", d,
       "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
      {"get-vanilla-query-order-key-case", "GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}, {}, "", d,
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-order-value", "GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}, {}, "", d,
       "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
      {"get-vanilla-query-unreserved", "GET", "/", {{unreserved, unreserved}}, {}, "", d,
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", "GET", "/", {{"\xE1\x88\xB4", "bar"}}, {}, "", d,
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-unreserved", "GET", "/" + unreserved, {}, {}, "", d,
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-space", "GET", "/example space/", {}, {}, "", d,
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"get-header-key-duplicate", "GET", "/", {}, {{"My-Header1", "value2"}, {"My-Header1", "value2"},
       {"My-Header1", "value1"}}, "", h1, "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order", "GET", "/", {}, {{"My-Header1", "value4"}, {"My-Header1", "value1"},
       {"My-Header1", "value3"}, {"My-Header1", "value2"}}, "", h1,
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-trim", "GET", "/", {}, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}, "",
       "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-vanilla", "POST", "/", {}, {}, "", d, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-vanilla-query", "POST", "/", {{"Param1", "value1"}}, {}, "", d,
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {"post-header-key-sort", "POST", "/", {}, {{"My-Header1", "value1"}}, "", h1,
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case", "POST", "/", {}, {{"My-Header1", "VALUE1"}}, "", h1,
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      {"post-x-www-form-urlencoded", "POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}},
       "Param1=value1", "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"post-x-www-form-urlencoded-parameters", "POST", "/", {},
       {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}}, "Param1=value1",
       "content-type;host;x-amz-date", "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
      {"post-sts-header-before", "POST", "/", {}, {{"X-Amz-Security-Token", kSuiteSessionToken}}, "",
       "host;x-amz-date;x-amz-security-token", "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
  };
  // clang-format on
}

repo::sigv4::Request suite_request(const SuiteCase& c) {
  repo::sigv4::Request r{c.method,
                         c.path,
                         c.query,
                         {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                         core::to_hex(core::sha256(c.body))};
  r.headers.insert(r.headers.end(), c.extra_headers.begin(), c.extra_headers.end());
  return r;
}

}  // namespace

TEST(SigV4, MatchesEveryPublishedAwsTestSuiteVector) {
  for (const auto& c : suite_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(repo::sigv4::authorization(suite_request(c), kSuiteScope, kSuiteCredentials),
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
                  c.signed_headers + ", Signature=" + c.signature);
  }
}

TEST(SigV4, CanonicalRequestAndStringToSignMatchTheSuiteForGetHeaderValueTrim) {
  auto c = suite_cases()[11];
  ASSERT_EQ(c.name, "get-header-value-trim");
  auto r = suite_request(c);
  EXPECT_EQ(repo::sigv4::canonical_request(r),
            "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
            "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(repo::sigv4::string_to_sign(r, kSuiteScope),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7");
}

TEST(SigV4, CanonicalQuerySortsByEncodedNameThenValue) {
  EXPECT_EQ(repo::sigv4::canonical_query({{"prefix", "a/b c"}, {"list-type", "2"}, {"uploads", ""}}),
            "list-type=2&prefix=a%2Fb%20c&uploads=");
  EXPECT_EQ(repo::sigv4::uri_encode("/bucket/a b/ü~", true), "/bucket/a%20b/%C3%BC~");
}

TEST(SigV4, AmzDateIsCompactUtc) { EXPECT_EQ(repo::sigv4::amz_date(1440938160000), "20150830T123600Z"); }

// ---- botocore as an oracle ------------------------------------------------------------------------

namespace {

// Signs each request of the JSON input with botocore.auth.S3SigV4Auth at a fixed time and prints the
// Authorization headers as a JSON list. botocore percent-encodes the path and query itself.
constexpr const char* kBotocoreScript = R"PY(
import datetime, json, sys
from unittest import mock
from urllib.parse import quote
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

fixed = datetime.datetime(2024, 3, 9, 17, 5, 42, tzinfo=datetime.timezone.utc)
out = []
with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: fixed):
    for c in json.load(open(sys.argv[1])):
        creds = Credentials(c["ak"], c["sk"], c["token"] or None)
        url = "http://" + c["host"] + quote(c["path"], safe="/~")
        req = AWSRequest(method=c["method"], url=url, headers=dict(c["headers"]),
                         data=c["body"].encode(), params=[tuple(p) for p in c["params"]])
        req.headers["Host"] = c["host"]
        botocore.auth.S3SigV4Auth(creds, "s3", c["region"]).add_auth(req)
        out.append(req.headers["Authorization"])
print(json.dumps(out))
)PY";

struct OracleCase {
  std::string method, host, path, region;
  Pairs params, headers;
  std::string body;
  repo::sigv4::Credentials credentials;
};

std::vector<OracleCase> oracle_cases() {
  const repo::sigv4::Credentials plain{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  const repo::sigv4::Credentials sts{"ASIAXAMPLE", "secret+/=key", "FwoGZXIvYXdzE//token+with/chars=="};
  // clang-format off
  std::vector<OracleCase> cases = {
      {"GET", "bucket.s3.us-east-1.amazonaws.com", "/", "us-east-1",
       {{"list-type", "2"}, {"prefix", "repo/data/"}, {"max-keys", "1000"}}, {}, "", plain},
      {"GET", "s3.eu-west-1.amazonaws.com", "/bucket/", "eu-west-1",
       {{"list-type", "2"}, {"continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="}}, {}, "", plain},
      {"PUT", "127.0.0.1:9000", "/bucket/repo/data/ab/abcdef0123", "us-east-1", {},
       {{"Content-Type", "application/octet-stream"}}, std::string(3000, 'x'), plain},
      {"GET", "oss-cn-hangzhou.aliyuncs.com", "/bucket/key with spaces/and+plus=eq&amp", "cn-hangzhou", {},
       {{"Range", "bytes=100-199"}}, "", plain},
      {"HEAD", "bucket.s3.amazonaws.com", "/dir/\xC3\xBC\xE2\x82\xAC/*star*/~tilde", "us-east-1", {}, {}, "", sts},
      {"POST", "minio.local:9000", "/bucket/big.pack", "us-east-1", {{"uploads", ""}}, {}, "", plain},
      {"PUT", "minio.local:9000", "/bucket/big.pack", "us-east-1", {{"partNumber", "7"}, {"uploadId", "2~xyz/ab=="}},
       {}, "part-bytes", sts},
      {"POST", "minio.local:9000", "/bucket/big.pack", "us-east-1", {{"uploadId", "abc"}},
       {{"Content-Type", "application/xml"}, {"X-Amz-Meta-Note", "  two   spaces  "}},
       "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>", plain},
      {"DELETE", "bucket.s3.ap-southeast-1.amazonaws.com", "/a//double/./dot/../segments", "ap-southeast-1", {}, {},
       "", plain},
  };
  // clang-format on
  // A few generated keys with every printable ASCII character, to cover the encoder exhaustively.
  for (int start = 32; start < 127; start += 24) {
    std::string key = "/bucket/";
    for (int c = start; c < std::min(start + 24, 127); ++c) key.push_back(static_cast<char>(c));
    cases.push_back({"GET", "s3.amazonaws.com", key, "us-west-2", {{"x-id", key.substr(8)}}, {}, "", plain});
  }
  return cases;
}

std::string our_authorization(const OracleCase& c, const std::string& amz_date) {
  repo::sigv4::Request r{c.method, c.path, c.params, c.headers, core::to_hex(core::sha256(c.body))};
  r.headers.push_back({"Host", c.host});
  r.headers.push_back({"X-Amz-Date", amz_date});
  r.headers.push_back({"X-Amz-Content-SHA256", r.payload_sha256_hex});
  if (!c.credentials.session_token.empty()) r.headers.push_back({"X-Amz-Security-Token", c.credentials.session_token});
  return repo::sigv4::authorization(r, {amz_date, c.region, "s3"}, c.credentials);
}

boost::json::array to_json(const Pairs& pairs) {
  boost::json::array out;
  for (const auto& [k, v] : pairs) out.push_back(boost::json::array{boost::json::string(k), boost::json::string(v)});
  return out;
}

bool botocore_available() { return std::system("python3 -c 'import botocore.auth' >/dev/null 2>&1") == 0; }

}  // namespace

TEST(SigV4, AgreesWithBotocoreOnS3Requests) {
  if (!botocore_available()) GTEST_SKIP() << "python3 with botocore is not installed (Debian python3-botocore)";
  const auto cases = oracle_cases();
  boost::json::array input;
  for (const auto& c : cases)
    input.push_back({{"method", c.method},
                     {"host", c.host},
                     {"path", c.path},
                     {"region", c.region},
                     {"params", to_json(c.params)},
                     {"headers", to_json(c.headers)},
                     {"body", c.body},
                     {"ak", c.credentials.access_key_id},
                     {"sk", c.credentials.secret_access_key},
                     {"token", c.credentials.session_token}});
  const std::string dir = ::testing::TempDir() + "sigv4-oracle-" + core::random_alnum(6);
  std::ofstream(dir + ".py") << kBotocoreScript;
  std::ofstream(dir + ".json") << boost::json::serialize(input);
  FILE* pipe = ::popen(("python3 " + dir + ".py " + dir + ".json").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
  ASSERT_EQ(::pclose(pipe), 0) << output;
  std::remove((dir + ".py").c_str());
  std::remove((dir + ".json").c_str());

  const auto expected = boost::json::parse(output).as_array();
  ASSERT_EQ(expected.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].method + " " + cases[i].path);
    EXPECT_EQ(our_authorization(cases[i], "20240309T170542Z"), std::string(expected[i].as_string()));
  }
}
