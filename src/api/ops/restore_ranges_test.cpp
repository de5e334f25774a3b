// Restore ranges from the catalog: a physical full set followed by a continuous chain of log files.
#include "api/ops/restore_ranges.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "core/ids.h"
#include "jobs/log_barriers.h"

namespace opendbs::api::ops {
namespace {

using catalog::Kind;

class RestoreRangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("opendbs-ranges-" + core::random_alnum(8));
    std::filesystem::create_directories(dir_);
    store_ = std::move(catalog::open_store((dir_ / "catalog.db").string()).value());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void put(Kind kind, const std::string& id, const std::string& state, boost::json::object doc) {
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) {
      return tx.put(kind, catalog::Record{id, "A", "plan1", state, 1, std::move(doc)});
    }).ok());
  }
  // A log file holding a barrier (a CREATE TABLESPACE) at `position`, restorable up to `latest_ms`.
  void put_log_with_barrier(const std::string& id, int64_t seq, int64_t end_ms, int64_t position, int64_t latest_ms) {
    boost::json::object doc{{"_Seq", seq}, {"EndTime", end_ms}};
    jobs::put_log_barriers(doc, {{position, latest_ms, "CREATE TABLESPACE (oid 16390, location /ts)"}});
    put(Kind::log_file, id, "COMPLETED", std::move(doc));
  }
  std::vector<RestoreRange> ranges(std::map<std::string, std::string>* unrestorable = nullptr) {
    std::vector<RestoreRange> out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(out, restore_ranges(tx, "plan1", unrestorable));
      return {};
    }).ok());
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Store> store_;
};

// After a timeline switch three files share the switch segment's position: the old timeline's end,
// the history file and the new timeline's segment, which may reach furthest.
TEST_F(RestoreRangesTest, FilesSharingAPositionReachAsFarAsTheFurthestOfThem) {
  put(Kind::backup_set, "full1", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 5}});
  put(Kind::log_file, "plan1-5", "COMPLETED", {{"_Seq", 5}, {"EndTime", 2000}});
  put(Kind::log_file, "plan1-new6", "FILLING", {{"_Seq", 6}, {"EndTime", 4000}});
  put(Kind::log_file, "plan1-old6.partial", "COMPLETED", {{"_Seq", 6}, {"EndTime", 3000}});
  put(Kind::log_file, "plan1-hist2", "COMPLETED", {{"_Seq", 6}, {"EndTime", 3000}});
  put(Kind::log_file, "plan1-old6", "UNCOMPLETED", {{"_Seq", 6}, {"EndTime", 0}});
  const auto r = ranges();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, "range");
  EXPECT_EQ(r[0].begin_ms, 1000);
  EXPECT_EQ(r[0].end_ms, 4000);
}

// A timeline history file holds no WAL: the moment it was stored (when the stream began on its
// timeline) claims nothing, even where it is later than the log stored at its position.
TEST_F(RestoreRangesTest, ATimelineHistoryFileClaimsNoTime) {
  put(Kind::backup_set, "full1", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 5}});
  put(Kind::log_file, "plan1-5", "UNCOMPLETED", {{"_Seq", 5}, {"EndTime", 2000}});
  put(Kind::log_file, "plan1-00000002.history", "COMPLETED",
      {{"BackupSetId", "00000002.history"}, {"_Seq", 5}, {"EndTime", 9000}});
  const auto r = ranges();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].begin_ms, 1000);
  EXPECT_EQ(r[0].end_ms, 2000);
}

// Log backup ended inside segment 6 (UNCOMPLETED, its partial set reaching 3000); when it ran again the
// source had removed that WAL and the stream went on at segment 7: nothing joins 6's end to 7's start.
TEST_F(RestoreRangesTest, AnUncompletedFileEndsTheChainAlsoWhenTheNextPositionIsStored) {
  put(Kind::backup_set, "full1", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 5}});
  put(Kind::log_file, "plan1-5", "COMPLETED", {{"_Seq", 5}, {"EndTime", 2000}});
  put(Kind::log_file, "plan1-6", "UNCOMPLETED", {{"_Seq", 6}, {"EndTime", 3000}});
  put(Kind::log_file, "plan1-7", "COMPLETED", {{"_Seq", 7}, {"EndTime", 5000}});
  put(Kind::backup_set, "full2", "finish", {{"EndTime", 6000}, {"_LogStartSeq", 8}});
  put(Kind::log_file, "plan1-8", "FILLING", {{"_Seq", 8}, {"EndTime", 7000}});
  const auto r = ranges();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].begin_ms, 1000);
  EXPECT_EQ(r[0].end_ms, 3000);
  EXPECT_EQ(r[1].begin_ms, 6000);
  EXPECT_EQ(r[1].end_ms, 7000);
}

// After ModifyBackupSourceEndpoint to another server (generation 1) the new source's WAL may have the
// same segment numbers as the old one's: neither joins the other's sets.
TEST_F(RestoreRangesTest, ASetJoinsOnlyTheLogOfTheSourceItWasTakenFrom) {
  put(Kind::backup_set, "fullA", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 5}});
  put(Kind::log_file, "plan1-A5", "COMPLETED", {{"_Seq", 5}, {"EndTime", 2000}});
  put(Kind::backup_set, "fullB", "finish", {{"EndTime", 3000}, {"_LogStartSeq", 6}, {"_SourceEpoch", 1}});
  put(Kind::log_file, "plan1-B6", "COMPLETED", {{"_Seq", 6}, {"EndTime", 4000}, {"_SourceEpoch", 1}});
  put(Kind::log_file, "plan1-B7", "FILLING", {{"_Seq", 7}, {"EndTime", 5000}, {"_SourceEpoch", 1}});
  const auto r = ranges();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].type, "range");
  EXPECT_EQ(r[0].full_set_ids, std::vector<std::string>{"fullA"});
  EXPECT_EQ(r[0].end_ms, 2000) << "the old source's chain ends where its own WAL does";
  EXPECT_EQ(r[1].type, "range");
  EXPECT_EQ(r[1].begin_ms, 3000);
  EXPECT_EQ(r[1].end_ms, 5000);

  // The old set is no range through the new source's WAL even where the numbers follow on.
  put(Kind::log_file, "plan1-A5", "COMPLETED", {{"_Seq", 5}, {"EndTime", 2000}, {"_SourceEpoch", 1}});
  const auto mixed = ranges();
  EXPECT_EQ(mixed.front().full_set_ids, std::vector<std::string>{"fullA"});
  EXPECT_EQ(mixed.front().type, "point");
}

TEST_F(RestoreRangesTest, AGapInTheChainEndsTheRange) {
  put(Kind::backup_set, "full1", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 5}});
  put(Kind::log_file, "plan1-5", "COMPLETED", {{"_Seq", 5}, {"EndTime", 2000}});
  put(Kind::log_file, "plan1-7", "COMPLETED", {{"_Seq", 7}, {"EndTime", 5000}});
  const auto r = ranges();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].end_ms, 2000);
}

// The newest set ending before the moment comes first; an older one follows when its own chain
// reaches the moment (the restore task tries it if the engine refuses the newer one).
TEST_F(RestoreRangesTest, ARestoreMayStartFromOlderSetsWhoseChainsReachTheMoment) {
  put(Kind::backup_set, "full0", "finish", {{"EndTime", 500}, {"_LogStartSeq", 3}});  // chain ends at seq 3
  put(Kind::backup_set, "full1", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 5}});
  put(Kind::backup_set, "full2", "finish", {{"EndTime", 3000}, {"_LogStartSeq", 7}});
  put(Kind::backup_set, "full3", "finish", {{"EndTime", 9000}, {"_LogStartSeq", 9}});
  put(Kind::log_file, "plan1-3", "COMPLETED", {{"_Seq", 3}, {"EndTime", 900}});
  for (int seq = 5; seq <= 8; ++seq)
    put(Kind::log_file, "plan1-" + std::to_string(seq), "COMPLETED", {{"_Seq", seq}, {"EndTime", seq * 1000}});
  const auto r = ranges();
  EXPECT_EQ(base_sets_for(r, 3500), (std::vector<std::string>{"full2", "full1"}));
  EXPECT_EQ(base_sets_for(r, 2000), (std::vector<std::string>{"full1"}));
  EXPECT_EQ(base_sets_for(r, 9000), (std::vector<std::string>{"full3"}));
  EXPECT_TRUE(base_sets_for(r, 8500).empty());
}

TEST_F(RestoreRangesTest, AnOlderSetWhoseChainEndsBeforeTheMomentIsNoAlternative) {
  put(Kind::backup_set, "fullA", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 5}});  // reaches 2000
  put(Kind::backup_set, "fullB", "finish", {{"EndTime", 1500}, {"_LogStartSeq", 7}});  // reaches 4000
  put(Kind::log_file, "plan1-5", "COMPLETED", {{"_Seq", 5}, {"EndTime", 2000}});
  put(Kind::log_file, "plan1-7", "COMPLETED", {{"_Seq", 7}, {"EndTime", 4000}});
  const auto r = ranges();
  ASSERT_EQ(r.size(), 1u);  // one range, 1000 to 4000
  EXPECT_EQ(base_sets_for(r, 3000), (std::vector<std::string>{"fullB"}));
  EXPECT_EQ(base_sets_for(r, 1800), (std::vector<std::string>{"fullB", "fullA"}));
}

// A CREATE TABLESPACE after full1 began (position 6100): full1's range ends at the latest moment the
// engine would restore from it (2500), though its chain goes on; full2, taken after it, starts a range.
TEST_F(RestoreRangesTest, ARangeEndsBeforeALogBarrierItsSetWouldReplayAndALaterSetStartsANewOne) {
  put(Kind::backup_set, "full1", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 5}, {jobs::kLogStartPosition, 5000}});
  put(Kind::log_file, "plan1-5", "COMPLETED", {{"_Seq", 5}, {"EndTime", 2000}});
  put_log_with_barrier("plan1-6", 6, 4000, 6100, 2500);
  put(Kind::log_file, "plan1-7", "COMPLETED", {{"_Seq", 7}, {"EndTime", 5000}});
  put(Kind::backup_set, "full2", "finish", {{"EndTime", 4500}, {"_LogStartSeq", 7}, {jobs::kLogStartPosition, 7000}});
  const auto r = ranges();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].type, "range");
  EXPECT_EQ(r[0].begin_ms, 1000);
  EXPECT_EQ(r[0].end_ms, 2500);
  EXPECT_EQ(r[0].cut_by(), "CREATE TABLESPACE (oid 16390, location /ts)");
  EXPECT_EQ(r[1].begin_ms, 4500);
  EXPECT_EQ(r[1].end_ms, 5000);
  EXPECT_EQ(r[1].cut_by(), "");
  EXPECT_EQ(base_sets_for(r, 2500), std::vector<std::string>{"full1"});
  EXPECT_TRUE(base_sets_for(r, 2501).empty());
  EXPECT_TRUE(base_sets_for(r, 4000).empty());
  EXPECT_EQ(base_sets_for(r, 4800), std::vector<std::string>{"full2"});
  EXPECT_EQ(reach_of_set(r, "full1")->end_ms, 2500);
}

// A set whose roll-forward begins after the barrier, in the same log file, holds the tablespace itself.
// A set recorded without its start position counts as beginning before every barrier.
TEST_F(RestoreRangesTest, ABarrierBeforeTheSetsStartPositionDoesNotConcernIt) {
  put(Kind::backup_set, "full1", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 6}, {jobs::kLogStartPosition, 6200}});
  put_log_with_barrier("plan1-6", 6, 4000, 6100, 500);
  put(Kind::log_file, "plan1-7", "COMPLETED", {{"_Seq", 7}, {"EndTime", 5000}});
  auto r = ranges();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].end_ms, 5000);

  put(Kind::backup_set, "full1", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 6}});
  put_log_with_barrier("plan1-6", 6, 4000, 6100, 3000);
  r = ranges();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].end_ms, 3000);
}

// No commit lies between the set's consistent point and the CREATE: every restore from the set would
// replay it, so the set offers no moment at all, not even its EndTime, and says why.
TEST_F(RestoreRangesTest, ASetWhoseBarrierPrecedesItsEndTimeRestoresToNoMoment) {
  put(Kind::backup_set, "full1", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 5}, {jobs::kLogStartPosition, 5000}});
  put_log_with_barrier("plan1-5", 5, 2000, 5100, -1);
  std::map<std::string, std::string> unrestorable;
  const auto r = ranges(&unrestorable);
  EXPECT_TRUE(r.empty());
  ASSERT_EQ(unrestorable.count("full1"), 1u);
  EXPECT_NE(unrestorable["full1"].find("CREATE TABLESPACE (oid 16390, location /ts)"), std::string::npos);
}

}  // namespace
}  // namespace opendbs::api::ops
