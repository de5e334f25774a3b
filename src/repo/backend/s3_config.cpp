#include "repo/backend/s3_config.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <map>
#include <set>

#include "core/errors.h"

namespace opendbs::repo {
namespace {

const std::set<std::string> kOptions = {"endpoint",
                                        "region",
                                        "path_style",
                                        "access_key_id",
                                        "secret_access_key",
                                        "session_token",
                                        "multipart_threshold",
                                        "part_size",
                                        "upload_parallelism",
                                        "list_page_size",
                                        "connect_timeout_ms",
                                        "stall_timeout_ms",
                                        "request_timeout_ms",
                                        "verify_tls",
                                        "ca_file",
                                        "retry_count_max",
                                        "retry_backoff_ms",
                                        "retry_for_ms"};

// The AWS variables each option falls back to, in order, after OPENDBS_S3_<OPTION>.
const std::map<std::string, std::vector<std::string>> kAwsFallbacks = {
    {"access_key_id", {"AWS_ACCESS_KEY_ID"}},
    {"secret_access_key", {"AWS_SECRET_ACCESS_KEY"}},
    {"session_token", {"AWS_SESSION_TOKEN"}},
    {"region", {"AWS_REGION", "AWS_DEFAULT_REGION"}},
    {"endpoint", {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}},
};

// `name` is the option, for the message; the value is never echoed since it may be a secret.
core::Result<std::string> percent_decode(const std::string& name, std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2])))
      return core::make_error("InvalidParameterValid",
                              "The value of the repository URL option " + name + " has an invalid %XX escape.");
    out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

core::Result<std::map<std::string, std::string>> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    std::string name(item.substr(0, eq));
    if (!kOptions.contains(name))
      return core::errors::invalid_parameter("repository URL option", name, "one of the options in docs/S3.md");
    OPENDBS_ASSIGN(out[name], percent_decode(name, eq == std::string_view::npos ? "" : item.substr(eq + 1)));
  }
  return out;
}

core::Result<uint64_t> parse_size(const std::string& name, const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string unit(end, text.data() + text.size());
  static const std::map<std::string, int> kShifts = {{"", 0},   {"KiB", 10}, {"K", 10}, {"MiB", 20},
                                                     {"M", 20}, {"GiB", 30}, {"G", 30}};
  auto shift = kShifts.find(unit);
  if (ec != std::errc() || shift == kShifts.end())
    return core::errors::invalid_parameter(name, text, "a size in bytes, optionally with KiB, MiB or GiB");
  return value << shift->second;
}

core::Result<int64_t> parse_int(const std::string& name, const std::string& text, int64_t min, int64_t max) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    return core::errors::invalid_parameter(name, text,
                                           "an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return value;
}

core::Result<bool> parse_bool(const std::string& name, const std::string& text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  return core::errors::invalid_parameter(name, text, "true or false");
}

bool is_local_or_ip(const std::string& host_port) {
  std::string host = host_port;
  if (!host.empty() && host.front() == '[') return true;  // [IPv6]:port
  if (auto colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
  in_addr v4{};
  return host == "localhost" || ::inet_pton(AF_INET, host.c_str(), &v4) == 1;
}

core::Status apply_endpoint(S3Config& config, std::string endpoint) {
  if (auto scheme_end = endpoint.find("://"); scheme_end != std::string::npos) {
    config.scheme = endpoint.substr(0, scheme_end);
    endpoint = endpoint.substr(scheme_end + 3);
  }
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if ((config.scheme != "http" && config.scheme != "https") || endpoint.empty() ||
      endpoint.find('/') != std::string::npos)
    return core::errors::invalid_parameter("endpoint", endpoint, "http://host[:port] or https://host[:port]");
  config.endpoint_host = endpoint;
  return {};
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

core::Result<S3Config> parse_s3_url(const std::string& url, const EnvLookup& env) {
  if (url.rfind("s3://", 0) != 0) return core::errors::invalid_parameter("repository URL", url, "s3://bucket/prefix");
  const std::string rest = url.substr(5);
  const auto question = rest.find('?');
  const std::string location = rest.substr(0, question);
  OPENDBS_ASSIGN(auto options, parse_query(question == std::string::npos ? "" : rest.substr(question + 1)));
  auto option = [&](const std::string& name) -> std::optional<std::string> {
    if (auto it = options.find(name); it != options.end()) return it->second;
    std::string upper = "OPENDBS_S3_" + name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (auto value = env(upper)) return value;
    if (auto it = kAwsFallbacks.find(name); it != kAwsFallbacks.end())
      for (const auto& variable : it->second)
        if (auto value = env(variable)) return value;
    return std::nullopt;
  };

  S3Config config;
  const auto slash = location.find('/');
  config.bucket = location.substr(0, slash);
  if (config.bucket.empty() ||
      config.bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos)
    return core::errors::invalid_parameter("bucket", config.bucket, "a bucket name of [a-z0-9.-]");
  config.prefix = slash == std::string::npos ? "" : location.substr(slash + 1);
  while (!config.prefix.empty() && config.prefix.back() == '/') config.prefix.pop_back();
  while (!config.prefix.empty() && config.prefix.front() == '/') config.prefix.erase(0, 1);

  if (auto v = option("region")) config.region = *v;
  if (auto v = option("endpoint")) {
    OPENDBS_TRY(apply_endpoint(config, *v));
  } else {
    config.endpoint_host = "s3." + config.region + ".amazonaws.com";
  }
  config.path_style = is_local_or_ip(config.endpoint_host);
  if (auto v = option("path_style")) {
    OPENDBS_ASSIGN(config.path_style, parse_bool("path_style", *v));
  }

  config.credentials.access_key_id = option("access_key_id").value_or("");
  config.credentials.secret_access_key = option("secret_access_key").value_or("");
  config.credentials.session_token = option("session_token").value_or("");
  if (config.credentials.access_key_id.empty() || config.credentials.secret_access_key.empty())
    return core::make_error("MissingParameter",
                            "no S3 credentials for s3://" + location + " at " + config.endpoint_host +
                                ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or OPENDBS_S3_ACCESS_KEY_ID and "
                                "OPENDBS_S3_SECRET_ACCESS_KEY, or the URL options access_key_id/secret_access_key)");

  if (auto v = option("multipart_threshold")) {
    OPENDBS_ASSIGN(config.multipart_threshold_bytes, parse_size("multipart_threshold", *v));
  }
  if (auto v = option("part_size")) {
    OPENDBS_ASSIGN(config.part_size_bytes, parse_size("part_size", *v));
  }
  if (config.part_size_bytes < (5ull << 20))
    return core::errors::invalid_parameter("part_size", std::to_string(config.part_size_bytes),
                                           "at least 5MiB (the S3 minimum for every part but the last)");
  if (auto v = option("upload_parallelism")) {
    OPENDBS_ASSIGN(config.upload_parallelism, parse_int("upload_parallelism", *v, 1, 64));
  }
  if (auto v = option("list_page_size")) {
    OPENDBS_ASSIGN(config.list_page_size, parse_int("list_page_size", *v, 1, 1000));
  }
  if (auto v = option("connect_timeout_ms")) {
    OPENDBS_ASSIGN(config.http.connect_timeout_ms, parse_int("connect_timeout_ms", *v, 1, 600'000));
  }
  if (auto v = option("stall_timeout_ms")) {
    OPENDBS_ASSIGN(config.http.stall_timeout_ms, parse_int("stall_timeout_ms", *v, 1000, 3'600'000));
  }
  if (auto v = option("request_timeout_ms")) {
    OPENDBS_ASSIGN(config.http.request_timeout_ms, parse_int("request_timeout_ms", *v, 0, 86'400'000));
  }
  if (auto v = option("verify_tls")) {
    OPENDBS_ASSIGN(config.http.verify_tls, parse_bool("verify_tls", *v));
  }
  if (auto v = option("ca_file")) config.http.ca_file = *v;
  if (auto v = option("retry_count_max")) {
    OPENDBS_ASSIGN(config.retry.retry_count_max, parse_int("retry_count_max", *v, 0, 100));
  }
  if (auto v = option("retry_for_ms")) {
    OPENDBS_ASSIGN(config.retry.retry_for_ms, parse_int("retry_for_ms", *v, 0, 3'600'000));
  }
  if (auto v = option("retry_backoff_ms")) {
    OPENDBS_ASSIGN(config.retry.backoff_initial_ms, parse_int("retry_backoff_ms", *v, 0, 60'000));
  }
  return config;
}

}  // namespace opendbs::repo
