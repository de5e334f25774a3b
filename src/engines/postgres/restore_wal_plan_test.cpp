// Which timeline and WAL a restore plans, on a repository holding a chain that switched timelines
// (the stream's sets written by hand: no server needed). With a real server: tests/postgres.
#include "engines/postgres/restore_wal_plan.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/crypto.h"
#include "core/file.h"
#include "engines/postgres/base_backup.h"
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
  EXPECT_TRUE(p->histories.empty());
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

}  // namespace
}  // namespace opendbs::engines::postgres
