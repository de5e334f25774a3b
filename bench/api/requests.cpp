#include "requests.h"

namespace opendbs::bench {
namespace {

std::string to_wire(const api::SignedHttpRequest& r) {
  std::string wire;
  wire.reserve(256 + r.target.size() + r.body.size());
  wire.append(r.method).append(" ").append(r.target).append(" HTTP/1.1\r\n");
  for (const auto& [name, value] : r.headers) wire.append(name).append(": ").append(value).append("\r\n");
  if (r.method != "GET" || !r.body.empty()) wire.append("content-length: ").append(std::to_string(r.body.size())).append("\r\n");
  wire.append("\r\n").append(r.body);
  return wire;
}

}  // namespace

std::string Signer::call(const std::string& action, const api::ParamList& params) const {
  api::SignInput in;
  in.method = post ? "POST" : "GET";
  in.host = host;
  in.action = action;
  in.params = params;
  in.access_key_id = access_key_id;
  in.access_key_secret = access_key_secret;
  // Empty nonce and timestamp: sign_v1/sign_v3 fill in a random nonce and the current time.
  return to_wire(signature == Signature::v1 ? api::sign_v1(in, post) : api::sign_v3(in));
}

std::string plain_get(const std::string& host, const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nhost: " + host + "\r\n\r\n";
}

}  // namespace opendbs::bench
