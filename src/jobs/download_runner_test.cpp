// expire_downloads against a real SQLite catalog and a real downloads directory: what it deletes, what
// it keeps, and what the records say afterwards.
#include "jobs/download_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "catalog/store.h"

namespace opendbs::jobs {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kNow = 1700000000000;

class ExpireDownloads : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("expire-dl-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "downloads");
    auto store = catalog::open_store("sqlite:" + (dir_ / "catalog.db").string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    links_ = std::make_unique<DownloadLinks>(std::string(32, 'k'), (dir_ / "downloads").string());
    settings_.links = links_.get();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void put(const std::string& id, const std::string& state, int64_t expires_ms) {
    catalog::Record r{id, "1", "plan1", state, 1, {}};
    r.doc = {{"BackupSetDownloadStatus", state}, {"BackupSetDownloadInternetUrl", "https://h/downloads/" + id},
             {"BackupSetDownloadIntranetUrl", "http://h/downloads/" + id}, {"ErrMessage", ""}};
    if (expires_ms) r.doc["_ExpiresMs"] = expires_ms;
    ASSERT_TRUE(store_->transact([&](catalog::Tx& tx) { return tx.put(catalog::Kind::download_task, r); }).ok());
  }
  void touch(const std::string& name) { std::ofstream(dir_ / "downloads" / name) << "bytes"; }
  bool exists(const std::string& name) { return fs::exists(dir_ / "downloads" / name); }
  boost::json::object doc(const std::string& id) {
    boost::json::object out;
    EXPECT_TRUE(store_->read([&](catalog::Tx& tx) -> core::Status {
      OPENDBS_ASSIGN(auto r, tx.get(catalog::Kind::download_task, id));
      out = r->doc;
      return {};
    }).ok());
    return out;
  }

  fs::path dir_;
  std::unique_ptr<catalog::Store> store_;
  std::unique_ptr<DownloadLinks> links_;
  DownloadSettings settings_;
};

TEST_F(ExpireDownloads, DeletesExpiredAndOrphanedFilesAndClearsTheExpiredLinksOnly) {
  put("expired", "finish", kNow - 1);
  touch("expired.sql");
  put("fresh", "finish", kNow + 60000);
  touch("fresh.tar");
  put("running", "running", 0);
  touch("running.partial");
  put("stopped", "stop", 0);
  touch("stopped.partial");
  touch("orphan.csv.tar");

  ASSERT_TRUE(expire_downloads(*store_, settings_, kNow).ok());
  EXPECT_FALSE(exists("expired.sql"));
  EXPECT_TRUE(exists("fresh.tar"));
  EXPECT_TRUE(exists("running.partial"));
  EXPECT_FALSE(exists("stopped.partial"));
  EXPECT_FALSE(exists("orphan.csv.tar"));

  const auto expired = doc("expired");
  EXPECT_EQ(expired.at("BackupSetDownloadStatus"), "finish");
  EXPECT_EQ(expired.at("BackupSetDownloadInternetUrl"), "");
  EXPECT_EQ(expired.at("BackupSetDownloadIntranetUrl"), "");
  EXPECT_NE(std::string(expired.at("ErrMessage").as_string()).find("expired"), std::string::npos);
  EXPECT_EQ(doc("fresh").at("BackupSetDownloadInternetUrl"), "https://h/downloads/fresh");
}

TEST_F(ExpireDownloads, ANodeWithoutDownloadsOrFilesDoesNothing) {
  put("expired", "finish", kNow - 1);
  EXPECT_TRUE(expire_downloads(*store_, DownloadSettings{}, kNow).ok());
  EXPECT_TRUE(expire_downloads(*store_, settings_, kNow).ok());
  EXPECT_EQ(doc("expired").at("BackupSetDownloadInternetUrl"), "https://h/downloads/expired");
}

}  // namespace
}  // namespace opendbs::jobs
