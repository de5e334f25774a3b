#include "api/request_decoder.h"

#include <gtest/gtest.h>

#include "api/signature.h"

using namespace opendbs::api;

namespace {

void set_header(SignedHttpRequest& r, const std::string& name, const std::string& value) {
  for (auto& h : r.headers)
    if (h.first == name) h.second = value;
}

void remove_header(SignedHttpRequest& r, const std::string& name) {
  std::erase_if(r.headers, [&](auto& h) { return h.first == name; });
}

const SignInput kInput{.method = "GET",
                       .host = "127.0.0.1:8080",
                       .action = "StopBackupPlan",
                       .params = {{"BackupPlanId", "dbs1"}, {"StopMethod", "ALL"}},
                       .access_key_id = "ak",
                       .access_key_secret = "sk",
                       .nonce = "nonce-1",
                       .timestamp = "2024-01-15T08:30:00Z"};

// A signed V1 GET whose query is re-assembled from `params`, in order, after `edit` changed them.
SignedHttpRequest v1_with(const std::function<void(ParamList&)>& edit) {
  const SignedHttpRequest signed_request = sign_v1(kInput, false);
  ParamList params = *parse_urlencoded(std::string_view(signed_request.target).substr(2));
  edit(params);
  std::string target = "/?";
  for (const auto& [n, v] : params) target += percent_encode(n) + "=" + percent_encode(v) + "&";
  return {"GET", target, {}, ""};
}

void erase_param(ParamList& p, std::string_view name) {
  std::erase_if(p, [&](auto& kv) { return kv.first == name; });
}
void set_param(ParamList& p, std::string_view name, std::string value) {
  for (auto& kv : p)
    if (kv.first == name) kv.second = std::move(value);
}

std::string error_code(const SignedHttpRequest& w) {
  auto d = decode_request(w.view());
  return d.ok() ? "ok" : d.error().code;
}

}  // namespace

TEST(RequestDecoder, V1SeparatesApiParametersFromCommonOnesAndLiftsRegionId) {
  SignInput input = kInput;
  input.params.emplace_back("RegionId", "cn-hangzhou");
  input.security_token = "sts-token";
  const SignedHttpRequest wire = sign_v1(input, false);
  auto d = decode_request(wire.view());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->scheme, SignatureScheme::v1_hmac_sha1);
  EXPECT_EQ(d->params, (std::map<std::string, std::string>{{"BackupPlanId", "dbs1"}, {"StopMethod", "ALL"}}));
  EXPECT_EQ(d->region_id, "cn-hangzhou");
  EXPECT_EQ(d->security_token, "sts-token");
  EXPECT_EQ(d->format, "JSON");
  EXPECT_EQ(d->all_params.size(), 13u);
  EXPECT_EQ(d->query_param_count, 13u);
}

TEST(RequestDecoder, AcceptsOnlyGetAndPostOnTheRoot) {
  SignedHttpRequest wire = sign_v1(kInput, false);
  wire.method = "PUT";
  EXPECT_EQ(error_code(wire), "BadRequest");
  wire = sign_v1(kInput, false);
  wire.target.insert(1, "api");
  EXPECT_EQ(error_code(wire), "BadRequest");
}

TEST(RequestDecoder, UnsignedRequestIsIncompleteSignature) {
  EXPECT_EQ(error_code({"GET", "/?Action=StopBackupPlan", {}, ""}), "IncompleteSignature");
  EXPECT_EQ(error_code({"GET", "/", {{"authorization", "Bearer abc"}}, ""}), "UnsupportedSignatureMethod");
}

TEST(RequestDecoder, V1MissingSignatureElementsAreIncompleteSignature) {
  for (std::string_view name : {"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion"}) {
    auto wire = v1_with([&](ParamList& p) { erase_param(p, name); });
    EXPECT_EQ(error_code(wire), "IncompleteSignature") << name;
  }
  auto empty_key = v1_with([](ParamList& p) { set_param(p, "AccessKeyId", ""); });
  EXPECT_EQ(error_code(empty_key), "IncompleteSignature");
}

TEST(RequestDecoder, V1MissingActionVersionTimestampOrNonceNamesTheParameter) {
  for (std::string_view name : {"Action", "Version", "Timestamp", "SignatureNonce"}) {
    auto d = decode_request(v1_with([&](ParamList& p) { erase_param(p, name); }).view());
    ASSERT_FALSE(d.ok()) << name;
    EXPECT_EQ(d.error().code, "MissingParameter");
    EXPECT_NE(d.error().message.find("\"" + std::string(name) + "\""), std::string::npos);
  }
}

TEST(RequestDecoder, V1UnsupportedMethodVersionOrBearerTokenAreRejected) {
  EXPECT_EQ(error_code(v1_with([](ParamList& p) { set_param(p, "SignatureMethod", "HMAC-SHA256"); })),
            "UnsupportedSignatureMethod");
  EXPECT_EQ(error_code(v1_with([](ParamList& p) { set_param(p, "SignatureVersion", "2.0"); })),
            "UnsupportedSignatureMethod");
  EXPECT_EQ(error_code(v1_with([](ParamList& p) { p.emplace_back("SignatureType", "BEARERTOKEN"); })),
            "UnsupportedSignatureMethod");
}

TEST(RequestDecoder, MalformedTimestampIsInvalidTimeStampFormat) {
  for (std::string bad : {"2024-01-15 08:30:00Z", "2024-01-15T08:30:00", "1705307400", "2024-13-01T00:00:00Z"}) {
    EXPECT_EQ(error_code(v1_with([&](ParamList& p) { set_param(p, "Timestamp", bad); })), "InvalidTimeStamp.Format")
        << bad;
  }
  SignedHttpRequest v3 = sign_v3(kInput);
  set_header(v3, "x-acs-date", "yesterday");
  EXPECT_EQ(error_code(v3), "InvalidTimeStamp.Format");
}

TEST(RequestDecoder, DuplicateParameterIsRejectedNamingIt) {
  auto d = decode_request(v1_with([](ParamList& p) { p.emplace_back("StopMethod", "PLAN"); }).view());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "InvalidParameter");
  EXPECT_NE(d.error().message.find("StopMethod"), std::string::npos);
  // Also when one copy is in the query and the other in the form body.
  const SignedHttpRequest split{
      "POST", "/?BackupPlanId=a", {{"content-type", "application/x-www-form-urlencoded"}}, "BackupPlanId=b"};
  EXPECT_EQ(error_code(split), "InvalidParameter");
}

TEST(RequestDecoder, MalformedPercentEncodingIsBadRequest) {
  EXPECT_EQ(error_code({"GET", "/?AccessKeyId=a%2", {}, ""}), "BadRequest");
  EXPECT_EQ(error_code({"POST", "/", {{"content-type", "application/x-www-form-urlencoded"}}, "Action=%XY"}),
            "BadRequest");
}

TEST(RequestDecoder, BodyIsReadAsParametersOnlyWhenItIsAForm) {
  const SignedHttpRequest json_body{"POST", "/?AccessKeyId=a", {{"content-type", "application/json"}}, "Signature=x"};
  auto d = decode_request(json_body.view());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("Signature"), std::string::npos);  // the body's Signature was not read
}

TEST(RequestDecoder, V3TakesActionVersionAndCredentialFromHeaders) {
  SignInput input = kInput;
  input.security_token = "sts";
  const SignedHttpRequest wire = sign_v3(input);
  auto d = decode_request(wire.view());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->scheme, SignatureScheme::v3_acs3_hmac_sha256);
  EXPECT_EQ(d->access_key_id, "ak");
  EXPECT_EQ(d->action, "StopBackupPlan");
  EXPECT_EQ(d->version, "2019-03-06");
  EXPECT_EQ(d->nonce, "nonce-1");
  EXPECT_EQ(d->security_token, "sts");
  EXPECT_EQ(d->format, "");
  EXPECT_EQ(d->signed_headers.front(), "host");
  EXPECT_EQ(d->params, (std::map<std::string, std::string>{{"BackupPlanId", "dbs1"}, {"StopMethod", "ALL"}}));
}

TEST(RequestDecoder, V3OtherAlgorithmsAreUnsupported) {
  SignedHttpRequest wire = sign_v3(kInput);
  std::string auth = *header_value(wire.view(), "authorization");
  set_header(wire, "authorization", "ACS3-HMAC-SM3" + auth.substr(auth.find(' ')));
  EXPECT_EQ(error_code(wire), "UnsupportedSignatureMethod");
  set_header(wire, "authorization", "ACS3-RSA-SHA256" + auth.substr(auth.find(' ')));
  EXPECT_EQ(error_code(wire), "UnsupportedSignatureMethod");
}

TEST(RequestDecoder, V3AuthorizationWithoutAPartIsIncomplete) {
  const SignedHttpRequest signed_wire = sign_v3(kInput);
  const std::string auth = *header_value(signed_wire.view(), "authorization");
  for (std::string_view part : {"Credential=", "SignedHeaders=", "Signature="}) {
    SignedHttpRequest wire = signed_wire;
    std::string changed = auth;
    changed.replace(changed.find(part), part.size(), "Other=");
    set_header(wire, "authorization", changed);
    EXPECT_EQ(error_code(wire), "IncompleteSignature") << part;
  }
}

TEST(RequestDecoder, V3HostAndEveryXAcsHeaderMustBeSigned) {
  const SignedHttpRequest signed_wire = sign_v3(kInput);
  const std::string auth = *header_value(signed_wire.view(), "authorization");
  SignedHttpRequest host_unsigned = signed_wire;
  std::string without_host = auth;
  without_host.replace(without_host.find("host;"), 5, "");
  set_header(host_unsigned, "authorization", without_host);
  EXPECT_EQ(error_code(host_unsigned), "IncompleteSignature");

  SignedHttpRequest extra_header = signed_wire;
  extra_header.headers.emplace_back("x-acs-extra", "1");
  auto d = decode_request(extra_header.view());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "IncompleteSignature");
  EXPECT_NE(d.error().message.find("x-acs-extra"), std::string::npos);

  SignedHttpRequest signed_but_absent = signed_wire;
  remove_header(signed_but_absent, "x-acs-action");
  EXPECT_EQ(error_code(signed_but_absent), "IncompleteSignature");
}

TEST(RequestDecoder, V3FormBodyNeedsSignedContentType) {
  SignedHttpRequest wire = sign_v3(kInput);
  wire.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  wire.body = "Extra=1";
  EXPECT_EQ(error_code(wire), "IncompleteSignature");
}

TEST(RequestDecoder, V3ContentHashMustMatchTheBody) {
  SignedHttpRequest wire = sign_v3(kInput);
  wire.body = "tampered";
  auto d = decode_request(wire.view());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "SignatureDoesNotMatch");
  EXPECT_NE(d.error().message.find("x-acs-content-sha256"), std::string::npos);
}

TEST(RequestDecoder, V3AccessKeyHeaderMustAgreeWithCredential) {
  SignInput input = kInput;
  input.security_token = "sts";
  SignedHttpRequest wire = sign_v3(input);
  set_header(wire, "x-acs-accesskey-id", "someone-else");
  EXPECT_EQ(error_code(wire), "SignatureDoesNotMatch");
}

TEST(RequestDecoder, V3MissingActionNamesTheHeader) {
  SignInput input = kInput;
  input.action = "";
  auto d = decode_request(sign_v3(input).view());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "MissingParameter");
  EXPECT_NE(d.error().message.find("x-acs-action"), std::string::npos);
}

TEST(HeaderValue, TrimsAndJoinsRepeatedHeaders) {
  const SignedHttpRequest wire{"GET", "/", {{"x-acs-a", "  one "}, {"x-acs-b", "b"}, {"x-acs-a", "\ttwo"}}, ""};
  EXPECT_EQ(header_value(wire.view(), "x-acs-a"), "one,two");
  EXPECT_EQ(header_value(wire.view(), "x-acs-b"), "b");
  EXPECT_FALSE(header_value(wire.view(), "x-acs-c"));
}
