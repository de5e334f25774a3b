// Test support for the API's tests: calls signed as the SDKs sign them, handled without HTTP
// (signed_call), and DispatcherFixture — a dispatcher with a real SQLite catalog in a temporary
// directory, a manual clock, the root AccessKey "rootkey"/"rootsecret" and no task engine (tasks stay
// queued).
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "api/dispatcher.h"
#include "api/signature.h"
#include "core/ids.h"

namespace opendbs::api::testing {

struct Answer {
  int status = 0;
  boost::json::object body;
  std::string code() const { return text("Code"); }
  std::string message() const { return text("Message"); }

 private:
  std::string text(const char* field) const {
    auto it = body.find(field);
    return it != body.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
  }
};

// How a call is signed; the defaults are the root key, V1, now, a fresh nonce.
struct Signing {
  bool v3 = false;
  std::string key = "rootkey", secret = "rootsecret";
  std::string timestamp, nonce;  // empty: the clock's now, a random nonce
};

// A request signed as `signing` says, handled by `dispatcher` without HTTP.
inline Answer signed_call(Dispatcher& dispatcher, const core::Clock& clock, const std::string& action, ParamList params,
                          const Signing& signing = {}) {
  SignInput in;
  in.host = "127.0.0.1:8080";
  in.action = action;
  in.params = std::move(params);
  in.access_key_id = signing.key;
  in.access_key_secret = signing.secret;
  in.timestamp = signing.timestamp.empty() ? core::format_iso8601(clock.now_ms()) : signing.timestamp;
  in.nonce = signing.nonce;
  auto signed_request = signing.v3 ? sign_v3(in) : sign_v1(in, true);
  auto response = dispatcher.handle(ApiRequest{signed_request.view(), "127.0.0.1", false});
  return {response.status, boost::json::parse(response.body).as_object()};
}

// Polls `done` every 20 ms for up to timeout_ms (for work a task runtime does in the background).
inline bool wait_until(const std::function<bool()>& done, int timeout_ms = 10000) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

class DispatcherFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("opendbs-api-" + core::random_alnum(8));
    std::filesystem::create_directories(dir_);
    store_ = std::move(catalog::open_store((dir_ / "catalog.db").string()).value());
    box_ = std::make_unique<iam::SecretBox>(iam::SecretBox::from_key(std::string(32, 'k')));
    directory_ = std::make_unique<iam::Directory>(*store_, *box_);
    ASSERT_TRUE(directory_->ensure_root(iam::AccessKeyPair{"rootkey", "rootsecret"}).ok());
    services_.reset(new Services{*store_, *box_, nullptr, clock_, "12345"});
    dispatcher_ = std::make_unique<Dispatcher>(*services_, *directory_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static Signing as(const iam::AccessKeyPair& key) { return {.key = key.access_key_id, .secret = key.access_key_secret}; }

  Answer call(const std::string& action, ParamList params, const Signing& signing = {}) {
    return signed_call(*dispatcher_, clock_, action, std::move(params), signing);
  }

  std::filesystem::path dir_;
  core::ManualClock clock_{1705307400000};
  std::unique_ptr<catalog::Store> store_;
  std::unique_ptr<iam::SecretBox> box_;
  std::unique_ptr<iam::Directory> directory_;
  std::unique_ptr<Services> services_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

}  // namespace opendbs::api::testing
