// The source is taken back in place (restored by opendbs into its own data directory, started on the
// same endpoint) to a moment whose WAL the log backup stored only in the partial set of the segment
// still filling, or in a complete segment of a source that was already past timeline 1 when the plan
// began (docs/POSTGRES.md, "Timelines", Forks). The stream must take the new timeline for a fork: the
// old branch's partial set stays the old timeline's WAL, the new server's copy of that segment (which
// ends at the fork point) is not stored in its place, and restores to moments of the abandoned branch
// return what the source held then, not the fork point's data.
#include <gtest/gtest.h>

#include <algorithm>

#include "engines/postgres/wal_sets.h"
#include "fork_scenario.h"

namespace opendbs::testing {
namespace {

constexpr uint64_t kSegmentSize = 16u << 20;

class PostgresWalForkInPlace : public SourceForkTest {
 protected:
  std::string current_segment() { return source_->query("SELECT pg_walfile_name(pg_current_wal_insert_lsn())"); }

  // The most bytes a stored partial set of `segment` (a WAL file name) holds: 0 when none is stored.
  uint64_t stored_partial_bytes(const engines::PlanSpec& p, const std::string& segment) {
    auto sets = engines::postgres::list_wal_sets(*repo_, p.plan_id, kSegmentSize);
    EXPECT_TRUE(sets.ok());
    uint64_t most = 0;
    for (const auto& s : sets.ok() ? *sets : std::vector<engines::postgres::WalSet>{})
      if (s.kind == engines::postgres::WalSetKind::filling && s.file == segment) most = std::max(most, s.bytes);
    return most;
  }

  // Changes the source, takes it back to the moment "fork" and carries on: `segments_after_fork`
  // complete segments of the old branch follow the fork point (0: the fork point lies in the segment
  // still filling when the source is stopped). `timeline`: the one the source promotes to.
  void fork_in_place(const engines::PlanSpec& p, int segments_after_fork, const std::string& timeline) {
    ASSERT_NO_FATAL_FAILURE(begin_backups(p));
    change("UPDATE accounts SET balance = balance + 1 WHERE id <= 100", "before-fork");
    change("UPDATE accounts SET balance = balance + 2 WHERE id <= 200", "fork");  // the source returns here
    const std::string fork_segment = current_segment();
    change("UPDATE accounts SET balance = 0 WHERE id > 900", "abandoned-1");
    for (int i = 0; i < segments_after_fork; ++i) {
      ASSERT_NO_FATAL_FAILURE(store_segment());
      change("DELETE FROM accounts WHERE id % " + std::to_string(3 + i) + " = 0", "abandoned-" + std::to_string(2 + i));
    }
    change("INSERT INTO accounts SELECT g, 5 FROM generate_series(1001, 1100) g", "abandoned-end");
    const std::string end_segment = current_segment();
    if (segments_after_fork == 0) {
      ASSERT_EQ(end_segment, fork_segment) << "the old branch left its segment";
    }
    // The old branch's end is durable only in a partial set of the segment still filling.
    const auto end_offset = std::stoull(source_->query("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")) % kSegmentSize;
    ASSERT_TRUE(eventually([&] { return stored_partial_bytes(p, end_segment) >= end_offset; }, 20000));
    sleep_ms(1000);
    remember("idle");

    ASSERT_NO_FATAL_FAILURE(restore_source_to(p, p.plan_id + "-full", moments_.at("fork").first, "down"));
    ASSERT_EQ(timeline_of(*source_), timeline);
    ASSERT_EQ(source_->checksum("accounts"), moments_.at("fork").second);
    sleep_ms(1100);  // the promotion's own record may carry whole seconds
    remember("promoted");
    change("UPDATE accounts SET balance = balance * 10 WHERE id <= 50", "new-timeline");
    ASSERT_NO_FATAL_FAILURE(store_segment());
    change("DELETE FROM accounts WHERE id > 800", "new-timeline-later");
    ASSERT_NO_FATAL_FAILURE(store_segment());
    ASSERT_EQ(runner_->stop().error().code, "Cancelled");

    // The new timeline from the fork point's segment; the old branch's last partial set still holds
    // its end, and no copy of its segment cut at the fork point took its place.
    const std::string log = "log-" + p.plan_id + "-";
    EXPECT_TRUE(repo_->load_manifest(log + timeline + fork_segment.substr(8)).ok()) << "the new timeline's first segment";
    EXPECT_GE(stored_partial_bytes(p, end_segment), end_offset) << "the old branch's partial set of " << end_segment;
    EXPECT_FALSE(repo_->load_manifest(log + end_segment + ".partial").ok()) << "the old timeline ended at the fork";
    std::vector<std::string> all;
    for (const auto& [name, moment] : moments_) all.push_back(name);
    expect_restores(p, p.plan_id + "-full", all);
  }
};

// Before the fork, the old branch after it (in the same segment), while the source was down, and the
// new timeline: each restore returns what the source held then.
TEST_F(PostgresWalForkInPlace, AForkInsideTheSegmentStillFillingKeepsTheAbandonedBranchRestorable) {
  ASSERT_NO_FATAL_FAILURE(fork_in_place(source_plan("inplace1"), 0, "00000002"));
}

// The plan began on timeline 2 (its repository holds no WAL of timeline 1): the fork to timeline 3 is
// still a fork, not a gap, whether its point is in the segment still filling or in an older one.
TEST_F(PostgresWalForkInPlace, ASourcePastTimelineOneWhenThePlanBeganForksInsideTheFillingSegment) {
  ASSERT_NO_FATAL_FAILURE(promote_source(false));
  ASSERT_EQ(timeline_of(*source_), "00000002");
  ASSERT_NO_FATAL_FAILURE(fork_in_place(source_plan("inplace2"), 0, "00000003"));
}

TEST_F(PostgresWalForkInPlace, ASourcePastTimelineOneWhenThePlanBeganForksInAnOlderSegment) {
  ASSERT_NO_FATAL_FAILURE(promote_source(false));
  ASSERT_EQ(timeline_of(*source_), "00000002");
  ASSERT_NO_FATAL_FAILURE(fork_in_place(source_plan("inplace3"), 2, "00000003"));
}

}  // namespace
}  // namespace opendbs::testing
