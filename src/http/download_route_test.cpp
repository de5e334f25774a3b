// The node's "/downloads/" route through a real server and a real client: a signed link serves its
// file with Range support (a resumable download), and Range changes nothing about the signature and
// expiry checks, which answer 403 before any byte of the file is read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "api/dispatcher.h"
#include "catalog/store.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "http/fetch_for_tests.h"
#include "http/router.h"
#include "iam/directory.h"

namespace opendbs::http {
namespace {

namespace fs = std::filesystem;
using testing_fetch::Fetched;
using testing_fetch::fetch;

class DownloadRoute : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("opendbs-download-route-" + core::to_hex(core::random_bytes(6)));
    fs::create_directories(dir_ / "downloads");
    content_.resize(1 << 20);
    for (size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<char>(i * 7 + (i >> 9));
    links_ = std::make_unique<jobs::DownloadLinks>(std::string(32, 'd'), (dir_ / "downloads").string());
    std::ofstream(links_->file_for("task1", "set1.sql"), std::ios::binary) << content_;
    store_ = std::move(catalog::open_store((dir_ / "catalog.db").string()).value());
    directory_ = std::make_unique<iam::Directory>(*store_, box_);
    services_ = std::make_unique<api::Services>(api::Services{*store_, box_, nullptr, clock_, "1"});
    dispatcher_ = std::make_unique<api::Dispatcher>(*services_, *directory_);
    router_ = std::make_unique<Router>(*dispatcher_, metrics_, links_.get());
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(options, [this](const Request& r) { return router_->handle(r); });
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  std::string url(int64_t expires_in_s) const {
    const int64_t now_s = core::SystemClock::instance().now_ms() / 1000;
    return "http://127.0.0.1:" + std::to_string(server_->port()) +
           links_->signed_path("task1", "set1.sql", now_s + expires_in_s);
  }

  fs::path dir_;
  std::string content_;
  core::ManualClock clock_{core::SystemClock::instance().now_ms()};
  iam::SecretBox box_ = iam::SecretBox::from_key(std::string(32, 'k'));
  core::MetricsRegistry metrics_;
  std::unique_ptr<jobs::DownloadLinks> links_;
  std::unique_ptr<catalog::Store> store_;
  std::unique_ptr<iam::Directory> directory_;
  std::unique_ptr<api::Services> services_;
  std::unique_ptr<api::Dispatcher> dispatcher_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Server> server_;
};

TEST_F(DownloadRoute, ASignedLinkServesARangeOfItsFile) {
  const Fetched f = fetch(url(3600), {"Range: bytes=1000-"});
  EXPECT_EQ(f.status, 206) << f.headers;
  EXPECT_EQ(f.header("Content-Range"), "bytes 1000-" + std::to_string(content_.size() - 1) + "/" +
                                           std::to_string(content_.size()));
  EXPECT_EQ(f.header("Content-Disposition"), "attachment; filename=\"set1.sql\"");
  EXPECT_EQ(f.header("Accept-Ranges"), "bytes");
  EXPECT_TRUE(f.body == content_.substr(1000));
}

TEST_F(DownloadRoute, ARangeOnATamperedLinkIsStillForbidden) {
  std::string tampered = url(3600);
  tampered.back() = tampered.back() == '0' ? '1' : '0';  // the last hex digit of the signature
  const Fetched f = fetch(tampered, {"Range: bytes=0-99"});
  EXPECT_EQ(f.status, 403) << f.headers;
  EXPECT_EQ(f.header("Content-Range"), "");
  EXPECT_EQ(f.body.find(content_.substr(0, 100)), std::string::npos) << "no byte of the file";
}

TEST_F(DownloadRoute, ARangeOnAnExpiredLinkIsStillForbidden) {
  const Fetched f = fetch(url(-10), {"Range: bytes=-100"});
  EXPECT_EQ(f.status, 403) << f.headers;
  EXPECT_EQ(f.header("Content-Range"), "");
}

}  // namespace
}  // namespace opendbs::http
