// RetryingBackend's policy, with FlakyBackend (a wrapper that fails the next calls with chosen
// errors) around a LocalBackend and a recording sleeper, so that no test waits for real.
#include "repo/backend/retrying_backend.h"

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>

#include "core/errors.h"
#include "core/ids.h"
#include "repo/backend/local_backend.h"

using namespace opendbs;

namespace {

class FlakyBackend final : public repo::Backend {
 public:
  explicit FlakyBackend(std::unique_ptr<repo::Backend> inner) : inner_(std::move(inner)) {}
  void fail_next(std::vector<core::Error> errors) { pending_.insert(pending_.end(), errors.begin(), errors.end()); }
  int calls() const { return calls_; }

  core::Status put(const std::string& n, std::string_view d) override {
    if (auto e = take()) return *e;
    return inner_->put(n, d);
  }
  core::Result<std::string> get(const std::string& n) override {
    if (auto e = take()) return *e;
    return inner_->get(n);
  }
  core::Result<std::string> get_range(const std::string& n, uint64_t o, uint64_t l) override {
    if (auto e = take()) return *e;
    return inner_->get_range(n, o, l);
  }
  core::Result<std::optional<repo::ObjectInfo>> stat(const std::string& n) override {
    if (auto e = take()) return *e;
    return inner_->stat(n);
  }
  core::Result<std::vector<repo::ObjectInfo>> list(const std::string& p) override {
    if (auto e = take()) return *e;
    return inner_->list(p);
  }
  core::Status remove(const std::string& n) override {
    if (auto e = take()) return *e;
    return inner_->remove(n);
  }
  std::string describe() const override { return "flaky:" + inner_->describe(); }

 private:
  std::optional<core::Error> take() {
    ++calls_;
    if (pending_.empty()) return std::nullopt;
    auto e = pending_.front();
    pending_.pop_front();
    return e;
  }

  std::unique_ptr<repo::Backend> inner_;
  std::deque<core::Error> pending_;
  int calls_ = 0;
};

core::Error transient() { return core::make_error("ServiceUnavailable", "503 SlowDown"); }

class RetryingBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("opendbs-retry-" + core::random_alnum(8));
    auto flaky = std::make_unique<FlakyBackend>(std::make_unique<repo::LocalBackend>(root_.string()));
    flaky_ = flaky.get();
    backend_ = std::make_unique<repo::RetryingBackend>(
        std::move(flaky), repo::RetryPolicy{4, 100, 350},
        [this](std::chrono::milliseconds delay) { sleeps_.push_back(delay.count()); });
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::filesystem::path root_;
  FlakyBackend* flaky_ = nullptr;
  std::unique_ptr<repo::RetryingBackend> backend_;
  std::vector<int64_t> sleeps_;
};

}  // namespace

TEST_F(RetryingBackendTest, TransientFailuresAreRetriedUntilSuccess) {
  flaky_->fail_next({transient(), transient()});
  ASSERT_TRUE(backend_->put("data/a", "bytes").ok());
  EXPECT_EQ(flaky_->calls(), 3);
  flaky_->fail_next({transient()});
  EXPECT_EQ(*backend_->get("data/a"), "bytes");
  flaky_->fail_next({transient()});
  EXPECT_EQ(*backend_->get_range("data/a", 1, 2), "yt");
  flaky_->fail_next({transient()});
  EXPECT_EQ(backend_->list("data/")->size(), 1u);
  flaky_->fail_next({transient()});
  EXPECT_TRUE(backend_->stat("data/a")->has_value());
  flaky_->fail_next({transient()});
  EXPECT_TRUE(backend_->remove("data/a").ok());
  EXPECT_EQ(sleeps_.size(), 7u);  // two for the put, one for each other call
}

TEST_F(RetryingBackendTest, DelaysAreJitteredBelowADoublingCappedCeiling) {
  flaky_->fail_next(std::vector<core::Error>(4, transient()));
  ASSERT_TRUE(backend_->put("data/b", "x").ok());
  ASSERT_EQ(sleeps_.size(), 4u);
  const int64_t ceilings[] = {100, 200, 350, 350};
  for (size_t i = 0; i < sleeps_.size(); ++i) {
    EXPECT_GE(sleeps_[i], 0);
    EXPECT_LE(sleeps_[i], ceilings[i]) << "retry " << i;
  }
}

TEST_F(RetryingBackendTest, GivesUpAfterRetryCountMaxWithTheLastError) {
  flaky_->fail_next(std::vector<core::Error>(10, transient()));
  auto read = backend_->get("data/c");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, "ServiceUnavailable");
  EXPECT_EQ(read.error().message.rfind("gave up after 5 attempts in ", 0), 0u) << read.error().message;
  EXPECT_TRUE(read.error().message.ends_with(" s: 503 SlowDown")) << read.error().message;
  EXPECT_EQ(flaky_->calls(), 5);
}

// A store restarting is away for seconds: past retry_count_max, retries go on until their delays add
// up to retry_for_ms, then the last error is returned.
TEST_F(RetryingBackendTest, RetriesGoOnPastTheCountUntilTheirDelaysAddUpToRetryFor) {
  std::vector<int64_t> sleeps;
  auto flaky = std::make_unique<FlakyBackend>(std::make_unique<repo::LocalBackend>(root_.string()));
  FlakyBackend* flaky_view = flaky.get();
  repo::RetryingBackend backend(std::move(flaky), repo::RetryPolicy{2, 100, 1000, 5000},
                                [&](std::chrono::milliseconds d) { sleeps.push_back(d.count()); });
  flaky_view->fail_next(std::vector<core::Error>(1000, transient()));
  auto read = backend.get("data/d");
  ASSERT_FALSE(read.ok());
  int64_t total = 0;
  for (auto d : sleeps) total += d;
  EXPECT_GE(total, 5000);
  EXPECT_LT(total - sleeps.back(), 5000) << "one retry too many";
  EXPECT_GT(sleeps.size(), 2u);
  EXPECT_EQ(flaky_view->calls(), static_cast<int>(sleeps.size()) + 1);
}

TEST_F(RetryingBackendTest, PermanentErrorsAreReturnedAtOnce) {
  for (const auto& error : {core::errors::not_found("no object"), core::errors::io("403 AccessDenied"),
                            core::errors::corrupt("range past the end")}) {
    const int before = flaky_->calls();
    flaky_->fail_next({error});
    auto read = backend_->get("data/d");
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code, error.code);
    EXPECT_EQ(flaky_->calls() - before, 1) << error.code << " must not be retried";
  }
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(backend_->get("data/d").error().code, "NotFound");  // the real answer, not retried either
}
