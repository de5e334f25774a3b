#include "repo/backend/s3rver_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "core/errors.h"
#include "core/ids.h"

namespace opendbs::repo::testing {
namespace fs = std::filesystem;

core::Result<S3rverProcess*> S3rverProcess::shared() {
  static std::mutex mutex;
  static std::unique_ptr<S3rverProcess> server;
  static std::optional<core::Error> failure;
  std::lock_guard lock(mutex);
  if (!server && !failure) {
    auto started = start();
    if (started.ok()) {
      server = std::move(started).value();
    } else {
      failure = started.error();
    }
  }
  if (failure) return *failure;
  return server.get();
}

core::Result<std::unique_ptr<S3rverProcess>> S3rverProcess::start() {
  const std::string program = std::string(OPENDBS_SOURCE_DIR) + "/tests/node/node_modules/.bin/s3rver";
  if (!fs::exists(program))
    return core::errors::io(program + " is missing: run scripts/install-deps (it installs tests/node with npm ci)");
  auto server = std::unique_ptr<S3rverProcess>(new S3rverProcess());
  server->directory_ = (fs::temp_directory_path() / ("opendbs-s3rver-" + core::random_alnum(8))).string();
  fs::create_directories(server->directory_);

  // s3rver makes ListObjectsV2 continuation tokens with DES, which Node's OpenSSL 3 only offers from
  // its legacy provider; without it every truncated listing fails with a 500.
  // s3rver_write_fix.js makes PUT answer only once the object is on disk (see that file).
  std::vector<std::string> environment = {"NODE_OPTIONS=--openssl-legacy-provider --require " +
                                          std::string(OPENDBS_SOURCE_DIR) + "/src/repo/backend/s3rver_write_fix.js"};
  for (char** variable = environ; *variable != nullptr; ++variable)
    if (std::string_view(*variable).rfind("NODE_OPTIONS=", 0) != 0) environment.emplace_back(*variable);
  std::vector<char*> envp;
  for (auto& variable : environment) envp.push_back(variable.data());
  envp.push_back(nullptr);

  int out[2];
  if (::pipe(out) != 0) return core::errors::io("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) return core::errors::io("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test binary
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    ::execle(program.c_str(), program.c_str(), "--directory", server->directory_.c_str(), "--address", "127.0.0.1",
             "--port", "0", "--silent", "--service-endpoint", "localhost", "--configure-bucket", kBucket, nullptr,
             envp.data());
    ::_exit(127);
  }
  server->pid_ = pid;
  ::close(out[1]);
  // s3rver prints "S3rver listening on 127.0.0.1:PORT" once it accepts connections.
  FILE* stream = ::fdopen(out[0], "r");
  char line[512];
  while (server->port_ == 0 && std::fgets(line, sizeof line, stream) != nullptr) {
    std::string text(line);
    if (auto at = text.find("listening on 127.0.0.1:"); at != std::string::npos)
      server->port_ = std::stoi(text.substr(at + 23));
  }
  std::fclose(stream);
  if (server->port_ == 0) return core::errors::io("s3rver exited before it listened (is node installed?)");
  return server;
}

S3rverProcess::~S3rverProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  if (!directory_.empty()) fs::remove_all(directory_, ec);
}

S3Config S3rverProcess::config(const std::string& prefix, bool path_style) const {
  S3Config config;
  config.scheme = "http";
  config.endpoint_host = (path_style ? "127.0.0.1:" : "s3.localhost:") + std::to_string(port_);
  config.path_style = path_style;
  config.bucket = kBucket;
  config.prefix = prefix;
  config.credentials = {kAccessKey, kSecretKey, ""};
  config.http.connect_timeout_ms = 2'000;
  config.http.stall_timeout_ms = 5'000;
  config.retry = {3, 10, 100};
  return config;
}

}  // namespace opendbs::repo::testing
