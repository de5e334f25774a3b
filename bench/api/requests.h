// The requests the benchmark sends, as bytes on the wire: API calls signed afresh on every call
// (new SignatureNonce, current Timestamp) with V1 or V3, and unsigned GETs (/healthz, /metrics).
#pragma once

#include <string>

#include "api/signature.h"

namespace opendbs::bench {

enum class Signature { v1, v3 };

struct Signer {
  std::string host;  // host:port, sent (and signed, V3) as the Host header
  std::string access_key_id;
  std::string access_key_secret;
  Signature signature = Signature::v1;
  bool post = true;  // V1: POST with a form body (else GET with the query); V3: POST or GET, empty body

  // A complete HTTP/1.1 keep-alive request for `action`, signed now with a fresh nonce.
  std::string call(const std::string& action, const api::ParamList& params) const;
};

// An unsigned keep-alive GET of `path`.
std::string plain_get(const std::string& host, const std::string& path);

}  // namespace opendbs::bench
