#include "engines/postgres/timeline_history.h"

#include <gtest/gtest.h>

#include "engines/postgres/wal_sets.h"

namespace opendbs::engines::postgres {
namespace {

constexpr uint64_t k16MiB = 16 << 20;

TEST(TimelineHistory, ParsesPostgresqlsHistoryFileAndSkipsCommentsAndBlankLines) {
  auto h = parse_timeline_history(3, "1\t0/5000A28\tno recovery target specified\n\n# note\n"
                                     "2\t0/9000000\tat restore point \"x\"\n");
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_EQ(h->ancestors.size(), 2u);
  EXPECT_EQ(h->ancestors[0].timeline, 1u);
  EXPECT_EQ(h->ancestors[0].end, 0x5000A28u);
  EXPECT_EQ(h->ancestors[1].end, 0x9000000u);
  auto span = h->span_of(2);
  ASSERT_TRUE(span);
  EXPECT_EQ(span->begin, 0x5000A28u);
  EXPECT_EQ(*span->end, 0x9000000u);
  EXPECT_FALSE(h->span_of(3)->end.has_value());
  EXPECT_EQ(h->span_of(3)->begin, 0x9000000u);
  EXPECT_FALSE(h->span_of(4).has_value());
}

TEST(TimelineHistory, RefusesHistoriesThatAreOutOfOrderOrNameNoParent) {
  EXPECT_FALSE(parse_timeline_history(3, "2\t0/5000000\tx\n1\t0/6000000\ty\n").ok());
  EXPECT_FALSE(parse_timeline_history(2, "1\t0/6000000\tx\n1\t0/7000000\ty\n").ok());
  EXPECT_FALSE(parse_timeline_history(2, "2\t0/6000000\tx\n").ok());
  EXPECT_FALSE(parse_timeline_history(2, "").ok());
  EXPECT_FALSE(parse_timeline_history(2, "one 0/1 x\n").ok());
  EXPECT_TRUE(parse_timeline_history(1, "").ok());
}

// As PostgreSQL's XLogFileReadAnyTLI: the segment holding a switch point is read from the child.
TEST(TimelineHistory, ASegmentBelongsToTheNewestTimelineThatBeginsBeforeItsEnd) {
  auto h = parse_timeline_history(3, "1\t0/5000A28\tx\n2\t0/7000000\ty\n");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->timeline_of_segment(4, k16MiB), 1u);
  EXPECT_EQ(h->timeline_of_segment(5, k16MiB), 2u);
  EXPECT_EQ(h->timeline_of_segment(6, k16MiB), 2u);  // timeline 3 begins exactly where segment 7 does
  EXPECT_EQ(h->timeline_of_segment(7, k16MiB), 3u);
  EXPECT_EQ(TimelineHistory{}.timeline_of_segment(9, k16MiB), 1u);
}

TEST(TimelineHistory, HistoryFileNamesCarryTheTimelineInHex) {
  EXPECT_EQ(history_file_name(2), "00000002.history");
  EXPECT_EQ(history_file_name(26), "0000001A.history");
  EXPECT_EQ(history_file_timeline("0000001A.history"), 26u);
  EXPECT_FALSE(history_file_timeline("0000001A.histor").has_value());
  EXPECT_FALSE(history_file_timeline("000000010000000000000003").has_value());
}

TEST(WalSets, SetIdsNameSegmentsPartialsTimelineEndsAndHistories) {
  auto segment = parse_wal_set_id("p1", "log-p1-000000020000000000000005", k16MiB);
  ASSERT_TRUE(segment);
  EXPECT_EQ(segment->kind, WalSetKind::segment);
  EXPECT_EQ(segment->timeline, 2u);
  EXPECT_EQ(segment->segno, 5u);
  auto filling = parse_wal_set_id("p1", "log-p1-000000020000000000000005.partial-8192", k16MiB);
  ASSERT_TRUE(filling);
  EXPECT_EQ(filling->kind, WalSetKind::filling);
  EXPECT_EQ(filling->bytes, 8192u);
  EXPECT_EQ(filling->file, "000000020000000000000005");
  auto end = parse_wal_set_id("p1", "log-p1-000000010000000000000005.partial", k16MiB);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->kind, WalSetKind::timeline_end);
  EXPECT_EQ(end->timeline, 1u);
  auto history = parse_wal_set_id("p1", "log-p1-00000002.history", k16MiB);
  ASSERT_TRUE(history);
  EXPECT_EQ(history->kind, WalSetKind::history);
  EXPECT_EQ(history->timeline, 2u);
  EXPECT_FALSE(parse_wal_set_id("p1", "log-p2-000000010000000000000005", k16MiB));
  EXPECT_FALSE(parse_wal_set_id("p1", "log-p1-000000010000000000000005.partial-", k16MiB));
  EXPECT_FALSE(parse_wal_set_id("p1", "log-p1-000000010000000000000005.partialx", k16MiB));
  EXPECT_FALSE(parse_wal_set_id("p1", "log-p1-00000001000000000000000Z", k16MiB));
}

}  // namespace
}  // namespace opendbs::engines::postgres
