// Decoding of a DBS RPC request (shared/dbs/protocol.md): which signature scheme it uses, who claims to
// send it, which Action/Version it asks for, and its API parameters from the URL query and a form body.
//
// decode_request needs no secret. It performs every check that a secret is not needed for (shape of the
// signature elements, supported algorithms, timestamp format, V3 body hash and SignedHeaders coverage),
// so the caller can look up the key, check the time window and the nonce, and then call
// verify_signature (signature.h). Time window, nonce replay and key lookup are the caller's job.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/percent_encoding.h"
#include "core/result.h"

namespace opendbs::api {

// One HTTP request as the server received it; views stay owned by the caller.
struct HttpRequestView {
  std::string_view method;
  std::string_view target;                                   // origin-form "path?query" exactly as on the request line
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased by the caller; repeats allowed
  std::string_view body;
};

enum class SignatureScheme { v1_hmac_sha1, v3_acs3_hmac_sha256 };

struct DecodedRequest {
  SignatureScheme scheme = SignatureScheme::v1_hmac_sha1;
  std::string access_key_id;                // V1 AccessKeyId; V3 Credential of the Authorization header
  std::string action;                       // V1 Action; V3 x-acs-action
  std::string version;                      // V1 Version; V3 x-acs-version
  std::string timestamp;                    // raw V1 Timestamp or V3 x-acs-date ...
  int64_t timestamp_ms = 0;                 // ... and its value (the format is checked here, the window by the caller)
  std::string nonce;                        // V1 SignatureNonce; V3 x-acs-signature-nonce
  std::string security_token;               // V1 SecurityToken; V3 x-acs-security-token; empty without STS
  std::string region_id;                    // the optional RegionId common parameter (pop-core sends it when asked)
  std::string format;                       // V1 Format as sent ("JSON", "json", "XML"); empty for V3
  std::string signature;                    // as sent: V1 base64, V3 hex (lower-cased)
  std::vector<std::string> signed_headers;  // V3: the SignedHeaders of the Authorization header, in order

  // The API parameters: URL query and form body merged, without the common parameters (AccessKeyId,
  // Action, Version, Format, Timestamp, SignatureMethod, SignatureVersion, SignatureNonce, Signature,
  // SignatureType, SecurityToken, BearerToken, RegionId). RegionId is not a DBS parameter (DBS
  // operations carry their own Region), so it is lifted into region_id instead.
  std::map<std::string, std::string> params;
  // Every decoded parameter in wire order, common ones included: the URL query's first, then the form
  // body's. all_params[0, query_param_count) came from the query (V3 signs only those).
  ParamList all_params;
  size_t query_param_count = 0;
  std::string content_sha256;  // V3: lower-hex SHA-256 of the body (checked against x-acs-content-sha256)
};

// Values of header `name` (lower-case) with surrounding blanks trimmed, repeats joined by "," as V3
// canonicalises them; nullopt when absent.
std::optional<std::string> header_value(const HttpRequestView& request, std::string_view name);

// Errors: BadRequest (not GET/POST on "/", malformed percent-encoding), InvalidParameter (a parameter
// given twice), IncompleteSignature (AccessKeyId/Signature/Authorization parts missing, V3 headers not
// signed), UnsupportedSignatureMethod, MissingParameter (Action, Version, Timestamp, nonce),
// InvalidTimeStamp.Format, SignatureDoesNotMatch (V3 body hash or x-acs-accesskey-id disagree).
core::Result<DecodedRequest> decode_request(const HttpRequestView& request);

}  // namespace opendbs::api
