#include "api/request_decoder.h"

#include <algorithm>
#include <array>
#include <functional>
#include <set>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/errors.h"

namespace opendbs::api {
namespace {

constexpr std::string_view kV3Prefix = "ACS3-";
constexpr std::string_view kV3Algorithm = "ACS3-HMAC-SHA256";
constexpr std::array<std::string_view, 13> kCommonParams = {
    "AccessKeyId",     "Action",           "Version",        "Format",    "Timestamp",
    "SignatureMethod", "SignatureVersion", "SignatureNonce", "Signature", "SignatureType",
    "SecurityToken",   "BearerToken",      "RegionId"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_common_param(std::string_view name) {
  return std::find(kCommonParams.begin(), kCommonParams.end(), name) != kCommonParams.end();
}

bool is_form_body(const HttpRequestView& request) {
  const auto type = header_value(request, "content-type");
  if (!type) return false;
  const std::string lower = to_lower(*type);
  constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  return lower.starts_with(kForm) &&
         (lower.size() == kForm.size() || lower[kForm.size()] == ';' || lower[kForm.size()] == ' ');
}

const std::string* find_param(const ParamList& params, std::string_view name) {
  for (const auto& [n, v] : params)
    if (n == name) return &v;
  return nullptr;
}

// Reads the query and a form body, rejects a name given twice (the signature would cover both values,
// but an operation could act on either), and splits API from common parameters.
core::Status read_parameters(const HttpRequestView& request, DecodedRequest& out) {
  if (request.method != "GET" && request.method != "POST")
    return core::make_error("BadRequest",
                            "HTTP method " + std::string(request.method) + " is not supported; use GET or POST.");
  const size_t question = request.target.find('?');
  const std::string_view path = request.target.substr(0, question);
  if (path != "/")
    return core::make_error("BadRequest", "The RPC API is served on \"/\", not \"" + std::string(path) + "\".");
  if (question != std::string_view::npos) {
    OPENDBS_ASSIGN(out.all_params, parse_urlencoded(request.target.substr(question + 1)));
  }
  out.query_param_count = out.all_params.size();
  if (is_form_body(request)) {
    OPENDBS_ASSIGN(ParamList body_params, parse_urlencoded(request.body));
    for (auto& p : body_params) out.all_params.push_back(std::move(p));
  }
  std::set<std::string_view> seen;
  for (const auto& [name, value] : out.all_params) {
    if (!seen.insert(name).second)
      return core::make_error("InvalidParameter", "The parameter \"" + name + "\" is given more than once.");
    if (!is_common_param(name)) out.params.emplace(name, value);
  }
  if (const auto* region = find_param(out.all_params, "RegionId")) out.region_id = *region;
  return core::ok_status();
}

// Where each scheme carries what identifies the request: V1 in parameters, V3 in x-acs-* headers.
struct IdentityFields {
  std::string_view action, version, timestamp, nonce, security_token;
};
constexpr IdentityFields kV1Fields{"Action", "Version", "Timestamp", "SignatureNonce", "SecurityToken"};
constexpr IdentityFields kV3Fields{"x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                                   "x-acs-security-token"};

// Reads the identity fields through `lookup` (empty when absent), requires all but the security token,
// and checks the timestamp's format.
core::Status read_identity(const IdentityFields& fields, const std::function<std::string(std::string_view)>& lookup,
                           DecodedRequest& out) {
  out.action = lookup(fields.action);
  out.version = lookup(fields.version);
  out.timestamp = lookup(fields.timestamp);
  out.nonce = lookup(fields.nonce);
  out.security_token = lookup(fields.security_token);
  const std::pair<const std::string*, std::string_view> required[] = {{&out.action, fields.action},
                                                                      {&out.version, fields.version},
                                                                      {&out.timestamp, fields.timestamp},
                                                                      {&out.nonce, fields.nonce}};
  for (const auto& [value, name] : required)
    if (value->empty()) return core::errors::missing_parameter(name);
  const auto ms = core::parse_iso8601(out.timestamp);
  if (!ms)
    return core::make_error("InvalidTimeStamp.Format", "The specified " + std::string(fields.timestamp) + " \"" +
                                                           out.timestamp +
                                                           "\" is not in the format YYYY-MM-DDThh:mm:ssZ (UTC).");
  out.timestamp_ms = *ms;
  return core::ok_status();
}

core::Status decode_v1(DecodedRequest& out) {
  const ParamList& p = out.all_params;
  if (const auto* type = find_param(p, "SignatureType"))
    return core::make_error(
        "UnsupportedSignatureMethod",
        "SignatureType \"" + *type + "\" is not supported; sign with HMAC-SHA1 or ACS3-HMAC-SHA256.");
  auto required = [&](std::string_view name) -> core::Result<std::string> {
    const auto* v = find_param(p, name);
    if (!v || v->empty())
      return core::make_error("IncompleteSignature",
                              "The request signature is incomplete: parameter " + std::string(name) + " is missing.");
    return *v;
  };
  OPENDBS_ASSIGN(out.access_key_id, required("AccessKeyId"));
  OPENDBS_ASSIGN(out.signature, required("Signature"));
  OPENDBS_ASSIGN(const std::string method, required("SignatureMethod"));
  OPENDBS_ASSIGN(const std::string version, required("SignatureVersion"));
  if (method != "HMAC-SHA1")
    return core::make_error("UnsupportedSignatureMethod",
                            "SignatureMethod \"" + method + "\" is not supported; use HMAC-SHA1.");
  if (version != "1.0")
    return core::make_error("UnsupportedSignatureMethod",
                            "SignatureVersion \"" + version + "\" is not supported; use 1.0.");
  auto param = [&](std::string_view name) {
    const auto* v = find_param(p, name);
    return v ? *v : std::string();
  };
  out.format = param("Format");
  return read_identity(kV1Fields, param, out);
}

core::Error incomplete_v3(const std::string& what) {
  return core::make_error("IncompleteSignature", "The Authorization header is incomplete: " + what + ".");
}

// "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex"
core::Status parse_authorization(std::string_view header, DecodedRequest& out) {
  const size_t space = header.find(' ');
  const std::string_view algorithm = header.substr(0, space);
  if (algorithm != kV3Algorithm)
    return core::make_error("UnsupportedSignatureMethod", "Signature algorithm \"" + std::string(algorithm) +
                                                              "\" is not supported; use ACS3-HMAC-SHA256.");
  std::string_view rest = space == std::string_view::npos ? std::string_view{} : header.substr(space + 1);
  std::string signed_headers;
  bool has_signed_headers = false;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "Credential") out.access_key_id = value;
    if (key == "Signature") out.signature = to_lower(value);
    if (key == "SignedHeaders") signed_headers = value, has_signed_headers = true;
  }
  if (out.access_key_id.empty()) return incomplete_v3("Credential is missing");
  if (out.signature.empty()) return incomplete_v3("Signature is missing");
  if (!has_signed_headers) return incomplete_v3("SignedHeaders is missing");
  std::string_view list = signed_headers;
  while (true) {
    const size_t semi = list.find(';');
    const std::string_view name = list.substr(0, semi);
    if (name.empty()) return incomplete_v3("SignedHeaders \"" + signed_headers + "\" has an empty name");
    out.signed_headers.push_back(to_lower(name));
    if (semi == std::string_view::npos) break;
    list.remove_prefix(semi + 1);
  }
  return core::ok_status();
}

// Every header that decides how the request is understood must be covered by the signature.
core::Status check_signed_headers(const HttpRequestView& request, const DecodedRequest& out) {
  auto is_signed = [&](std::string_view name) {
    return std::find(out.signed_headers.begin(), out.signed_headers.end(), name) != out.signed_headers.end();
  };
  for (const auto& name : out.signed_headers)
    if (!header_value(request, name)) return incomplete_v3("signed header \"" + name + "\" is not in the request");
  if (!is_signed("host")) return incomplete_v3("the host header must be signed");
  for (const auto& [name, value] : request.headers) {
    if (name.starts_with("x-acs-") && !is_signed(name))
      return incomplete_v3("header \"" + name + "\" is present but not in SignedHeaders");
  }
  if (out.all_params.size() > out.query_param_count && !is_signed("content-type"))
    return incomplete_v3("content-type must be signed when the body carries form parameters");
  return core::ok_status();
}

core::Status decode_v3(const HttpRequestView& request, std::string_view authorization, DecodedRequest& out) {
  out.scheme = SignatureScheme::v3_acs3_hmac_sha256;
  OPENDBS_TRY(parse_authorization(authorization, out));
  OPENDBS_TRY(check_signed_headers(request, out));
  auto header = [&](std::string_view name) { return header_value(request, name).value_or(std::string()); };
  OPENDBS_TRY(read_identity(kV3Fields, header, out));
  const auto key_header = header_value(request, "x-acs-accesskey-id");
  if (key_header && *key_header != out.access_key_id)
    return core::make_error(
        "SignatureDoesNotMatch",
        "x-acs-accesskey-id \"" + *key_header + "\" differs from the Credential \"" + out.access_key_id + "\".");
  const auto claimed_hash = header_value(request, "x-acs-content-sha256");
  if (!claimed_hash) return incomplete_v3("x-acs-content-sha256 is missing");
  out.content_sha256 = core::to_hex(core::sha256(request.body));
  if (to_lower(*claimed_hash) != out.content_sha256)
    return core::make_error("SignatureDoesNotMatch", "x-acs-content-sha256 \"" + *claimed_hash +
                                                         "\" is not the SHA-256 of the request body (" +
                                                         out.content_sha256 + ").");
  return core::ok_status();
}

}  // namespace

std::optional<std::string> header_value(const HttpRequestView& request, std::string_view name) {
  std::optional<std::string> joined;
  for (const auto& [n, v] : request.headers) {
    if (n != name) continue;
    if (joined) {
      *joined += ',';
      *joined += trim(v);
    } else {
      joined.emplace(trim(v));
    }
  }
  return joined;
}

core::Result<DecodedRequest> decode_request(const HttpRequestView& request) {
  DecodedRequest out;
  OPENDBS_TRY(read_parameters(request, out));
  const auto authorization = header_value(request, "authorization");
  if (authorization && authorization->starts_with(kV3Prefix)) {
    OPENDBS_TRY(decode_v3(request, *authorization, out));
    return out;
  }
  if (find_param(out.all_params, "Signature") || find_param(out.all_params, "AccessKeyId") ||
      find_param(out.all_params, "SignatureType")) {
    OPENDBS_TRY(decode_v1(out));
    return out;
  }
  if (authorization)
    return core::make_error("UnsupportedSignatureMethod",
                            "The Authorization scheme is not supported; use ACS3-HMAC-SHA256 or V1 parameters.");
  return core::make_error("IncompleteSignature",
                          "The request is not signed: it has neither an ACS3 Authorization header nor "
                          "AccessKeyId/Signature parameters.");
}

}  // namespace opendbs::api
