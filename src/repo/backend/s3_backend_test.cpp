// S3Backend beyond the shared contract: multipart uploads, paginated listings, the store's refusals,
// and retries of real network faults injected by FaultProxy between the backend and s3rver.
#include "repo/backend/s3_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "core/crypto.h"
#include "core/ids.h"
#include "repo/backend/fault_proxy.h"
#include "repo/backend/retrying_backend.h"
#include "repo/backend/s3rver_process.h"

using namespace opendbs;
using repo::testing::Fault;
using repo::testing::FaultProxy;
using repo::testing::S3rverProcess;

namespace {

class S3BackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = S3rverProcess::shared();
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = *server;
    prefix_ = "s3test/" + core::random_alnum(10);
  }

  repo::S3Config config() const { return server_->config(prefix_, true); }

  // A backend that reaches s3rver through `proxy`.
  repo::S3Config config_through(const FaultProxy& proxy) const {
    auto c = config();
    c.endpoint_host = "127.0.0.1:" + std::to_string(proxy.port());
    return c;
  }

  S3rverProcess* server_ = nullptr;
  std::string prefix_;
};

}  // namespace

TEST_F(S3BackendTest, MultipartUploadSendsPartsInParallelAndReadsBackExactly) {
  auto c = config();
  c.multipart_threshold_bytes = 256 << 10;
  c.part_size_bytes = 64 << 10;
  c.upload_parallelism = 4;
  repo::S3Backend backend(c);
  const std::string data = core::random_bytes((1 << 20) + 17);  // 17 parts, the last one of 17 bytes
  ASSERT_TRUE(backend.put("packs/big", data).ok());
  EXPECT_EQ(*backend.get("packs/big"), data);
  EXPECT_EQ(*backend.get_range("packs/big", (64 << 10) - 5, 10), data.substr((64 << 10) - 5, 10));
  EXPECT_EQ((*backend.stat("packs/big"))->size, data.size());
}

TEST_F(S3BackendTest, ListFollowsContinuationTokensAcrossPages) {
  auto c = config();
  c.list_page_size = 7;
  repo::S3Backend backend(c);
  std::set<std::string> expected;
  for (int i = 0; i < 45; ++i) {
    const std::string name = "index/" + std::to_string(1000 + i);
    ASSERT_TRUE(backend.put(name, "x").ok());
    expected.insert(name);
  }
  auto listed = backend.list("index/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::set<std::string> names;
  for (const auto& object : *listed) names.insert(object.name);
  EXPECT_EQ(listed->size(), 45u);  // no duplicates across pages
  EXPECT_EQ(names, expected);
}

TEST_F(S3BackendTest, ListOfMoreThanOneThousandObjectsNeedsTheServersOwnPaging) {
  repo::S3Backend backend(config());  // list_page_size 1000, s3rver's maximum
  constexpr int kObjects = 1003;
  std::atomic<int> next{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i; (i = next++) < kObjects;)
        if (!backend.put("data/" + std::to_string(i), "").ok()) ++failures;
    });
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  auto listed = backend.list("data/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->size(), static_cast<size_t>(kObjects));
}

TEST_F(S3BackendTest, SequentialRequestsReuseOneConnection) {
  repo::S3Backend backend(config());
  ASSERT_TRUE(backend.put("data/reused", "x").ok());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(backend.stat("data/reused").ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(backend.get_range("data/reused", 0, 1).ok());
  EXPECT_EQ(backend.connections_opened(), 1u);
}

TEST_F(S3BackendTest, UnknownAccessKeyIsRefusedAsAPermanentError) {
  FaultProxy proxy(server_->port());
  auto c = config_through(proxy);
  c.credentials = {"NOSUCHKEY", "secret", ""};
  repo::RetryingBackend backend(std::make_unique<repo::S3Backend>(c), c.retry);
  auto status = backend.put("data/x", "x");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "IOError");
  EXPECT_NE(status.error().message.find("InvalidAccessKeyId"), std::string::npos) << status.error().message;
  EXPECT_EQ(proxy.request_count(), 1) << "a 403 must not be retried";
}

TEST_F(S3BackendTest, MissingBucketIsAnIoErrorNamingTheBucket) {
  auto c = config();
  c.bucket = "no-such-bucket";
  repo::S3Backend backend(c);
  auto read = backend.get("data/x");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, "IOError");
  EXPECT_NE(read.error().message.find("NoSuchBucket"), std::string::npos) << read.error().message;
}

TEST_F(S3BackendTest, UnreachableEndpointIsTransient) {
  auto c = config();
  c.endpoint_host = "127.0.0.1:1";  // nothing listens on port 1
  repo::S3Backend backend(c);
  auto status = backend.put("data/x", "x");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "ServiceUnavailable");
}

// ---- retries of injected faults ---------------------------------------------------------------

TEST_F(S3BackendTest, PutSucceedsAfterSlowDownAndInternalError) {
  FaultProxy proxy(server_->port());
  auto c = config_through(proxy);
  repo::RetryingBackend backend(std::make_unique<repo::S3Backend>(c), c.retry);
  proxy.inject({Fault::slow_down, Fault::internal_error});
  ASSERT_TRUE(backend.put("data/retried", "payload").ok());
  EXPECT_EQ(proxy.request_count(), 3);
  EXPECT_EQ(*backend.get("data/retried"), "payload");
}

TEST_F(S3BackendTest, TruncatedRangeReadIsDetectedAndFetchedAgain) {
  FaultProxy proxy(server_->port());
  auto c = config_through(proxy);
  const std::string data = core::random_bytes(50'000);
  repo::S3Backend plain(c);
  ASSERT_TRUE(plain.put("packs/p", data).ok());

  proxy.inject({Fault::truncate_body});
  auto cut = plain.get_range("packs/p", 1000, 20'000);
  ASSERT_FALSE(cut.ok()) << "a truncated body must never pass for data";
  EXPECT_EQ(cut.error().code, "ServiceUnavailable");

  repo::RetryingBackend backend(std::make_unique<repo::S3Backend>(c), c.retry);
  proxy.inject({Fault::truncate_body, Fault::truncate_body});
  auto read = backend.get_range("packs/p", 1000, 20'000);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, data.substr(1000, 20'000));
  proxy.inject({Fault::truncate_body});
  EXPECT_EQ(*backend.get("packs/p"), data);
}

TEST_F(S3BackendTest, ResetConnectionAndStalledTransferAreRetried) {
  FaultProxy proxy(server_->port());
  auto c = config_through(proxy);
  c.http.request_timeout_ms = 500;  // the stalled attempt gives up after half a second
  repo::RetryingBackend backend(std::make_unique<repo::S3Backend>(c), c.retry);
  ASSERT_TRUE(backend.put("data/r", "abc").ok());
  proxy.inject({Fault::reset, Fault::stall});
  auto read = backend.get("data/r");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "abc");
}

TEST_F(S3BackendTest, RetriesStopAtRetryCountMax) {
  FaultProxy proxy(server_->port());
  auto c = config_through(proxy);
  c.retry.retry_count_max = 2;
  repo::RetryingBackend backend(std::make_unique<repo::S3Backend>(c), c.retry);
  proxy.inject(std::vector<Fault>(10, Fault::slow_down));
  auto status = backend.put("data/never", "x");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "ServiceUnavailable");
  EXPECT_NE(status.error().message.find("gave up after 3 attempts"), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find("SlowDown"), std::string::npos);
  EXPECT_EQ(proxy.request_count(), 3);
}

// An endpoint away for longer than retry_count_max quick retries cover (a restart) is waited for
// until the retries' delays add up to retry_for_ms.
TEST_F(S3BackendTest, RefusedConnectionsPastRetryCountMaxAreOutlastedWithinRetryFor) {
  FaultProxy proxy(server_->port());
  auto c = config_through(proxy);
  c.retry = {2, 10, 40, 3000};
  repo::RetryingBackend backend(std::make_unique<repo::S3Backend>(c), c.retry);
  proxy.inject(std::vector<Fault>(8, Fault::reset));
  ASSERT_TRUE(backend.put("data/after-restart", "x").ok());
  EXPECT_EQ(proxy.request_count(), 9);
  EXPECT_EQ(*backend.get("data/after-restart"), "x");
}

TEST_F(S3BackendTest, NotFoundIsAnsweredWithoutRetry) {
  FaultProxy proxy(server_->port());
  auto c = config_through(proxy);
  repo::RetryingBackend backend(std::make_unique<repo::S3Backend>(c), c.retry);
  EXPECT_EQ(backend.get("data/absent").error().code, "NotFound");
  EXPECT_EQ(proxy.request_count(), 1);
}

TEST_F(S3BackendTest, AFailedPartIsRetriedAloneWithoutRestartingTheUpload) {
  FaultProxy proxy(server_->port());
  auto c = config_through(proxy);
  c.multipart_threshold_bytes = 100'000;
  c.part_size_bytes = 40'000;
  c.upload_parallelism = 1;  // parts in order, so that the faults land on known requests
  repo::S3Backend backend(c);
  const std::string data = core::random_bytes(100'000);  // 3 parts
  // initiate passes, part 1 fails twice, then everything passes
  proxy.inject({Fault::pass, Fault::internal_error, Fault::reset});
  ASSERT_TRUE(backend.put("packs/parts", data).ok());
  EXPECT_EQ(proxy.request_count(), 1 + 3 + 2 + 1);  // initiate, 3 parts, 2 retries, complete
  EXPECT_EQ(*backend.get("packs/parts"), data);
}

TEST_F(S3BackendTest, APartThatKeepsFailingFailsThePutAndLeavesNoObject) {
  FaultProxy proxy(server_->port());
  auto c = config_through(proxy);
  c.multipart_threshold_bytes = 10'000;
  c.part_size_bytes = 5'000;
  c.upload_parallelism = 1;
  c.retry.retry_count_max = 1;
  repo::S3Backend backend(c);
  proxy.inject({Fault::pass, Fault::pass, Fault::slow_down, Fault::slow_down});  // part 2 fails twice
  auto status = backend.put("packs/failed", core::random_bytes(12'000));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "ServiceUnavailable");
  EXPECT_FALSE(backend.stat("packs/failed")->has_value()) << "an incomplete upload must never become visible";
}
