#include "repo/backend/s3_backend.h"

#include <charconv>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/errors.h"
#include "repo/backend/local_backend.h"
#include "repo/backend/s3_xml.h"

namespace opendbs::repo {
namespace {

// Store error codes that say "try again later" even when the HTTP status does not.
bool transient_code(const std::string& code) {
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" || code == "ServiceUnavailable";
}

struct ContentRange {
  uint64_t first = 0, last = 0, total = 0;
};

// "bytes 100-199/1000"; nullopt when absent or malformed.
std::optional<ContentRange> parse_content_range(const std::string& header) {
  ContentRange range;
  const char* p = header.data();
  const char* end = p + header.size();
  if (header.rfind("bytes ", 0) != 0) return std::nullopt;
  p += 6;
  for (auto [field, separator] : {std::pair{&range.first, '-'}, {&range.last, '/'}, {&range.total, '\0'}}) {
    auto [next, ec] = std::from_chars(p, end, *field);
    if (ec != std::errc() || (separator != '\0' && (next == end || *next != separator))) return std::nullopt;
    p = separator == '\0' ? next : next + 1;
  }
  if (p != end || range.last < range.first) return std::nullopt;
  return range;
}

std::optional<uint64_t> content_length(const HttpResponse& response) {
  const std::string text = response.header("content-length");
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc()) return std::nullopt;
  return value;
}

}  // namespace

S3Backend::S3Backend(S3Config config) : config_(std::move(config)), http_(config_.http) {}

std::string S3Backend::describe() const {
  return "s3://" + config_.bucket + (config_.prefix.empty() ? "" : "/" + config_.prefix) + " at " + config_.scheme +
         "://" + config_.endpoint_host;
}

std::string S3Backend::key_of(const std::string& name) const {
  return config_.prefix.empty() ? name : config_.prefix + "/" + name;
}

core::Result<HttpResponse> S3Backend::send(const Call& call) {
  std::string path = "/" + call.key;
  if (config_.path_style) path = call.key.empty() ? "/" + config_.bucket : "/" + config_.bucket + path;
  const std::string host = config_.path_style ? config_.endpoint_host : config_.bucket + "." + config_.endpoint_host;
  const std::string date = sigv4::amz_date(core::SystemClock::instance().now_ms());

  sigv4::Request signed_part{call.method, path, call.query, call.headers, core::to_hex(core::sha256(call.body))};
  signed_part.headers.push_back({"Host", host});
  signed_part.headers.push_back({"X-Amz-Date", date});
  signed_part.headers.push_back({"X-Amz-Content-SHA256", signed_part.payload_sha256_hex});
  if (!config_.credentials.session_token.empty())
    signed_part.headers.push_back({"X-Amz-Security-Token", config_.credentials.session_token});

  HttpRequest request{call.method, config_.scheme + "://" + host + sigv4::uri_encode(path, true), signed_part.headers,
                      call.body};
  if (!call.query.empty()) request.url += "?" + sigv4::canonical_query(call.query);
  request.headers.push_back(
      {"Authorization", sigv4::authorization(signed_part, {date, config_.region, "s3"}, config_.credentials)});
  return http_.perform(request);
}

core::Error S3Backend::error_from(const HttpResponse& response, const std::string& what) const {
  const auto document = s3xml::parse_error(response.body);
  std::string text = describe() + ": " + what + " answered HTTP " + std::to_string(response.status);
  if (document) text += " " + document->code + (document->message.empty() ? "" : ": " + document->message);
  const std::string code = document ? document->code : "";
  if (response.status == 404 && code != "NoSuchBucket") return core::errors::not_found(text);
  if (response.status >= 500 || response.status == 429 || transient_code(code))
    return core::make_error("ServiceUnavailable", text);
  return core::errors::io(text);
}

core::Status S3Backend::put(const std::string& name, std::string_view data) {
  OPENDBS_TRY(validate_object_name(name));
  const std::string key = key_of(name);
  if (config_.multipart_threshold_bytes > 0 && data.size() >= config_.multipart_threshold_bytes)
    return put_multipart(key, data);
  return put_single(key, data);
}

core::Status S3Backend::put_single(const std::string& key, std::string_view data) {
  OPENDBS_ASSIGN(auto response, send({"PUT", key, {}, {{"Content-Type", "application/octet-stream"}}, data}));
  if (response.status != 200) return error_from(response, "PUT " + key);
  return {};
}

core::Result<std::string> S3Backend::get(const std::string& name) {
  OPENDBS_TRY(validate_object_name(name));
  const std::string key = key_of(name);
  OPENDBS_ASSIGN(auto response, send({"GET", key, {}, {}, {}}));
  if (response.status != 200) return error_from(response, "GET " + key);
  const auto announced = content_length(response);
  if (announced && *announced != response.body.size())
    return core::make_error("ServiceUnavailable", describe() + ": GET " + key +
                                                      " was cut short: " + std::to_string(response.body.size()) +
                                                      " of " + std::to_string(*announced) + " bytes");
  return std::move(response.body);
}

core::Result<std::string> S3Backend::get_range(const std::string& name, uint64_t offset, uint64_t length) {
  OPENDBS_TRY(validate_object_name(name));
  const std::string key = key_of(name);
  const std::string what = "GET " + key + " bytes " + std::to_string(offset) + "+" + std::to_string(length);
  auto past_end = [&](uint64_t size) {
    return core::errors::corrupt(describe() + ": " + what + " reaches past the end of the object (" +
                                 std::to_string(size) + " bytes)");
  };
  if (length == 0) {  // HTTP cannot ask for zero bytes; check the bounds instead
    OPENDBS_ASSIGN(auto info, stat(name));
    if (!info) return core::errors::not_found(describe() + ": no object " + key);
    if (offset > info->size) return past_end(info->size);
    return std::string();
  }
  const std::string wanted = "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
  OPENDBS_ASSIGN(auto response, send({"GET", key, {}, {{"Range", wanted}}, {}}));
  if (response.status == 416) {
    const auto range = parse_content_range(response.header("content-range"));  // "bytes */1000"
    return past_end(range ? range->total : 0);
  }
  if (response.status == 200) {  // the store ignored Range and sent the whole object
    if (response.body.size() < offset + length) return past_end(response.body.size());
    return response.body.substr(offset, length);
  }
  if (response.status != 206) return error_from(response, what);
  const auto range = parse_content_range(response.header("content-range"));
  if (!range) return core::errors::io(describe() + ": " + what + " answered 206 without a valid Content-Range");
  if (range->total < offset + length) return past_end(range->total);
  if (response.body.size() != range->last - range->first + 1)
    return core::make_error("ServiceUnavailable", describe() + ": " + what + " was cut short: received " +
                                                      std::to_string(response.body.size()) + " of " +
                                                      std::to_string(range->last - range->first + 1) + " bytes");
  // Some stores answer with more than was asked (s3rver sends everything for "bytes=0-0").
  if (range->first > offset || range->last < offset + length - 1)
    return core::errors::io(describe() + ": " + what +
                            " answered a different range: " + response.header("content-range"));
  if (range->first == offset && response.body.size() == length) return std::move(response.body);
  return response.body.substr(offset - range->first, length);
}

core::Result<std::optional<ObjectInfo>> S3Backend::stat(const std::string& name) {
  OPENDBS_TRY(validate_object_name(name));
  const std::string key = key_of(name);
  OPENDBS_ASSIGN(auto response, send({"HEAD", key, {}, {}, {}}));
  if (response.status == 404) return std::optional<ObjectInfo>{};
  if (response.status != 200) return error_from(response, "HEAD " + key);
  const auto size = content_length(response);
  if (!size) return core::errors::io(describe() + ": HEAD " + key + " answered without a Content-Length");
  return std::optional<ObjectInfo>{ObjectInfo{name, *size}};
}

core::Result<std::vector<ObjectInfo>> S3Backend::list(const std::string& prefix) {
  const std::string key_prefix = config_.prefix.empty() ? prefix : config_.prefix + "/" + prefix;
  const size_t strip = config_.prefix.empty() ? 0 : config_.prefix.size() + 1;
  std::vector<ObjectInfo> out;
  std::string token;
  do {
    sigv4::Pairs query = {
        {"list-type", "2"}, {"prefix", key_prefix}, {"max-keys", std::to_string(config_.list_page_size)}};
    if (!token.empty()) query.push_back({"continuation-token", token});
    OPENDBS_ASSIGN(auto response, send({"GET", "", query, {}, {}}));
    if (response.status != 200) return error_from(response, "LIST " + key_prefix);
    OPENDBS_ASSIGN(auto page, s3xml::parse_list_page(response.body));
    for (auto& object : page.objects) {
      if (object.name.size() < strip) continue;  // cannot happen with a conforming store
      out.push_back({object.name.substr(strip), object.size});
    }
    token = page.truncated ? page.next_continuation_token : "";
  } while (!token.empty());
  return out;
}

core::Status S3Backend::remove(const std::string& name) {
  OPENDBS_TRY(validate_object_name(name));
  const std::string key = key_of(name);
  OPENDBS_ASSIGN(auto response, send({"DELETE", key, {}, {}, {}}));
  if (response.status == 204 || response.status == 200 || response.status == 404) return {};
  return error_from(response, "DELETE " + key);
}

}  // namespace opendbs::repo
