#include "cli/restore_command.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace opendbs::cli {
namespace {

class RestoreSummary : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("TZ", "UTC", 1); }
  static boost::json::object finished(boost::json::object fields) {
    boost::json::object r{{"RestoreTaskId", "r1"}, {"RestoreStatus", "finish"}, {"RestoreTime", 1795930248730}};
    for (auto& [k, v] : fields) r[k] = v;
    return r;
  }
};

// A renamenew restore writes NEW_dbs_<moment> when NEW exists: the line names what was written.
TEST_F(RestoreSummary, AServerRestoreNamesTheDatabasesItWrote) {
  const auto line = restore_summary(finished(
      {{"DestinationEndpointIpPort", "127.0.0.1:5433"},
       {"RestoreObjects", R"([{"DBName":"shop","NewDBName":"shop_copy_dbs_20261129T052812"},{"DBName":"crm"}])"}}));
  EXPECT_NE(line.find("restore r1 finished: 127.0.0.1:5433 (databases shop_copy_dbs_20261129T052812, crm) holds the "
                      "data of 2026-11-29T05:30:48.730"),
            std::string::npos)
      << line;
}

TEST_F(RestoreSummary, ADirectoryRestoreNamesTheDirectory) {
  const auto line = restore_summary(finished({{"RestoreDir", "/restore/here"}, {"RestoreObjects", ""}}));
  EXPECT_NE(line.find("restore r1 finished: /restore/here holds the data of "), std::string::npos) << line;
}

TEST_F(RestoreSummary, AStoppedRestoreSaysWhy) {
  EXPECT_EQ(restore_summary({{"RestoreTaskId", "r2"}, {"RestoreStatus", "stop"}, {"ErrMessage", "database shop exists"}}),
            "restore r2 stopped: database shop exists");
}

}  // namespace
}  // namespace opendbs::cli
