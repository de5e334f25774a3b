#include "core/utf8.h"

#include <algorithm>
#include <cstdint>

namespace opendbs::core {
namespace {

// Length of the well-formed UTF-8 sequence that starts at text[i], or 0 when the byte there does not
// begin one (Unicode Table 3-7: the second byte's range depends on the first).
size_t sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) len = 2;
  else if (b0 == 0xE0) len = 3, lo = 0xA0;
  else if (b0 == 0xED) len = 3, hi = 0x9F;  // no surrogates
  else if (b0 >= 0xE1 && b0 <= 0xEF) len = 3;
  else if (b0 == 0xF0) len = 4, lo = 0x90;
  else if (b0 == 0xF4) len = 4, hi = 0x8F;  // nothing above U+10FFFF
  else if (b0 >= 0xF1 && b0 <= 0xF3) len = 4;
  else return 0;
  if (i + len > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return len;
}

bool repair(boost::json::string& s) {
  if (is_valid_utf8(s)) return false;
  s = to_valid_utf8(s);
  return true;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t len = sequence_length(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string_view utf8_prefix(std::string_view text, size_t max_bytes) {
  size_t end = 0;
  while (end < text.size()) {
    const size_t len = std::max<size_t>(sequence_length(text, end), 1);  // a stray byte counts alone
    if (end + len > max_bytes) break;
    end += len;
  }
  return text.substr(0, end);
}

std::string to_valid_utf8(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size();) {
    const size_t len = sequence_length(text, i);
    if (len > 0) {
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    const auto b = static_cast<uint8_t>(text[i++]);
    out += "\\x";
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

bool make_valid_utf8(boost::json::value& value) {
  if (value.is_string()) return repair(value.as_string());
  if (value.is_object()) return make_valid_utf8(value.as_object());
  bool changed = false;
  if (value.is_array())
    for (auto& item : value.as_array()) changed |= make_valid_utf8(item);
  return changed;
}

bool make_valid_utf8(boost::json::object& object) {
  bool changed = false;
  boost::json::object rebuilt;  // only needed when a key must change: keys cannot be renamed in place
  bool bad_key = false;
  for (auto& [key, value] : object) {
    changed |= make_valid_utf8(value);
    bad_key |= !is_valid_utf8(key);
  }
  if (!bad_key) return changed;
  rebuilt.reserve(object.size());
  for (auto& [key, value] : object) rebuilt[to_valid_utf8(key)] = std::move(value);
  object = std::move(rebuilt);
  return true;
}

}  // namespace opendbs::core
