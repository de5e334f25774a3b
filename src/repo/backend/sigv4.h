// AWS Signature Version 4 (header form), written on OpenSSL through core/crypto.
//
// The signer is deliberately pure: it takes a fully described request (method, raw path, raw query
// parameters, the headers to sign, the payload hash) and returns strings, so that it can be checked
// byte for byte against AWS's published test suite and against botocore. It applies S3's rules for
// the canonical URI: the path is percent-encoded once and never normalized ("a//b" and "a/./b" are
// signed as written), which is what every S3-compatible store expects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opendbs::repo::sigv4 {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // STS token; sent as x-amz-security-token when not empty
};

struct Request {
  std::string method;              // "GET", "PUT", ...
  std::string path;                // raw (not yet percent-encoded) absolute path, e.g. "/bucket/data/x"
  Pairs query;                     // raw names and values, in any order
  Pairs headers;                   // every header to sign, including Host; names in any case
  std::string payload_sha256_hex;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct Scope {
  std::string amz_date;  // "20150830T123600Z"
  std::string region;    // "us-east-1"
  std::string service;   // "s3"
};

// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - . _ ~ stay, everything else is %XX in
// upper case; '/' stays only when `keep_slash` (paths) and is encoded in query names and values.
std::string uri_encode(std::string_view text, bool keep_slash);

// "name=value&..." sorted by encoded name then value; usable as the request's actual query string.
std::string canonical_query(const Pairs& query);

std::string canonical_request(const Request& request);
std::string string_to_sign(const Request& request, const Scope& scope);
std::string signature_hex(const Request& request, const Scope& scope, std::string_view secret_access_key);

// The value of the Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request, SignedHeaders=..., Signature=...".
std::string authorization(const Request& request, const Scope& scope, const Credentials& credentials);

// "20150830T123600Z" for a time in milliseconds since the Unix epoch.
std::string amz_date(int64_t epoch_ms);

}  // namespace opendbs::repo::sigv4
