#include "cli/restore_gaps.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <ctime>

namespace opendbs::cli {
namespace {

constexpr int64_t kT = 1795930279833;  // 2026-11-29T05:31:19.833Z

boost::json::object range(const char* type, int64_t from_s, int64_t to_s) {
  return {{"RangeType", type}, {"BeginTimestampForRestore", kT + from_s * 1000}, {"EndTimestampForRestore", kT + to_s * 1000}};
}

class RestoreGapNote : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

TEST_F(RestoreGapNote, AnUnbrokenChainHidesNothing) {
  EXPECT_EQ(restore_gap_note({range("range", 0, 600)}, kT + 600000), "");
  EXPECT_EQ(restore_gap_note({}, kT), "");
}

// The source removed WAL the log backup had not stored; log stored since lies past the only range.
TEST_F(RestoreGapNote, LogStoredPastTheLastRangeIsAGapSinceItsEnd) {
  EXPECT_EQ(restore_gap_note({range("range", 0, 9)}, kT + 650000),
            "gap since 2026-11-29T05:31:28+00:00: a new full backup starts a new range");
}

// A full set taken after the gap started a new range: the window spans both, the gap is between.
TEST_F(RestoreGapNote, TheNewestGapBetweenTwoRangesIsNamed) {
  EXPECT_EQ(restore_gap_note({range("range", 0, 9), range("range", 500, 900)}, kT + 900000),
            "not restorable 2026-11-29T05:31:28+00:00 → 2026-11-29T05:39:39+00:00 (a gap in the log chain)");
}

// Sets of a plan without log backup are points: nothing between them was meant to be restorable.
TEST_F(RestoreGapNote, PointsOfAPlanWithoutLogBackupAreNoGap) {
  EXPECT_EQ(restore_gap_note({range("point", 0, 0), range("point", 86400, 86400)}, 0), "");
}

}  // namespace
}  // namespace opendbs::cli
