// Alibaba Cloud RPC signatures, exactly as shared/dbs/protocol.md §4 (V1, HMAC-SHA1) and §5 (V3,
// ACS3-HMAC-SHA256) describe them: verification for the node, signing for clients (the opendbs CLI, the
// load generator, tests). Checked against every vector of shared/dbs/signature-vectors.json.
#pragma once

#include <string>
#include <string_view>

#include "api/percent_encoding.h"
#include "api/request_decoder.h"
#include "core/result.h"

namespace opendbs::api {

// The intermediate strings of a signature, for verification and for error messages.
struct SigningStrings {
  std::string canonical;       // V1: CanonicalizedQueryString; V3: CanonicalRequest
  std::string string_to_sign;  // what the HMAC is computed over
};

// V1: `params` are decoded names and values in any order; a `Signature` entry is skipped.
SigningStrings v1_signing_strings(std::string_view http_method, const ParamList& params);
std::string v1_signature(std::string_view access_key_secret, std::string_view string_to_sign);  // base64

// V3: `query` are decoded names and values in any order; `headers` are the signed headers as
// (lower-case name, canonical value) in the order they are signed; `hashed_payload` is lower-hex.
SigningStrings v3_signing_strings(std::string_view http_method, const ParamList& query, const ParamList& headers,
                                  std::string_view hashed_payload);
std::string v3_signature(std::string_view access_key_secret, std::string_view string_to_sign);  // lower hex

// What the server computes for a decoded request (the strings SignatureDoesNotMatch shows).
SigningStrings server_signing_strings(const HttpRequestView& request, const DecodedRequest& decoded);

// Checks the signature of a request decoded by decode_request against the secret of its access key.
// A mismatch is SignatureDoesNotMatch whose message shows the server's StringToSign (V1) or its
// CanonicalRequest and StringToSign (V3), as Alibaba Cloud does, so a client author can compare.
core::Status verify_signature(const HttpRequestView& request, const DecodedRequest& decoded,
                              std::string_view access_key_secret);

// What a client signs. Empty `nonce` or `timestamp` are filled with a random nonce and the current time.
struct SignInput {
  std::string method = "POST";
  std::string host;  // host[:port], sent and (V3) signed as the Host header
  std::string action;
  std::string version = "2019-03-06";
  ParamList params;  // API parameters, decoded
  std::string access_key_id;
  std::string access_key_secret;
  std::string security_token;  // STS token; empty for a plain access key
  std::string nonce;
  std::string timestamp;        // "YYYY-MM-DDThh:mm:ssZ"
  std::string format = "JSON";  // V1 Format parameter
  ParamList extra_headers;      // V3: more headers to send and sign (lower-case x-acs-* or content-type)
};

struct SignedHttpRequest {
  std::string method;
  std::string target;                                        // "/" or "/?query"
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;

  // The request as the server would see it (for self-checks and tests); valid while *this is.
  HttpRequestView view() const { return {method, target, headers, body}; }
};

// V1 as pop-core sends it: every parameter canonically encoded and sorted, Signature last, either in the
// URL query or (params_in_form_body) as an application/x-www-form-urlencoded body with target "/".
SignedHttpRequest sign_v1(const SignInput& input, bool params_in_form_body);
// V3 as Tea's doRequest sends it: API parameters in the query, empty body, x-acs-* headers and an
// Authorization header; with a security token also x-acs-accesskey-id and x-acs-security-token.
SignedHttpRequest sign_v3(const SignInput& input);

}  // namespace opendbs::api
