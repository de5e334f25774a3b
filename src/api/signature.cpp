#include "api/signature.h"

#include <algorithm>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/errors.h"

namespace opendbs::api {
namespace {

constexpr std::string_view kV3Algorithm = "ACS3-HMAC-SHA256";
constexpr std::string_view kMismatchPrefix = "The request signature does not conform to Aliyun standards. ";

// Sorted by decoded name (byte order, which is the clients' JavaScript sort for ASCII names), each
// pair percent-encoded, joined with "&".
std::string canonical_query(const ParamList& params, std::string_view skip_name) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(params.size());
  for (const auto& p : params)
    if (p.first != skip_name) sorted.push_back(&p);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string out;
  for (const auto* p : sorted) {
    if (!out.empty()) out += '&';
    out += percent_encode(p->first);
    out += '=';
    out += percent_encode(p->second);
  }
  return out;
}

std::string fresh_nonce() { return core::to_hex(core::random_bytes(16)); }

std::string now_timestamp() { return core::format_iso8601(core::SystemClock::instance().now_ms()); }

}  // namespace

SigningStrings v1_signing_strings(std::string_view http_method, const ParamList& params) {
  SigningStrings s;
  s.canonical = canonical_query(params, "Signature");
  s.string_to_sign = std::string(http_method) + "&" + percent_encode("/") + "&" + percent_encode(s.canonical);
  return s;
}

std::string v1_signature(std::string_view access_key_secret, std::string_view string_to_sign) {
  return core::base64_encode(core::hmac_sha1(std::string(access_key_secret) + "&", string_to_sign));
}

SigningStrings v3_signing_strings(std::string_view http_method, const ParamList& query, const ParamList& headers,
                                  std::string_view hashed_payload) {
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  SigningStrings s;
  s.canonical = std::string(http_method) + "\n/\n" + canonical_query(query, {}) + "\n" + canonical_headers + "\n" +
                signed_headers + "\n" + std::string(hashed_payload);
  s.string_to_sign = std::string(kV3Algorithm) + "\n" + core::to_hex(core::sha256(s.canonical));
  return s;
}

std::string v3_signature(std::string_view access_key_secret, std::string_view string_to_sign) {
  return core::to_hex(core::hmac_sha256(access_key_secret, string_to_sign));
}

SigningStrings server_signing_strings(const HttpRequestView& request, const DecodedRequest& decoded) {
  if (decoded.scheme == SignatureScheme::v1_hmac_sha1) return v1_signing_strings(request.method, decoded.all_params);
  const ParamList query(decoded.all_params.begin(),
                        decoded.all_params.begin() + static_cast<std::ptrdiff_t>(decoded.query_param_count));
  ParamList headers;
  for (const auto& name : decoded.signed_headers) headers.emplace_back(name, header_value(request, name).value_or(""));
  return v3_signing_strings(request.method, query, headers, decoded.content_sha256);
}

core::Status verify_signature(const HttpRequestView& request, const DecodedRequest& decoded,
                              std::string_view access_key_secret) {
  const SigningStrings s = server_signing_strings(request, decoded);
  if (decoded.scheme == SignatureScheme::v1_hmac_sha1) {
    if (core::constant_time_equal(v1_signature(access_key_secret, s.string_to_sign), decoded.signature))
      return core::ok_status();
    return core::make_error("SignatureDoesNotMatch",
                            std::string(kMismatchPrefix) + "server string to sign is:" + s.string_to_sign);
  }
  if (core::constant_time_equal(v3_signature(access_key_secret, s.string_to_sign), decoded.signature))
    return core::ok_status();
  return core::make_error("SignatureDoesNotMatch", std::string(kMismatchPrefix) + "server canonical request is:" +
                                                       s.canonical + "\nserver string to sign is:" + s.string_to_sign);
}

SignedHttpRequest sign_v1(const SignInput& input, bool params_in_form_body) {
  ParamList params = {
      {"AccessKeyId", input.access_key_id},
      {"Action", input.action},
      {"Format", input.format},
      {"SignatureMethod", "HMAC-SHA1"},
      {"SignatureNonce", input.nonce.empty() ? fresh_nonce() : input.nonce},
      {"SignatureVersion", "1.0"},
      {"Timestamp", input.timestamp.empty() ? now_timestamp() : input.timestamp},
      {"Version", input.version},
  };
  if (!input.security_token.empty()) params.emplace_back("SecurityToken", input.security_token);
  params.insert(params.end(), input.params.begin(), input.params.end());
  const SigningStrings s = v1_signing_strings(input.method, params);
  const std::string encoded =
      s.canonical + "&Signature=" + percent_encode(v1_signature(input.access_key_secret, s.string_to_sign));

  SignedHttpRequest out{input.method, "/", {{"host", input.host}}, ""};
  if (params_in_form_body) {
    out.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    out.body = encoded;
  } else {
    out.target += "?" + encoded;
  }
  return out;
}

SignedHttpRequest sign_v3(const SignInput& input) {
  const std::string empty_body_hash = core::to_hex(core::sha256(""));
  ParamList headers = {
      {"host", input.host},
      {"x-acs-action", input.action},
      {"x-acs-content-sha256", empty_body_hash},
      {"x-acs-date", input.timestamp.empty() ? now_timestamp() : input.timestamp},
      {"x-acs-signature-nonce", input.nonce.empty() ? fresh_nonce() : input.nonce},
      {"x-acs-version", input.version},
  };
  if (!input.security_token.empty()) {
    headers.emplace_back("x-acs-accesskey-id", input.access_key_id);
    headers.emplace_back("x-acs-security-token", input.security_token);
  }
  headers.insert(headers.end(), input.extra_headers.begin(), input.extra_headers.end());
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  const SigningStrings s = v3_signing_strings(input.method, input.params, headers, empty_body_hash);
  std::string signed_names;
  for (const auto& h : headers) signed_names += (signed_names.empty() ? "" : ";") + h.first;
  const std::string query = canonical_query(input.params, {});

  SignedHttpRequest out{input.method, query.empty() ? "/" : "/?" + query, headers, ""};
  out.headers.emplace_back("authorization", std::string(kV3Algorithm) + " Credential=" + input.access_key_id +
                                                ",SignedHeaders=" + signed_names + ",Signature=" +
                                                v3_signature(input.access_key_secret, s.string_to_sign));
  return out;
}

}  // namespace opendbs::api
