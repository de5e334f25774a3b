// Range requests on file responses (downloads), fetched with libcurl from a real server: 206 with
// Content-Range for one range, 416 past the end, the whole file for malformed or multiple ranges and
// for an If-Range that no longer matches, and a broken download resumed byte for byte (curl -C -).
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/crypto.h"
#include "http/fetch_for_tests.h"
#include "http/server.h"

namespace opendbs::http {
namespace {

namespace fs = std::filesystem;
using testing_fetch::Fetched;
using testing_fetch::fetch;

class RangeResponses : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("opendbs-range-response-" + core::to_hex(core::random_bytes(6)));
    fs::create_directories(dir_);
    content_.resize(5 << 20);
    for (size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<char>((i * 131) ^ (i >> 11));
    std::ofstream(dir_ / "big.bin", std::ios::binary) << content_;
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(options, [this](const Request&) {
      Response out{200, "application/octet-stream", "", {{"Content-Disposition", "attachment; filename=\"big.bin\""}}};
      out.file_path = (dir_ / "big.bin").string();
      return out;
    });
    ASSERT_TRUE(server_->start().ok());
    url_ = "http://127.0.0.1:" + std::to_string(server_->port()) + "/big";
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  void expect_whole(const Fetched& f, const std::string& why) {
    EXPECT_EQ(f.status, 200) << why << "\n" << f.headers;
    EXPECT_EQ(f.header("Content-Length"), std::to_string(content_.size())) << why;
    EXPECT_EQ(f.header("Content-Range"), "") << why;
    EXPECT_EQ(f.header("Accept-Ranges"), "bytes") << why << ": a later request may still ask for a range";
    EXPECT_TRUE(f.body == content_) << why << ": the body is the whole file";
  }
  void expect_part(const Fetched& f, size_t first, size_t last) {
    EXPECT_EQ(f.status, 206) << f.headers;
    EXPECT_EQ(f.header("Content-Range"),
              "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(content_.size()));
    EXPECT_EQ(f.header("Content-Length"), std::to_string(last - first + 1));
    EXPECT_EQ(f.header("Content-Disposition"), "attachment; filename=\"big.bin\"");
    EXPECT_TRUE(f.body == content_.substr(first, last - first + 1)) << "the body is bytes " << first << "-" << last;
  }

  fs::path dir_;
  std::string content_;
  std::unique_ptr<Server> server_;
  std::string url_;
};

TEST_F(RangeResponses, TheWholeFileAdvertisesRangesAndItsValidators) {
  const Fetched f = fetch(url_, {});
  expect_whole(f, "no Range");
  EXPECT_EQ(f.header("Accept-Ranges"), "bytes");
  EXPECT_TRUE(f.header("ETag").starts_with('"')) << f.headers;
  EXPECT_TRUE(f.header("Last-Modified").ends_with(" GMT")) << f.headers;
}

TEST_F(RangeResponses, AClosedRangeIsAnsweredWithThoseBytes) {
  expect_part(fetch(url_, {"Range: bytes=300000-1000000"}), 300000, 1000000);
  expect_part(fetch(url_, {"Range: bytes=0-0"}), 0, 0);
  expect_part(fetch(url_, {"Range: bytes=5000000-99999999"}), 5000000, content_.size() - 1);
}

TEST_F(RangeResponses, AnOpenRangeRunsToTheEndOfTheFile) {
  const Fetched f = fetch(url_, {"Range: bytes=1234567-"});
  expect_part(f, 1234567, content_.size() - 1);
  EXPECT_EQ(f.header("Accept-Ranges"), "bytes");
}

TEST_F(RangeResponses, ASuffixRangeIsTheLastBytesOfTheFile) {
  expect_part(fetch(url_, {"Range: bytes=-1000"}), content_.size() - 1000, content_.size() - 1);
}

TEST_F(RangeResponses, ARangePastTheEndIsNotSatisfiableAndNamesTheSize) {
  for (const std::string& range : {"bytes=" + std::to_string(content_.size()) + "-", std::string("bytes=-0")}) {
    const Fetched f = fetch(url_, {"Range: " + range});
    EXPECT_EQ(f.status, 416) << range << "\n" << f.headers;
    EXPECT_EQ(f.header("Content-Range"), "bytes */" + std::to_string(content_.size())) << range;
    EXPECT_EQ(f.header("Accept-Ranges"), "bytes");
    EXPECT_NE(f.body.find("InvalidRange"), std::string::npos) << f.body;
  }
}

TEST_F(RangeResponses, AMalformedOrMultipleRangeIsIgnoredAndTheWholeFileSent) {
  for (const char* range : {"bytes=9-3", "bytes=abc", "items=0-9", "bytes=0-9,100-199", "bytes=0-9, -5"})
    expect_whole(fetch(url_, {std::string("Range: ") + range}), range);
}

TEST_F(RangeResponses, IfRangeWithTheCurrentValidatorKeepsTheRange) {
  const Fetched full = fetch(url_, {}, /*head=*/true);
  ASSERT_FALSE(full.header("ETag").empty());
  expect_part(fetch(url_, {"Range: bytes=100-199", "If-Range: " + full.header("ETag")}), 100, 199);
  expect_part(fetch(url_, {"Range: bytes=100-199", "If-Range: " + full.header("Last-Modified")}), 100, 199);
}

TEST_F(RangeResponses, IfRangeWithAnOldValidatorGetsTheWholeFile) {
  const Fetched full = fetch(url_, {}, /*head=*/true);
  expect_whole(fetch(url_, {"Range: bytes=100-199", "If-Range: \"an-older-version\""}), "another tag");
  expect_whole(fetch(url_, {"Range: bytes=100-199", "If-Range: W/" + full.header("ETag")}), "a weak tag");
  expect_whole(fetch(url_, {"Range: bytes=100-199", "If-Range: Thu, 01 Jan 1970 00:00:00 GMT"}), "another date");
}

TEST_F(RangeResponses, HeadIgnoresRangeAndAnswersTheWholeFilesHeaders) {
  const Fetched f = fetch(url_, {"Range: bytes=0-9"}, /*head=*/true);
  EXPECT_EQ(f.status, 200) << f.headers;
  EXPECT_EQ(f.header("Content-Length"), std::to_string(content_.size()));
  EXPECT_EQ(f.header("Accept-Ranges"), "bytes");
  EXPECT_TRUE(f.body.empty());
}

// What curl -C - does after a broken connection: ask for the rest from the size already saved.
TEST_F(RangeResponses, ABrokenDownloadResumesIntoAByteIdenticalFile) {
  const fs::path saved = dir_ / "saved.bin";
  struct Sink {
    std::ofstream out;
    size_t written = 0, break_after = 0;
  } sink{std::ofstream(saved, std::ios::binary), 0, 1800001};
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t count, void* p) -> size_t {
    auto& s = *static_cast<Sink*>(p);
    const size_t n = std::min(size * count, s.break_after - s.written);
    s.out.write(data, static_cast<std::streamsize>(n));
    s.written += n;
    return n < size * count ? 0 : n;  // short: curl aborts the transfer, like a dropped connection
  });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  EXPECT_EQ(curl_easy_perform(curl), CURLE_WRITE_ERROR);
  sink.out.close();
  ASSERT_EQ(fs::file_size(saved), sink.break_after);

  std::ofstream rest(saved, std::ios::binary | std::ios::app);
  curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(fs::file_size(saved)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t count, void* p) -> size_t {
    static_cast<std::ofstream*>(p)->write(data, static_cast<std::streamsize>(size * count));
    return size * count;
  });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rest);
  EXPECT_EQ(curl_easy_perform(curl), CURLE_OK);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  rest.close();
  EXPECT_EQ(status, 206);
  std::ifstream in(saved, std::ios::binary);
  const std::string resumed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(resumed.size(), content_.size());
  EXPECT_TRUE(resumed == content_) << "the resumed file is byte-identical";
}

}  // namespace
}  // namespace opendbs::http
