// What every friendly client command shares: the connection flags (endpoint, credentials, profile,
// signature, TLS) and --output, a client whose calls turn API error answers into errors, and the
// single place that prints an error and picks the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "cli/api_client.h"

namespace opendbs::cli {

// Exit codes of the client commands beyond the error table's (docs/CLI.md lists them all).
namespace exit_code {
constexpr int ok = 0;
constexpr int usage = 2;            // a flag is missing or malformed (also CLI11's parse errors)
constexpr int task_failed = 10;     // --wait saw the task end failed or stopped
constexpr int wait_timeout = 11;    // --wait-timeout passed before the task ended
constexpr int precheck_failed = 12; // plan create/configure --start: the precheck failed
constexpr int interrupted = 130;    // Ctrl-C while waiting (the task goes on)
}  // namespace exit_code

struct ClientOptions {
  ClientConfig config;
  std::string output = "human";  // human or json
  bool json() const { return output == "json"; }
};

// Adds --endpoint, --access-key-id, --access-key-secret, --profile, --signature, --insecure, --ca-file
// and --output to a client command.
void add_client_options(CLI::App* command, ClientOptions& options);

class NodeClient {
 public:
  // Resolves the configuration (environment, profile files) once.
  static core::Result<NodeClient> connect(ClientConfig config);

  // One signed call; an error answer becomes core::Error{Code, HttpStatus, "Message (RequestId ...)"}.
  core::Result<boost::json::object> call(const std::string& action, const api::ParamList& params) const;

 private:
  explicit NodeClient(ClientConfig config) : config_(std::move(config)) {}
  ClientConfig config_;
};

// Prints "opendbs COMMAND: Code: message" on stderr and returns the code's exit code.
int report_error(const std::string& command, const core::Error& error);

// Small readers for API answers: a missing or differently typed field reads as "" / 0 / empty.
std::string text(const boost::json::object& o, const char* name);
int64_t number(const boost::json::object& o, const char* name);
bool flag(const boost::json::object& o, const char* name);
// The array under Items.{name} of a list answer.
boost::json::array items(const boost::json::object& answer, const char* name);

}  // namespace opendbs::cli
