#include "core/clock.h"

#include <chrono>
#include <cstdio>

namespace opendbs::core {

int64_t SystemClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

std::string format_iso8601(int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_seconds tp{seconds{epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()), int(hms.hours().count()), int(hms.minutes().count()),
                int(hms.seconds().count()));
  return buf;
}

std::optional<int64_t> parse_iso8601(std::string_view text) {
  // Strict shape: 4-2-2T2:2:2, optional .fraction, then Z.
  auto digits = [&](size_t pos, size_t n) -> std::optional<int> {
    if (pos + n > text.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
       s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  size_t pos = 19;
  if (text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  if (pos + 1 != text.size() || text[pos] != 'Z') return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{*y}, month{unsigned(*mo)}, day{unsigned(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  const auto tp = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*s};
  return duration_cast<milliseconds>(tp.time_since_epoch()).count();
}

}  // namespace opendbs::core
