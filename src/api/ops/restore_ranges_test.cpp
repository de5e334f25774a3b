// Restore ranges from the catalog: a physical full set followed by a continuous chain of log files.
#include "api/ops/restore_ranges.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"

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
  std::vector<RestoreRange> ranges() {
    std::vector<RestoreRange> out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(out, restore_ranges(tx, "plan1"));
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

TEST_F(RestoreRangesTest, AGapInTheChainEndsTheRange) {
  put(Kind::backup_set, "full1", "finish", {{"EndTime", 1000}, {"_LogStartSeq", 5}});
  put(Kind::log_file, "plan1-5", "COMPLETED", {{"_Seq", 5}, {"EndTime", 2000}});
  put(Kind::log_file, "plan1-7", "COMPLETED", {{"_Seq", 7}, {"EndTime", 5000}});
  const auto r = ranges();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].end_ms, 2000);
}

}  // namespace
}  // namespace opendbs::api::ops
