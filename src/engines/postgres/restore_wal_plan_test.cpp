// Which timeline and WAL a restore plans, on a repository holding a chain that switched timelines
// (the stream's sets written by hand: no server needed). With a real server: tests/postgres.
#include "engines/postgres/restore_wal_plan.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/crypto.h"
#include "core/file.h"
#include "engines/postgres/base_backup.h"
#include "engines/postgres/wal_names.h"
#include "engines/postgres/wal_stream.h"
#include "repo/backend/local_backend.h"

namespace opendbs::engines::postgres {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kSegment = 16 << 20;

// Timeline 1: segments 3 and 4, then its end in segment 5 (switch at 0/5000100); timeline 2 from
// there: segment 5 (first transaction of timeline 2 at 2000 ms) and 6.
class RestoreWalPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    open_repository();
    put("000000010000000000000003", {{"kind", "wal_segment"}, {"end_ms", 1000}, {"first_xact_ms", 900}, {"last_xact_ms", 1000}});
    put("000000010000000000000004", {{"kind", "wal_segment"}, {"end_ms", 1100}, {"first_xact_ms", 1100}, {"last_xact_ms", 1100}});
    put("000000010000000000000005.partial", {{"kind", "wal_timeline_end"}, {"end_lsn", "0/5000100"}, {"end_ms", 1300},
                                             {"first_xact_ms", 1200}, {"last_xact_ms", 1200}});
    put("00000002.history", {{"kind", "timeline_history"}, {"switch_lsn", "0/5000100"}, {"end_ms", 1300}},
        "1\t0/5000100\tno recovery target specified\n");
    put("000000020000000000000005", {{"kind", "wal_segment"}, {"end_ms", 2100}, {"first_xact_ms", 1200},
                                     {"timeline_first_xact_ms", 2000}, {"last_xact_ms", 2100}});
    put("000000020000000000000006", {{"kind", "wal_segment"}, {"end_ms", 3000}, {"first_xact_ms", 2900}, {"last_xact_ms", 3000}});
  }
  // An empty repository in a temporary directory.
  void open_repository() {
    dir_ = fs::temp_directory_path() / ("opendbs-plan-" + core::to_hex(core::random_bytes(6)));
    fs::create_directories(dir_);
    const std::string key = (dir_ / "key").string();
    ASSERT_TRUE(core::write_file_durable(key, core::to_hex(core::random_bytes(32)) + "\n", 0600).ok());
    repo::RepoOptions options;
    options.scrypt_log_n = 10;
    options.worker_threads = 1;
    auto r = repo::Repository::init(std::make_unique<repo::LocalBackend>((dir_ / "repo").string()),
                                    repo::KeySource{std::nullopt, key}, options);
    ASSERT_TRUE(r.ok()) << r.error().message;
    repo_ = std::move(r).value();
  }
  void TearDown() override {
    repo_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void put(const std::string& file, boost::json::object meta, const std::string& bytes = "wal") {
    meta["wal_segment_size"] = kSegment;
    auto set = repo_->begin_set("log-p-" + file);
    ASSERT_TRUE(set.ok()) << set.error().message;
    auto stream = (*set)->add_stream("segment", repo::FileMeta{bytes.size(), 0600, 0});
    ASSERT_TRUE(stream.ok());
    ASSERT_TRUE((*stream)->write(bytes).ok());
    ASSERT_TRUE((*stream)->close().ok());
    ASSERT_TRUE((*set)->commit(meta).ok());
  }
  core::Result<RestoreWalPlan> plan(int64_t target_ms) {
    const boost::json::object backup{{meta::kTimeline, 1},     {meta::kStopLsn, "0/3000200"},
                                     {meta::kSegmentSize, kSegment}, {meta::kStartSeq, 3},
                                     {meta::kConsistentMs, 850}};
    return plan_restore_wal(*repo_, "p", backup, target_ms);
  }

  fs::path dir_;
  std::unique_ptr<repo::Repository> repo_;
};

std::vector<std::string> files(const RestoreWalPlan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.segments) out.push_back(s.second);
  return out;
}

TEST_F(RestoreWalPlanTest, BeforeTheSwitchTheRestoreStaysOnTheOldTimelineAndEndsWithItsLastSegment) {
  auto p = plan(1150);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->timeline, 1u);
  EXPECT_EQ(files(*p), (std::vector<std::string>{"000000010000000000000003", "000000010000000000000004"}));
  ASSERT_TRUE(p->partial);
  EXPECT_EQ(p->partial->first, "log-p-000000010000000000000005.partial");
  EXPECT_EQ(p->partial->second, "000000010000000000000005");
  EXPECT_TRUE(p->stop_at_time);
  // Every stored history file, so that recovery promotes to a timeline number the plan does not hold.
  ASSERT_EQ(p->histories.size(), 1u);
  EXPECT_EQ(p->histories[0].second, "00000002.history");
}

// Between the old timeline's end (1300) and the new one's first transaction (2000) the source held
// the old timeline's last state: the old timeline's complete WAL reaches that far.
TEST_F(RestoreWalPlanTest, AfterTheSwitchButBeforeTheNewTimelinesFirstTransactionTheOldTimelineCovers) {
  auto p = plan(1800);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->timeline, 1u);
  ASSERT_TRUE(p->partial);
  EXPECT_FALSE(p->stop_at_time);
  EXPECT_GE(p->chain_end_ms, 1800);
}

TEST_F(RestoreWalPlanTest, AfterTheNewTimelinesFirstTransactionTheRestoreFollowsItsHistory) {
  auto p = plan(2500);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->timeline, 2u);
  EXPECT_EQ(files(*p), (std::vector<std::string>{"000000010000000000000003", "000000010000000000000004",
                                                 "000000020000000000000005", "000000020000000000000006"}));
  EXPECT_FALSE(p->partial);
  EXPECT_TRUE(p->stop_at_time);
  ASSERT_EQ(p->histories.size(), 1u);
  EXPECT_EQ(p->histories[0].second, "00000002.history");
}

TEST_F(RestoreWalPlanTest, ATargetAfterTheStoredWalOfTheNewTimelineIsRefused) {
  auto p = plan(3500);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "InvalidParameter");
}

// The source was taken back to 0/4000100 (a point-in-time recovery of itself) after timeline 1 had
// gone on to segment 6 (its last WAL, to 1500 ms, in a partial set); timeline 2 forks there and was
// promoted at 3000 ms (its end-of-recovery record), its first transaction at 3500 ms.
class RestoreWalPlanForkTest : public RestoreWalPlanTest {
 protected:
  void SetUp() override {
    open_repository();
    put("000000010000000000000003", {{"kind", "wal_segment"}, {"end_ms", 1000}, {"first_xact_ms", 900}, {"last_xact_ms", 1000}});
    put("000000010000000000000004", {{"kind", "wal_segment"}, {"end_ms", 1100}, {"first_xact_ms", 1100}, {"last_xact_ms", 1100}});
    put("000000010000000000000005", {{"kind", "wal_segment"}, {"end_ms", 1400}, {"first_xact_ms", 1150}, {"last_xact_ms", 1400}});
    put("000000010000000000000006.partial-512", {{"kind", "wal_segment_partial"}, {"end_lsn", "0/6000200"},
                                                 {"end_ms", 1500}, {"first_xact_ms", 1500}, {"last_xact_ms", 1500}});
    put("00000002.history", {{"kind", "timeline_history"}, {"switch_lsn", "0/4000100"}, {"end_ms", 1500}},
        "1\t0/4000100\tbefore 2026-11-28 07:00:00+00\n");
    put("000000020000000000000004", {{"kind", "wal_segment"}, {"end_ms", 3600}, {"first_xact_ms", 1100},
                                     {"timeline_first_xact_ms", 3500}, {"last_xact_ms", 3600}},
        end_of_recovery_at(0x100, 3000, 2));
    put("000000020000000000000005", {{"kind", "wal_segment"}, {"end_ms", 4000}, {"first_xact_ms", 3900}, {"last_xact_ms", 4000}});
  }
  // Segment bytes with an XLOG_END_OF_RECOVERY record of `timeline` at `offset`, written at `unix_ms`.
  static std::string end_of_recovery_at(size_t offset, int64_t unix_ms, uint32_t timeline) {
    std::string record(42, '\0');
    const uint32_t total = 42, prev = timeline - 1;
    const int64_t micros = unix_ms_to_pg_micros(unix_ms);
    std::memcpy(record.data(), &total, 4);
    record[16] = static_cast<char>(0x90);  // xl_info: XLOG_END_OF_RECOVERY; xl_rmid 0 (XLOG)
    record[24] = static_cast<char>(255);   // main data, short
    record[25] = 16;
    std::memcpy(record.data() + 26, &micros, 8);
    std::memcpy(record.data() + 34, &timeline, 4);
    std::memcpy(record.data() + 38, &prev, 4);
    return std::string(offset, '\0') + record + std::string(64, '\0');
  }
  // Segment bytes with the end-of-recovery checkpoint of `timeline` at `offset`: CheckPoint.time holds
  // whole seconds.
  static std::string checkpoint_at(size_t offset, int64_t unix_seconds, uint32_t timeline) {
    std::string record(24 + 2 + 88, '\0');
    const auto total = static_cast<uint32_t>(record.size());
    std::memcpy(record.data(), &total, 4);
    record[16] = 0x00;  // XLOG_CHECKPOINT_SHUTDOWN
    record[24] = static_cast<char>(255);
    record[25] = 88;
    std::memcpy(record.data() + 26 + 8, &timeline, 4);    // ThisTimeLineID
    std::memcpy(record.data() + 26 + 64, &unix_seconds, 8);  // time
    return std::string(offset, '\0') + record + std::string(64, '\0');
  }
};

TEST_F(RestoreWalPlanForkTest, OnTheAbandonedWalPastTheForkTheRestoreStaysOnTheOldTimelineToItsLastPartialSet) {
  auto p = plan(1450);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->timeline, 1u);
  EXPECT_EQ(files(*p), (std::vector<std::string>{"000000010000000000000003", "000000010000000000000004",
                                                 "000000010000000000000005"}));
  ASSERT_TRUE(p->partial);
  EXPECT_EQ(p->partial->first, "log-p-000000010000000000000006.partial-512");
  EXPECT_TRUE(p->stop_at_time);
}

// From the old timeline's last WAL (1500) to the promotion (3000) the source was down; it had last
// held what that WAL ends with.
TEST_F(RestoreWalPlanForkTest, WhileTheSourceWasDownTheOldTimelinesLastStateIsRestored) {
  auto p = plan(2500);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->timeline, 1u);
  ASSERT_TRUE(p->partial);
  EXPECT_FALSE(p->stop_at_time);
  EXPECT_GE(p->chain_end_ms, 2999);
}

// After the promotion, before timeline 2's first transaction, the source held the fork point's state:
// timeline 2 is followed from its promotion on, not from its first transaction.
TEST_F(RestoreWalPlanForkTest, FromThePromotionOnTheRestoreFollowsTheNewTimelineFromTheForkPoint) {
  auto p = plan(3200);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->timeline, 2u);
  EXPECT_EQ(files(*p), (std::vector<std::string>{"000000010000000000000003", "000000020000000000000004"}));
  EXPECT_TRUE(p->stop_at_time);
  EXPECT_FALSE(p->partial);
}

// A full set taken on the abandoned WAL cannot reach timeline 2: a restore to a moment the source spent
// there is refused instead of replaying timeline 1.
TEST_F(RestoreWalPlanForkTest, ABackupOfTheAbandonedWalCannotRestoreAMomentOfTheNewTimeline) {
  const boost::json::object backup{{meta::kTimeline, 1},     {meta::kStopLsn, "0/5000200"},
                                   {meta::kSegmentSize, kSegment}, {meta::kStartSeq, 5},
                                   {meta::kConsistentMs, 1200}};
  auto p = plan_restore_wal(*repo_, "p", backup, 3200);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "InvalidParameter");
  EXPECT_NE(p.error().message.find("timeline 2"), std::string::npos) << p.error().message;
  EXPECT_TRUE(is_base_set_cannot_reach(p.error())) << "the node then tries an older set: " << p.error().message;
  auto before = plan_restore_wal(*repo_, "p", backup, 2500);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->timeline, 1u);
}

// Timeline 3 branches off timeline 1's abandoned WAL; its promotion wrote a checkpoint saying 4 s (whole
// seconds). The stream had stored timeline 2 up to 4100 ms before timeline 3 appeared, so timeline 3
// began within that second, not before 4100 ms.
TEST_F(RestoreWalPlanForkTest, APromotionInWholeSecondsBeginsNoEarlierThanTheWalStoredBeforeIt) {
  // Timeline 2's last WAL, in a partial set: 4100 ms.
  put("000000020000000000000006.partial-256", {{"kind", "wal_segment_partial"}, {"end_lsn", "0/6000100"},
                                               {"end_ms", 4100}, {"first_xact_ms", -1}, {"last_xact_ms", -1}});
  put("00000003.history", {{"kind", "timeline_history"}, {"switch_lsn", "0/5000080"}, {"end_ms", 4100}},
      "1\t0/5000080\tbefore 2026-11-28 07:00:00+00\n");
  put("000000030000000000000005", {{"kind", "wal_segment"}, {"end_ms", 5000}, {"first_xact_ms", 1150},
                                   {"timeline_first_xact_ms", 4800}, {"last_xact_ms", 5000}},
      checkpoint_at(0x80, 4, 3));
  auto on_two = plan(4050);
  ASSERT_TRUE(on_two.ok()) << on_two.error().message;
  EXPECT_EQ(on_two->timeline, 2u);
  EXPECT_FALSE(on_two->stop_at_time);
  auto on_three = plan(4150);
  ASSERT_TRUE(on_three.ok()) << on_three.error().message;
  EXPECT_EQ(on_three->timeline, 3u);
  EXPECT_EQ(files(*on_three), (std::vector<std::string>{"000000010000000000000003", "000000010000000000000004",
                                                        "000000030000000000000005"}));
  EXPECT_TRUE(on_three->stop_at_time);
}

// The stream had stored timeline 1 up to 1500 ms (its partial set) when timeline 2 appeared; without
// that partial set the old timeline's WAL ends at 1400 ms, and its last state does not stand for the
// time after it: a restore there is refused rather than missing what the lost WAL held.
TEST_F(RestoreWalPlanForkTest, WithoutTheOldTimelinesLastWalTheTimeUntilThePromotionIsNotCovered) {
  ASSERT_TRUE(repo_->forget_set("log-p-000000010000000000000006.partial-512").ok());
  auto p = plan(2500);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "InvalidParameter");
  auto before = plan(1350);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->timeline, 1u);
}

}  // namespace
}  // namespace opendbs::engines::postgres
