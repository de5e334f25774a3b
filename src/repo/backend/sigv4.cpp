#include "repo/backend/sigv4.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/clock.h"
#include "core/crypto.h"

namespace opendbs::repo::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims the value and folds every run of whitespace into one space, as AWS and botocore do.
std::string fold_spaces(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (unsigned char c : value) {
    if (std::isspace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(static_cast<char>(c));
  }
  return out;
}

// Lower-case name -> values joined by ',' in the order they were given; std::map keeps names sorted.
std::map<std::string, std::string> canonical_header_map(const Pairs& headers) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : headers) {
    auto [it, inserted] = out.try_emplace(lower(name), fold_spaces(value));
    if (!inserted) it->second += "," + fold_spaces(value);
  }
  return out;
}

std::string signed_headers(const std::map<std::string, std::string>& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

std::string credential_scope(const Scope& scope) {
  return scope.amz_date.substr(0, 8) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string canonical_query(const Pairs& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

std::string canonical_request(const Request& request) {
  const auto headers = canonical_header_map(request.headers);
  std::string out = request.method + "\n" + uri_encode(request.path.empty() ? "/" : request.path, true) + "\n" +
                    canonical_query(request.query) + "\n";
  for (const auto& [name, value] : headers) out += name + ":" + value + "\n";
  out += "\n" + signed_headers(headers) + "\n" + request.payload_sha256_hex;
  return out;
}

std::string string_to_sign(const Request& request, const Scope& scope) {
  return std::string(kAlgorithm) + "\n" + scope.amz_date + "\n" + credential_scope(scope) + "\n" +
         core::to_hex(core::sha256(canonical_request(request)));
}

std::string signature_hex(const Request& request, const Scope& scope, std::string_view secret_access_key) {
  std::string key = core::hmac_sha256("AWS4" + std::string(secret_access_key), scope.amz_date.substr(0, 8));
  key = core::hmac_sha256(key, scope.region);
  key = core::hmac_sha256(key, scope.service);
  key = core::hmac_sha256(key, "aws4_request");
  return core::to_hex(core::hmac_sha256(key, string_to_sign(request, scope)));
}

std::string authorization(const Request& request, const Scope& scope, const Credentials& credentials) {
  return std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + credential_scope(scope) +
         ", SignedHeaders=" + signed_headers(canonical_header_map(request.headers)) +
         ", Signature=" + signature_hex(request, scope, credentials.secret_access_key);
}

std::string amz_date(int64_t epoch_ms) {
  std::string iso = core::format_iso8601(epoch_ms);  // 2015-08-30T12:36:00Z
  std::erase_if(iso, [](char c) { return c == '-' || c == ':'; });
  return iso;
}

}  // namespace opendbs::repo::sigv4
