// Test support: a real S3 server (s3rver from npm, tests/node) run as a child process on a free port
// of 127.0.0.1 with an empty temporary directory and one bucket, stopped when the test binary exits.
//
// It is started with --service-endpoint localhost, so that virtual-hosted requests to
// "<bucket>.s3.localhost:<port>" reach the bucket as well as path-style ones to "127.0.0.1:<port>".
#pragma once

#include <sys/types.h>

#include <string>

#include "core/result.h"
#include "repo/backend/s3_config.h"

namespace opendbs::repo::testing {

class S3rverProcess {
 public:
  static constexpr const char* kBucket = "opendbs-test";
  static constexpr const char* kAccessKey = "S3RVER";  // s3rver's built-in account
  static constexpr const char* kSecretKey = "S3RVER";

  // The one server of this test binary, started on first use. Fails with a message that says to run
  // scripts/install-deps when tests/node/node_modules is missing.
  static core::Result<S3rverProcess*> shared();

  ~S3rverProcess();

  int port() const { return port_; }
  std::string path_style_endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string virtual_hosted_endpoint() const { return "http://s3.localhost:" + std::to_string(port_); }

  // A configuration for the bucket under `prefix`, with small timeouts and retry delays for tests.
  S3Config config(const std::string& prefix, bool path_style) const;

 private:
  S3rverProcess() = default;
  static core::Result<std::unique_ptr<S3rverProcess>> start();

  pid_t pid_ = -1;
  int port_ = 0;
  std::string directory_;
};

}  // namespace opendbs::repo::testing
