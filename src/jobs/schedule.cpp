#include "jobs/schedule.h"

#include <chrono>
#include <sstream>

namespace opendbs::jobs {
namespace {

// Bit i set = weekday i (0 = Sunday, as std::chrono::weekday::c_encoding()).
int weekday_mask(const std::string& period) {
  static const char* names[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  int mask = 0;
  std::stringstream in(period);
  for (std::string token; std::getline(in, token, ',');) {
    std::string t;
    for (char c : token)
      if (c != ' ') t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (int i = 0; i < 7; ++i)
      if (t == names[i]) mask |= 1 << i;
  }
  return mask;
}

}  // namespace

std::optional<int64_t> next_run_after(const std::string& period, const std::string& start, int64_t after_ms) {
  using namespace std::chrono;
  const int mask = weekday_mask(period);
  if (mask == 0 || start.size() != 5 || start[2] != ':') return std::nullopt;
  int hh = 0, mm = 0;
  try {
    hh = std::stoi(start.substr(0, 2));
    mm = std::stoi(start.substr(3, 2));
  } catch (...) {
    return std::nullopt;
  }
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59) return std::nullopt;
  const sys_days first_day = floor<days>(sys_time<milliseconds>(milliseconds(after_ms)));
  for (int i = 0; i <= 7; ++i) {
    const sys_days day = first_day + days(i);
    if (!(mask & (1 << weekday(day).c_encoding()))) continue;
    const int64_t at = duration_cast<milliseconds>((day + hours(hh) + minutes(mm)).time_since_epoch()).count();
    if (at > after_ms) return at;
  }
  return std::nullopt;  // unreachable: some weekday in the next 8 days matches
}

}  // namespace opendbs::jobs
