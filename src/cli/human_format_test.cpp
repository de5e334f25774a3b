#include "cli/human_format.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace opendbs::cli {
namespace {

// Runs the test body in a fixed zone (restored after), so local times are predictable.
class InZone : public ::testing::Test {
 protected:
  void use(const char* zone) {
    setenv("TZ", zone, 1);
    tzset();
  }
  void TearDown() override {
    if (saved_) setenv("TZ", saved_->c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }

 private:
  std::optional<std::string> saved_ = std::getenv("TZ") ? std::optional<std::string>(std::getenv("TZ")) : std::nullopt;
};

constexpr int64_t kMoment = 1795852589000;  // 2026-11-28T07:56:29Z

TEST_F(InZone, LocalTimeIsIsoWithTheZoneOffset) {
  use("Asia/Shanghai");
  EXPECT_EQ(local_time(kMoment), "2026-11-28T15:56:29+08:00");
  use("UTC");
  EXPECT_EQ(local_time(kMoment), "2026-11-28T07:56:29+00:00");
  EXPECT_EQ(local_time(kMoment + 250), "2026-11-28T07:56:29+00:00");
  EXPECT_EQ(local_moment(kMoment + 250), "2026-11-28T07:56:29.250+00:00");
  EXPECT_EQ(local_moment(kMoment + 7), "2026-11-28T07:56:29.007+00:00");
  EXPECT_EQ(local_moment(kMoment), "2026-11-28T07:56:29+00:00");
  EXPECT_EQ(local_time(0), "-");
}

TEST(Age, SaysHowLongAgoInTheLargestWholeUnit) {
  EXPECT_EQ(age(kMoment, kMoment + 2000), "just now");
  EXPECT_EQ(age(kMoment, kMoment + 42000), "42s ago");
  EXPECT_EQ(age(kMoment, kMoment + 5 * 60000 + 59000), "5m ago");
  EXPECT_EQ(age(kMoment, kMoment + 3 * 3600000), "3h ago");
  EXPECT_EQ(age(kMoment, kMoment + 2 * 86400000LL), "2d ago");
  EXPECT_EQ(age(kMoment + 300000, kMoment), "in 5m");
  EXPECT_EQ(age(0, kMoment), "-");
}

TEST(Bytes, UsesBinaryUnitsWithOneDecimalBelowTen) {
  EXPECT_EQ(bytes(512), "512 B");
  EXPECT_EQ(bytes(1536), "1.5 KiB");
  EXPECT_EQ(bytes(120ULL << 20), "120 MiB");
  EXPECT_EQ(bytes((23ULL << 30) / 10), "2.3 GiB");
}

TEST(Duration, ShowsTwoUnits) {
  EXPECT_EQ(duration(45000), "45s");
  EXPECT_EQ(duration(65000), "1m05s");
  EXPECT_EQ(duration((2 * 3600 + 3 * 60 + 9) * 1000LL), "2h03m");
  EXPECT_EQ(duration((3 * 86400 + 4 * 3600) * 1000LL), "3d04h");
  EXPECT_EQ(duration(-5), "0s");
}

TEST_F(InZone, ParseTimeAcceptsUtcOffsetsFractionsAndLocalTime) {
  use("Asia/Shanghai");
  EXPECT_EQ(*parse_time("2026-11-28T07:56:29Z", "--time"), kMoment);
  EXPECT_EQ(*parse_time("2026-11-28T07:56:29.250Z", "--time"), kMoment + 250);
  EXPECT_EQ(*parse_time("2026-11-28T15:56:29+08:00", "--time"), kMoment);
  EXPECT_EQ(*parse_time("2026-11-28T02:56:29-0500", "--time"), kMoment);
  EXPECT_EQ(*parse_time("2026-11-28 15:56:29", "--time"), kMoment) << "no zone: local time";
  EXPECT_EQ(*parse_time("2026-11-28T15:56:29", "--time"), kMoment);
  EXPECT_EQ(*parse_time("1795852589250", "--time"), kMoment + 250) << "epoch milliseconds, as the API gives them";
}

TEST(ParseTime, RejectsWhatIsNotATimeNamingTheFlag) {
  for (const char* bad : {"yesterday", "2026-13-01T00:00:00Z", "2026-11-28T24:00:00Z", "2026-11-28T07:56:29+8",
                          "2026-11-28", "2026-11-28T07:56:29Q", "179585258", "17958525890001234"}) {
    auto r = parse_time(bad, "--time");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "InvalidParameterValid");
    EXPECT_NE(r.error().message.find("--time"), std::string::npos);
  }
}

}  // namespace
}  // namespace opendbs::cli
