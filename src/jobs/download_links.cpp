#include "jobs/download_links.h"

#include <charconv>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/errors.h"

namespace opendbs::jobs {
namespace {

constexpr std::string_view kPrefix = "/downloads/";

bool plain_part(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

// [A-Za-z0-9_-] parts joined by single dots: no "..", no '/', nothing hidden.
bool plain_name(std::string_view s) {
  for (size_t at = 0;;) {
    const size_t dot = s.find('.', at);
    if (!plain_part(s.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at))) return false;
    if (dot == std::string_view::npos) return true;
    at = dot + 1;
  }
}

// The value of `key` in a query string (no percent-decoding: the node writes only plain values).
std::string_view query_value(std::string_view query, std::string_view key) {
  for (size_t at = 0; at <= query.size();) {
    size_t end = query.find('&', at);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(at, end - at);
    if (pair.size() > key.size() && pair.starts_with(key) && pair[key.size()] == '=') return pair.substr(key.size() + 1);
    at = end + 1;
  }
  return {};
}

core::Error forbidden(const std::string& why) {
  return core::make_error("Request.Forbidden", "This download link is not valid: " + why +
                                                   ". DescribeBackupSetDownloadTaskList shows the current link;"
                                                   " CreateFullBackupSetDownload makes a new one.");
}

}  // namespace

std::string DownloadLinks::file_for(const std::string& task_id, const std::string& name) const {
  const size_t dot = name.find('.');
  return dir_ + "/" + task_id + (dot == std::string::npos ? "" : name.substr(dot));
}

std::string DownloadLinks::signature(std::string_view path, std::string_view expires) const {
  return core::to_hex(core::hmac_sha256(key_, std::string(path) + "\n" + std::string(expires)));
}

std::string DownloadLinks::signed_path(const std::string& task_id, const std::string& name, int64_t expires_s) const {
  const std::string path = std::string(kPrefix) + task_id + "/" + name;
  const std::string expires = std::to_string(expires_s);
  return path + "?Expires=" + expires + "&Signature=" + signature(path, expires);
}

core::Result<DownloadTarget> DownloadLinks::verify(std::string_view target, int64_t now_s) const {
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (!path.starts_with(kPrefix)) return core::errors::not_found("not a download path");
  const std::string_view rest = path.substr(kPrefix.size());
  const size_t slash = rest.find('/');
  const std::string_view task_id = rest.substr(0, slash);
  const std::string_view name = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (!plain_part(task_id) || !plain_name(name))
    return core::errors::not_found("a download path is /downloads/<task id>/<file name>?Expires=...&Signature=...");
  const std::string_view expires = query_value(query, "Expires");
  const std::string_view given = query_value(query, "Signature");
  if (expires.empty() || given.empty()) return forbidden("the Expires or Signature parameter is missing");
  int64_t expires_s = 0;
  const auto [end, err] = std::from_chars(expires.data(), expires.data() + expires.size(), expires_s);
  if (err != std::errc() || end != expires.data() + expires.size()) return forbidden("Expires is not a number");
  if (!core::constant_time_equal(signature(path, expires), given))
    return forbidden("the signature does not match (the link was changed or belongs to another node)");
  if (now_s > expires_s) return forbidden("it expired at " + core::format_iso8601(expires_s * 1000));
  return DownloadTarget{file_for(std::string(task_id), std::string(name)), std::string(name)};
}

}  // namespace opendbs::jobs
