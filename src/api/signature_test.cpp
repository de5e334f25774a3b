// Signatures against the known-answer vectors produced by the real Alibaba Cloud SDKs
// (shared/dbs/signature-vectors.json), then round trips and tampering with our own signer.
#include "api/signature.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/file.h"

namespace json = boost::json;
using namespace opendbs::api;

namespace {

void set_header(SignedHttpRequest& r, const std::string& name, const std::string& value) {
  for (auto& h : r.headers)
    if (h.first == name) h.second = value;
}

std::string str(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return json::serialize(v);  // numbers as clients stringify them: 0, 30
}

std::string field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? str(*v) : std::string();
}

json::array load_vectors() {
  const std::string path = OPENDBS_SOURCE_DIR "/../shared/dbs/signature-vectors.json";
  auto text = opendbs::core::read_file(path);
  EXPECT_TRUE(text.ok()) << path;
  if (!text.ok()) return {};
  return json::parse(*text).as_object().at("vectors").as_array();
}

SignedHttpRequest wire_of(const json::object& vector) {
  const auto& wire = vector.at("wire").as_object();
  const std::string line = field(wire, "request_line");
  const size_t space = line.find(' ');
  SignedHttpRequest r{line.substr(0, space), line.substr(space + 1), {}, field(wire, "body")};
  for (const auto& [name, value] : wire.at("headers").as_object()) r.headers.emplace_back(name, str(value));
  return r;
}

SignInput sign_input_of(const json::object& in, const DecodedRequest& decoded) {
  SignInput s;
  s.method = field(in, "http_method");
  s.host = "127.0.0.1:8080";
  s.action = field(in, "action");
  s.version = field(in, "version");
  for (const auto& [name, value] : in.at("api_params").as_object()) s.params.emplace_back(name, str(value));
  s.access_key_id = field(in, "access_key_id");
  s.access_key_secret = field(in, "access_key_secret");
  s.security_token = field(in, "security_token");
  s.nonce = field(in, "signature_nonce");
  s.timestamp = field(in, "timestamp");
  s.format = decoded.format;
  return s;
}

std::string signature_param_of(const SignedHttpRequest& r) {
  const std::string_view encoded = r.body.empty() ? std::string_view(r.target).substr(2) : std::string_view(r.body);
  const auto params = parse_urlencoded(encoded);
  for (const auto& [name, value] : *params)
    if (name == "Signature") return value;
  return {};
}

bool is_v3(const json::object& vector) { return field(vector, "signature_version") == "V3"; }

// One vector with its wire request as the server receives it, decoded.
struct Vector {
  std::string name;
  bool v3;
  json::object inputs, sdk, reference;
  std::string client;
  SignedHttpRequest wire;
  DecodedRequest decoded;
};

std::vector<Vector> decoded_vectors() {
  std::vector<Vector> out;
  for (const auto& item : load_vectors()) {
    const auto& v = item.as_object();
    Vector vector{field(v, "name"),
                  is_v3(v),
                  v.at("inputs").as_object(),
                  v.at("sdk_computed").as_object(),
                  v.at("reference").as_object(),
                  field(v, "client"),
                  wire_of(v),
                  {}};
    auto decoded = decode_request(vector.wire.view());
    if (!decoded.ok()) {
      ADD_FAILURE() << vector.name << ": " << decoded.error().message;
      continue;
    }
    vector.decoded = std::move(*decoded);
    out.push_back(std::move(vector));
  }
  return out;
}

}  // namespace

TEST(SignatureVectors, CoverV1AndV3FromEveryClient) {
  int v1 = 0, v3 = 0;
  for (const Vector& v : decoded_vectors()) (v.v3 ? v3 : v1)++;
  EXPECT_EQ(v1, 5);
  EXPECT_EQ(v3, 3);
}

TEST(SignatureVectors, WireRequestsDecodeToTheSdkInputs) {
  for (const Vector& v : decoded_vectors()) {
    SCOPED_TRACE(v.name);
    const DecodedRequest& d = v.decoded;
    EXPECT_EQ(d.scheme, v.v3 ? SignatureScheme::v3_acs3_hmac_sha256 : SignatureScheme::v1_hmac_sha1);
    EXPECT_EQ(d.access_key_id, field(v.inputs, "access_key_id"));
    EXPECT_EQ(d.action, field(v.inputs, "action"));
    EXPECT_EQ(d.version, field(v.inputs, "version"));
    EXPECT_EQ(d.nonce, field(v.inputs, "signature_nonce"));
    EXPECT_EQ(d.timestamp, field(v.inputs, "timestamp"));
    EXPECT_EQ(d.timestamp_ms, 1705307400000);
    EXPECT_EQ(d.security_token, field(v.inputs, "security_token"));
    std::map<std::string, std::string> expected;
    const auto& api_params = v.inputs.at("api_params").as_object();
    for (const auto& [name, value] : api_params)
      if (name != "RegionId") expected.emplace(name, str(value));
    EXPECT_EQ(d.params, expected);
    EXPECT_EQ(d.region_id, field(api_params, "RegionId"));
  }
}

TEST(SignatureVectors, ServerComputesTheSdkStringToSignAndAcceptsTheSignature) {
  for (const Vector& v : decoded_vectors()) {
    SCOPED_TRACE(v.name);
    const SigningStrings s = server_signing_strings(v.wire.view(), v.decoded);
    EXPECT_EQ(s.string_to_sign, field(v.sdk, "string_to_sign"));
    EXPECT_EQ(s.canonical, v.v3 ? field(v.sdk, "canonical_request") : field(v.reference, "canonicalized_query_string"));
    const auto status = verify_signature(v.wire.view(), v.decoded, field(v.inputs, "access_key_secret"));
    EXPECT_TRUE(status.ok()) << status.error().message;
  }
}

TEST(SignatureVectors, WrongSecretIsRejectedShowingTheServerStrings) {
  for (const Vector& v : decoded_vectors()) {
    SCOPED_TRACE(v.name);
    const auto status = verify_signature(v.wire.view(), v.decoded, "testsecreT");
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, "SignatureDoesNotMatch");
    EXPECT_EQ(status.error().http_status, 400);
    const std::string& message = status.error().message;
    EXPECT_TRUE(message.starts_with("The request signature does not conform to Aliyun standards. "));
    EXPECT_NE(message.find("server string to sign is:" + field(v.sdk, "string_to_sign")), std::string::npos);
    if (v.v3) {
      EXPECT_NE(message.find(field(v.sdk, "canonical_request")), std::string::npos);
    }
  }
}

TEST(SignatureVectors, SignersReproduceTheSdkSignatures) {
  for (const Vector& v : decoded_vectors()) {
    SCOPED_TRACE(v.name);
    SignInput input = sign_input_of(v.inputs, v.decoded);
    if (v.v3) {
      input.host = *header_value(v.wire.view(), "host");
      input.extra_headers = {
          {"x-acs-credentials-provider", *header_value(v.wire.view(), "x-acs-credentials-provider")}};
      EXPECT_EQ(*header_value(sign_v3(input).view(), "authorization"), field(v.sdk, "authorization"));
    } else {
      const bool in_body = !v.wire.body.empty();
      const SignedHttpRequest signed_request = sign_v1(input, in_body);
      EXPECT_EQ(signature_param_of(signed_request), field(v.sdk, "signature"));
      if (v.client.starts_with("pop-core")) {  // pop-core writes the canonical text itself
        EXPECT_EQ(in_body ? signed_request.body : signed_request.target, in_body ? v.wire.body : v.wire.target);
      }
    }
  }
}

TEST(SignatureRoundTrip, V1WithSpecialCharactersInQueryAndFormBodyVerifies) {
  SignInput input{.method = "GET",
                  .host = "localhost:1",
                  .action = "ModifyBackupPlanName",
                  .params = {{"BackupPlanName", "测试 ~*+ &=%/!'()"}, {"Empty", ""}},
                  .access_key_id = "ak",
                  .access_key_secret = "sk"};
  for (bool in_body : {false, true}) {
    input.method = in_body ? "POST" : "GET";
    const SignedHttpRequest wire = sign_v1(input, in_body);
    auto decoded = decode_request(wire.view());
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->params.at("BackupPlanName"), "测试 ~*+ &=%/!'()");
    EXPECT_EQ(decoded->params.at("Empty"), "");
    EXPECT_EQ(decoded->nonce.size(), 32u);  // filled in by the signer
    EXPECT_TRUE(verify_signature(wire.view(), *decoded, "sk").ok());
  }
}

TEST(SignatureRoundTrip, V1CommonParametersInQueryAndApiParametersInFormBodyVerify) {
  // Tea's doRPCRequest with a form body: common parameters in the query, API parameters in the body,
  // one signature over both.
  ParamList common = {{"AccessKeyId", "ak"},
                      {"Action", "StopBackupPlan"},
                      {"Format", "json"},
                      {"SignatureMethod", "HMAC-SHA1"},
                      {"SignatureNonce", "n1"},
                      {"SignatureVersion", "1.0"},
                      {"Timestamp", "2024-01-15T08:30:00Z"},
                      {"Version", "2019-03-06"}};
  ParamList api = {{"BackupPlanId", "dbs1"}, {"StopMethod", "ALL"}};
  ParamList all = common;
  all.insert(all.end(), api.begin(), api.end());
  const std::string signature = v1_signature("sk", v1_signing_strings("POST", all).string_to_sign);
  std::string query = "/?";
  for (const auto& [n, v] : common) query += n + "=" + percent_encode(v) + "&";
  query += "Signature=" + percent_encode(signature);
  const SignedHttpRequest wire{"POST",
                               query,
                               {{"content-type", "application/x-www-form-urlencoded; charset=UTF-8"}},
                               "BackupPlanId=dbs1&StopMethod=ALL"};
  auto decoded = decode_request(wire.view());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->params, (std::map<std::string, std::string>{{"BackupPlanId", "dbs1"}, {"StopMethod", "ALL"}}));
  EXPECT_TRUE(verify_signature(wire.view(), *decoded, "sk").ok());
}

TEST(SignatureTampering, V1ChangingAnyParameterMethodOrSetFails) {
  const SignInput input{.method = "GET",
                        .host = "h",
                        .action = "StopBackupPlan",
                        .params = {{"BackupPlanId", "dbs1"}, {"StopMethod", "ALL"}},
                        .access_key_id = "ak",
                        .access_key_secret = "sk",
                        .nonce = "n",
                        .timestamp = "2024-01-15T08:30:00Z"};
  const SignedHttpRequest original = sign_v1(input, false);
  auto accepted = [](const SignedHttpRequest& w) {
    auto d = decode_request(w.view());
    return d.ok() && verify_signature(w.view(), *d, "sk").ok();
  };
  ASSERT_TRUE(accepted(original));
  const ParamList params = *parse_urlencoded(std::string_view(original.target).substr(2));
  auto rebuild = [](const ParamList& p) {
    std::string t = "/?";
    for (const auto& [n, v] : p) t += percent_encode(n) + "=" + percent_encode(v) + "&";
    return SignedHttpRequest{"GET", t, {}, ""};
  };
  for (size_t i = 0; i < params.size(); ++i) {
    ParamList changed = params;
    changed[i].second += "0";
    EXPECT_FALSE(accepted(rebuild(changed))) << "changed " << params[i].first;
    ParamList removed = params;
    removed.erase(removed.begin() + static_cast<std::ptrdiff_t>(i));
    EXPECT_FALSE(accepted(rebuild(removed))) << "removed " << params[i].first;
  }
  ParamList added = params;
  added.emplace_back("StopMethod2", "PLAN");
  EXPECT_FALSE(accepted(rebuild(added)));
  SignedHttpRequest as_post = original;
  as_post.method = "POST";
  EXPECT_FALSE(accepted(as_post));
  EXPECT_TRUE(accepted(rebuild(params)));  // the rebuild itself is faithful
}

TEST(SignatureTampering, V3ChangingQueryHeadersMethodOrBodyFails) {
  const SignInput input{.host = "127.0.0.1:8080",
                        .action = "StopBackupPlan",
                        .params = {{"BackupPlanId", "dbs1"}, {"StopMethod", "ALL"}},
                        .access_key_id = "ak",
                        .access_key_secret = "sk",
                        .security_token = "tok"};
  const SignedHttpRequest original = sign_v3(input);
  auto verdict = [](const SignedHttpRequest& w) -> std::string {
    auto d = decode_request(w.view());
    if (!d.ok()) return d.error().code;
    auto s = verify_signature(w.view(), *d, "sk");
    return s.ok() ? "ok" : s.error().code;
  };
  ASSERT_EQ(verdict(original), "ok");
  for (const auto& [name, value] : original.headers) {
    if (name == "authorization" || name == "x-acs-content-sha256" || name == "x-acs-date") continue;
    SignedHttpRequest changed = original;
    set_header(changed, name, value + "x");
    EXPECT_EQ(verdict(changed), "SignatureDoesNotMatch") << name;
  }
  SignedHttpRequest other_time = original;
  set_header(other_time, "x-acs-date", "2000-01-01T00:00:00Z");
  EXPECT_EQ(verdict(other_time), "SignatureDoesNotMatch");
  SignedHttpRequest port_dropped = original;
  set_header(port_dropped, "host", "127.0.0.1");
  EXPECT_EQ(verdict(port_dropped), "SignatureDoesNotMatch");
  SignedHttpRequest query_changed = original;
  query_changed.target.replace(query_changed.target.find("ALL"), 3, "PLAN");
  EXPECT_EQ(verdict(query_changed), "SignatureDoesNotMatch");
  SignedHttpRequest method_changed = original;
  method_changed.method = "GET";
  EXPECT_EQ(verdict(method_changed), "SignatureDoesNotMatch");
  SignedHttpRequest body_added = original;
  body_added.body = "x";
  EXPECT_EQ(verdict(body_added), "SignatureDoesNotMatch");
  SignedHttpRequest signature_changed = original;
  std::string auth = *header_value(original.view(), "authorization");
  auth.back() = auth.back() == '0' ? '1' : '0';
  set_header(signature_changed, "authorization", auth);
  EXPECT_EQ(verdict(signature_changed), "SignatureDoesNotMatch");
}

TEST(SignatureRoundTrip, V3SignsHostWithPortAsReceivedAndUnicodeQueryValues) {
  const SignInput input{.host = "node.example:8443",
                        .action = "ModifyBackupPlanName",
                        .params = {{"BackupPlanName", "测试 *~ (x)!'+&="}},
                        .access_key_id = "ak",
                        .access_key_secret = "sk"};
  const SignedHttpRequest wire = sign_v3(input);
  auto decoded = decode_request(wire.view());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->params.at("BackupPlanName"), "测试 *~ (x)!'+&=");
  EXPECT_TRUE(verify_signature(wire.view(), *decoded, "sk").ok());
  EXPECT_NE(server_signing_strings(wire.view(), *decoded).canonical.find("\nhost:node.example:8443\n"),
            std::string::npos);
}
