#include "cli/human_format.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/errors.h"

namespace opendbs::cli {
namespace {

std::string two_units(int64_t big, const char* big_unit, int64_t small, const char* small_unit) {
  char out[32];
  std::snprintf(out, sizeof out, "%lld%s%02lld%s", static_cast<long long>(big), big_unit,
                static_cast<long long>(small), small_unit);
  return out;
}

// Reads exactly `n` digits at `pos`; -1 when they are not there.
int digits(const std::string& s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

namespace {

std::string local_iso(int64_t epoch_ms, bool with_ms) {
  if (epoch_ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = text;
  if (with_ms && epoch_ms % 1000 != 0) {
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03d", static_cast<int>(epoch_ms % 1000));
    out += ms;
  }
  std::strftime(text, sizeof text, "%z", &tm);  // +0800; ISO 8601 extended form wants +08:00
  const std::string zone = text;
  return zone.size() == 5 ? out + zone.substr(0, 3) + ":" + zone.substr(3) : out + zone;
}

}  // namespace

std::string local_time(int64_t epoch_ms) { return local_iso(epoch_ms, false); }
std::string local_moment(int64_t epoch_ms) { return local_iso(epoch_ms, true); }

std::string age(int64_t epoch_ms, int64_t now_ms) {
  if (epoch_ms <= 0) return "-";
  const int64_t delta = now_ms - epoch_ms;
  const int64_t s = (delta < 0 ? -delta : delta) / 1000;
  if (s < 5) return "just now";
  std::string amount = s < 60      ? std::to_string(s) + "s"
                       : s < 3600  ? std::to_string(s / 60) + "m"
                       : s < 86400 ? std::to_string(s / 3600) + "h"
                                   : std::to_string(s / 86400) + "d";
  return delta < 0 ? "in " + amount : amount + " ago";
}

std::string bytes(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n);
  int u = -1;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char out[32];
  std::snprintf(out, sizeof out, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
  return out;
}

std::string duration(int64_t ms) {
  const int64_t s = (ms < 0 ? 0 : ms) / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return two_units(s / 60, "m", s % 60, "s");
  if (s < 86400) return two_units(s / 3600, "h", s / 60 % 60, "m");
  return two_units(s / 86400, "d", s / 3600 % 24, "h");
}

core::Result<int64_t> parse_time(const std::string& text, const std::string& flag) {
  auto bad = [&] {
    return core::errors::invalid_parameter(flag, text, "a time like 2026-11-28T07:36:29Z, 2026-11-28T15:36:29+08:00, "
                                                       "2026-11-28 15:36:29 (local time) or epoch milliseconds "
                                                       "like 1795851389000");
  };
  // Epoch milliseconds, the form of the API and of DescribeRestoreRangeInfo's answers.
  if (text.size() >= 10 && text.size() <= 15 && text.find_first_not_of("0123456789") == std::string::npos)
    return std::stoll(text);
  const int y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2), h = digits(text, 11, 2),
            mi = digits(text, 14, 2), s = digits(text, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':')
    return bad();
  size_t pos = 19;
  int64_t fraction_ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    int64_t scale = 100;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, scale /= 10)
      fraction_ms += (text[pos] - '0') * scale;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return bad();
  const int64_t wall_ms =
      duration_cast<milliseconds>((sys_days{ymd} + hours{h} + minutes{mi} + seconds{s}).time_since_epoch()).count() +
      fraction_ms;
  const std::string zone = text.substr(pos);
  if (zone == "Z" || zone == "z") return wall_ms;
  if (zone.empty()) {  // local time: let the C library apply the zone and daylight saving of that date
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1)) return bad();
    return static_cast<int64_t>(t) * 1000 + fraction_ms;
  }
  const int oh = digits(zone, 1, 2), om = digits(zone, zone.size() == 6 ? 4 : 3, 2);
  if ((zone[0] != '+' && zone[0] != '-') || oh < 0 || om < 0 || (zone.size() != 6 && zone.size() != 5) ||
      (zone.size() == 6 && zone[3] != ':'))
    return bad();
  const int64_t offset_ms = (oh * 60 + om) * 60000LL;
  return zone[0] == '+' ? wall_ms - offset_ms : wall_ms + offset_ms;
}

}  // namespace opendbs::cli
