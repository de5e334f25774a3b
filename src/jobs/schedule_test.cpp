#include <gtest/gtest.h>

#include "core/clock.h"
#include "jobs/schedule.h"

using opendbs::core::format_iso8601;
using opendbs::core::parse_iso8601;
using opendbs::jobs::next_run_after;

namespace {
std::string next(const std::string& period, const std::string& start, const char* after) {
  auto r = next_run_after(period, start, *parse_iso8601(after));
  return r ? format_iso8601(*r) : "none";
}
}  // namespace

TEST(Schedule, SameDayLaterTodayOrNextMatchingWeekday) {
  // 2024-01-15 is a Monday.
  EXPECT_EQ(next("Monday", "14:22", "2024-01-15T08:30:00Z"), "2024-01-15T14:22:00Z");
  EXPECT_EQ(next("Monday", "08:30", "2024-01-15T08:30:00Z"), "2024-01-22T08:30:00Z");  // strictly after
  EXPECT_EQ(next("Wednesday,Friday", "01:00", "2024-01-15T08:30:00Z"), "2024-01-17T01:00:00Z");
}

TEST(Schedule, CrossesTheWeekBoundary) {
  // Saturday evening → next Monday; Sunday 23:59 → Monday 00:00 of the next week.
  EXPECT_EQ(next("Monday", "02:00", "2024-01-20T20:00:00Z"), "2024-01-22T02:00:00Z");
  EXPECT_EQ(next("Monday", "00:00", "2024-01-21T23:59:00Z"), "2024-01-22T00:00:00Z");
  EXPECT_EQ(next("Sunday", "23:59", "2024-01-21T23:59:00Z"), "2024-01-28T23:59:00Z");
  EXPECT_EQ(next("Sunday,Monday", "12:00", "2023-12-31T13:00:00Z"), "2024-01-01T12:00:00Z");  // year boundary
}

TEST(Schedule, IsCaseInsensitiveAndRejectsNonsense) {
  EXPECT_EQ(next("MONDAY, tuesday", "10:00", "2024-01-15T11:00:00Z"), "2024-01-16T10:00:00Z");
  EXPECT_EQ(next("", "10:00", "2024-01-15T11:00:00Z"), "none");
  EXPECT_EQ(next("Funday", "10:00", "2024-01-15T11:00:00Z"), "none");
  EXPECT_EQ(next("Monday", "25:00", "2024-01-15T11:00:00Z"), "none");
  EXPECT_EQ(next("Monday", "1000", "2024-01-15T11:00:00Z"), "none");
}
