#include "cli/configure_command.h"

#include <termios.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <iostream>

#include "cli/api_client.h"
#include "cli/node_client.h"
#include "core/errors.h"
#include "core/file.h"

namespace opendbs::cli {
namespace {

struct ConfigureArgs {
  std::string profile = "default", endpoint, access_key_id, access_key_secret, ca_file;
  bool insecure = false, make_current = false;
};

// The secret from stdin: prompted without echo on a terminal, the first line of a pipe otherwise.
std::string read_secret_from_stdin() {
  const bool terminal = isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (terminal) {
    std::cerr << "AccessKey secret: " << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string secret;
  std::getline(std::cin, secret);
  if (terminal) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  return secret;
}

core::Status save_profile(const std::string& path, const ConfigureArgs& a) {
  boost::json::object config;
  if (auto existing = core::read_file(path); existing.ok()) {
    boost::system::error_code ec;
    auto v = boost::json::parse(*existing, ec);
    if (ec || !v.is_object()) return core::errors::corrupt(path + " is not a JSON object; fix or remove it");
    config = v.as_object();
  }
  if (!config.contains("profiles") || !config.at("profiles").is_array()) config["profiles"] = boost::json::array{};
  auto& profiles = config.at("profiles").as_array();
  boost::json::object profile{{"name", a.profile}, {"mode", "AK"}, {"endpoint", a.endpoint},
                              {"access_key_id", a.access_key_id}, {"access_key_secret", a.access_key_secret}};
  if (a.insecure) profile["insecure"] = true;
  if (!a.ca_file.empty()) profile["ca_file"] = a.ca_file;
  bool replaced = false;
  for (auto& p : profiles)
    if (p.is_object() && p.as_object().contains("name") && p.at("name") == boost::json::value(a.profile)) {
      p = profile;
      replaced = true;
    }
  if (!replaced) profiles.push_back(profile);
  if (a.make_current || !config.contains("current")) config["current"] = a.profile;
  const std::string dir = std::filesystem::path(path).parent_path().string();
  OPENDBS_TRY(core::make_dirs(dir, 0700));
  return core::write_file_durable(path, boost::json::serialize(config) + "\n", 0600);
}

int run_configure(ConfigureArgs a) {
  const std::string path = opendbs_config_path();
  if (path.empty()) return report_error("configure", core::make_error("InvalidParameter", "HOME is not set"));
  if (a.access_key_secret.empty()) a.access_key_secret = read_secret_from_stdin();
  if (a.access_key_secret.empty()) return report_error("configure", core::errors::missing_parameter("--access-key-secret"));
  if (a.endpoint.find("://") == std::string::npos) a.endpoint = "http://" + a.endpoint;
  if (auto st = save_profile(path, a); !st.ok()) return report_error("configure", st.error());
  std::cout << "Saved profile " << a.profile << " in " << path << "\n";
  return exit_code::ok;
}

}  // namespace

void add_configure_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ConfigureArgs>();
  auto* c = app.add_subcommand("configure",
                               "Save an endpoint and AccessKey as a profile in ~/.opendbs/config.json (mode 0600); "
                               "the secret is read from stdin when --access-key-secret is not given");
  c->add_option("--profile", a->profile, "Profile name (default: default)");
  c->add_option("--endpoint", a->endpoint, "Node URL, e.g. https://backup.example:8443")->required();
  c->add_option("--access-key-id", a->access_key_id, "AccessKey id")->required();
  c->add_option("--access-key-secret", a->access_key_secret, "AccessKey secret (better: on stdin)");
  c->add_flag("--insecure", a->insecure, "Do not verify the node's TLS certificate with this profile");
  c->add_option("--ca-file", a->ca_file, "Trust this CA with this profile");
  c->add_flag("--current", a->make_current, "Make it the profile used without --profile (the first one saved is)");
  c->callback([a, &exit_code] { exit_code = run_configure(*a); });
}

}  // namespace opendbs::cli
