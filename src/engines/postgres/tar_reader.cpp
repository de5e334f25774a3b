#include "engines/postgres/tar_reader.h"

#include <algorithm>

#include "core/errors.h"

namespace opendbs::engines::postgres {
namespace {

constexpr size_t kBlock = 512;

// A numeric header field: octal text, or base-256 (first byte 0x80) for values that do not fit.
uint64_t tar_number(std::string_view field) {
  if (!field.empty() && (static_cast<unsigned char>(field[0]) & 0x80)) {
    uint64_t v = static_cast<unsigned char>(field[0]) & 0x7f;
    for (size_t i = 1; i < field.size(); ++i) v = (v << 8) | static_cast<unsigned char>(field[i]);
    return v;
  }
  uint64_t v = 0;
  for (char c : field) {
    if (c >= '0' && c <= '7') v = v * 8 + static_cast<uint64_t>(c - '0');
    else if (c == 0 || c == ' ') { if (v != 0) break; }
  }
  return v;
}

std::string tar_string(std::string_view field) { return std::string(field.substr(0, field.find('\0'))); }

}  // namespace

core::Status TarReader::parse_header() {
  const std::string_view h(header_);
  if (std::all_of(h.begin(), h.end(), [](char c) { return c == 0; })) return {};  // end-of-archive blocks
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  if (sum != tar_number(h.substr(148, 8)))
    return core::errors::corrupt("the base backup's tar stream has a header with a wrong checksum");
  TarEntry e;
  e.name = tar_string(h.substr(0, 100));
  const std::string prefix = tar_string(h.substr(345, 155));
  if (!prefix.empty()) e.name = prefix + "/" + e.name;
  while (!e.name.empty() && e.name.back() == '/') e.name.pop_back();
  while (e.name.rfind("./", 0) == 0) e.name.erase(0, 2);  // the main archive's members read "./base/1/..."
  if (e.name == ".") e.name.clear();
  e.mode = static_cast<uint32_t>(tar_number(h.substr(100, 8)));
  e.size = tar_number(h.substr(124, 12));
  e.mtime_s = static_cast<int64_t>(tar_number(h.substr(136, 12)));
  e.type = h[156] == 0 ? '0' : h[156];
  e.link_target = tar_string(h.substr(157, 100));
  if (e.type == '5' || e.type == '2') e.size = 0;
  data_left_ = e.size;
  padding_left_ = (kBlock - e.size % kBlock) % kBlock;
  in_member_ = true;
  OPENDBS_TRY(sink_.begin(e));
  if (data_left_ == 0) {
    in_member_ = false;
    return sink_.end();
  }
  return {};
}

core::Status TarReader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (in_member_) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(data_left_, bytes.size()));
      OPENDBS_TRY(sink_.data(bytes.substr(0, take)));
      bytes.remove_prefix(take);
      data_left_ -= take;
      if (data_left_ == 0) {
        in_member_ = false;
        OPENDBS_TRY(sink_.end());
      }
    } else if (padding_left_ > 0) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(padding_left_, bytes.size()));
      bytes.remove_prefix(take);
      padding_left_ -= take;
    } else {
      const size_t take = std::min(kBlock - header_.size(), bytes.size());
      header_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (header_.size() == kBlock) {
        auto st = parse_header();
        header_.clear();
        OPENDBS_TRY(st);
      }
    }
  }
  return {};
}

core::Status TarReader::finish() const {
  if (in_member_ || !header_.empty())
    return core::errors::corrupt("the base backup's tar stream ended inside a member");
  return {};
}

}  // namespace opendbs::engines::postgres
