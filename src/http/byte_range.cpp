#include "http/byte_range.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>

namespace opendbs::http {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1*DIGIT; a number too large for 64 bits saturates (it is past the end of any file anyway).
std::optional<std::uint64_t> parse_digits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
  }
  return value;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

// RFC 9110 §13.1.5: a tag matches by strong comparison (a weak tag never does), a date only when it
// is exactly the Last-Modified value.
bool if_range_matches(std::string_view if_range, const FileValidators& validators) {
  if_range = trim_ows(if_range);
  if (if_range.starts_with('"')) return !validators.etag.empty() && if_range == validators.etag;
  if (if_range.starts_with("W/")) return false;
  return !validators.last_modified.empty() && if_range == validators.last_modified;
}

}  // namespace

RangeAnswer answer_range(std::string_view range, std::string_view if_range, std::uint64_t size,
                         const FileValidators& validators) {
  const RangeAnswer whole;
  range = trim_ows(range);
  const size_t equals = range.find('=');
  if (equals == std::string_view::npos || !iequals(trim_ows(range.substr(0, equals)), "bytes")) return whole;
  const std::string_view spec = trim_ows(range.substr(equals + 1));
  if (spec.find(',') != std::string_view::npos) return whole;  // several ranges: not served, ignored
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
  std::uint64_t first = 0, last = 0;
  if (first_text.empty()) {  // "-n": the last n bytes
    const auto suffix = parse_digits(last_text);
    if (!suffix) return whole;
    if (!if_range.empty() && !if_range_matches(if_range, validators)) return whole;
    if (*suffix == 0 || size == 0) return RangeAnswer{RangeAnswer::unsatisfiable};
    first = *suffix >= size ? 0 : size - *suffix;
    last = size - 1;
  } else {  // "a-b" or "a-"
    const auto from = parse_digits(first_text);
    const auto to = last_text.empty() ? std::optional<std::uint64_t>(kMax) : parse_digits(last_text);
    if (!from || !to || *to < *from) return whole;  // an invalid range-spec: the header is ignored
    if (!if_range.empty() && !if_range_matches(if_range, validators)) return whole;
    if (*from >= size) return RangeAnswer{RangeAnswer::unsatisfiable};
    first = *from;
    last = std::min(*to, size - 1);
  }
  return RangeAnswer{RangeAnswer::partial, first, last - first + 1};
}

std::string content_range(const RangeAnswer& answer, std::uint64_t size) {
  if (answer.kind != RangeAnswer::partial) return "bytes */" + std::to_string(size);
  return "bytes " + std::to_string(answer.first) + "-" + std::to_string(answer.first + answer.length - 1) + "/" +
         std::to_string(size);
}

FileValidators file_validators(std::uint64_t size, std::time_t mtime_s, long mtime_ns) {
  char tag[64];
  std::snprintf(tag, sizeof tag, "\"%llx-%llx-%lx\"", static_cast<unsigned long long>(size),
                static_cast<unsigned long long>(mtime_s), static_cast<unsigned long>(mtime_ns));
  std::tm utc{};
  gmtime_r(&mtime_s, &utc);
  char date[40];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &utc);  // the C locale's names
  return FileValidators{tag, date};
}

}  // namespace opendbs::http
