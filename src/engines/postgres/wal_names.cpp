#include "engines/postgres/wal_names.h"

#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "engines/engine.h"

namespace opendbs::engines::postgres {

std::optional<Lsn> parse_lsn(const std::string& text) {
  unsigned hi = 0, lo = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%X/%X%c", &hi, &lo, &tail) != 2) return std::nullopt;
  return (static_cast<Lsn>(hi) << 32) | lo;
}

std::string format_lsn(Lsn lsn) {
  char out[32];
  std::snprintf(out, sizeof out, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn));
  return out;
}

std::string wal_file_name(uint32_t timeline, uint64_t segno, uint64_t segment_size) {
  const uint64_t per_id = 0x100000000ULL / segment_size;
  char out[32];
  std::snprintf(out, sizeof out, "%08X%08X%08X", timeline, static_cast<unsigned>(segno / per_id),
                static_cast<unsigned>(segno % per_id));
  return out;
}

std::optional<uint64_t> wal_file_segno(const std::string& name, uint64_t segment_size) {
  if (name.size() != 24) return std::nullopt;
  for (char c : name)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  const uint64_t hi = std::stoull(name.substr(8, 8), nullptr, 16);
  const uint64_t lo = std::stoull(name.substr(16, 8), nullptr, 16);
  return hi * (0x100000000ULL / segment_size) + lo;
}

std::string wal_set_prefix(const std::string& plan_id) { return log_set_id(plan_id, ""); }

std::string slot_name(const std::string& plan_id) {
  std::string out = "opendbs_";
  for (char c : plan_id) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    out += keep ? c : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : '_';
  }
  return out.substr(0, 63);
}

std::string pg_timestamp_literal(int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return out;
}

}  // namespace opendbs::engines::postgres
