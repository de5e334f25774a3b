#include "cli/api_client.h"

#include <curl/curl.h>

#include <boost/json.hpp>
#include <cstdlib>

#include "api/signature.h"
#include "core/errors.h"
#include "core/file.h"
#include "core/utf8.h"

namespace opendbs::cli {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Reads credentials of `profile` (or the current/default one) from an opendbs or aliyun config file:
// {"current": "p", "profiles": [{"name": "p", "access_key_id": "...", "access_key_secret": "...",
// "endpoint": "...", "insecure": false, "ca_file": "..."}]}. Fills only what is still empty; false
// when the file has no such profile.
bool read_profile(const std::string& path, ClientConfig& c) {
  auto text = core::read_file(path);
  if (!text.ok()) return false;
  boost::system::error_code ec;
  auto v = boost::json::parse(*text, ec);
  if (ec || !v.is_object() || !v.as_object().contains("profiles") || !v.at("profiles").is_array()) return false;
  std::string wanted = c.profile;
  if (wanted.empty() && v.as_object().contains("current") && v.at("current").is_string())
    wanted = std::string(v.at("current").as_string());
  if (wanted.empty()) wanted = "default";
  for (const auto& p : v.at("profiles").as_array()) {
    if (!p.is_object() || !p.as_object().contains("name") || p.at("name") != boost::json::value(wanted)) continue;
    auto field = [&](const char* name) {
      return p.as_object().contains(name) && p.at(name).is_string() ? std::string(p.at(name).as_string()) : "";
    };
    if (c.access_key_id.empty()) c.access_key_id = field("access_key_id");
    if (c.access_key_secret.empty()) c.access_key_secret = field("access_key_secret");
    if (c.endpoint.empty()) c.endpoint = field("endpoint");
    if (c.ca_file.empty()) c.ca_file = field("ca_file");
    if (p.as_object().contains("insecure") && p.at("insecure").is_bool()) c.insecure = c.insecure || p.at("insecure").as_bool();
    return true;
  }
  return false;
}

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

std::string opendbs_config_path() {
  const std::string home = env("HOME");
  return home.empty() ? "" : home + "/.opendbs/config.json";
}

core::Status resolve_client_config(ClientConfig& c) {
  const std::string home = env("HOME");
  auto read_profiles = [&] {
    return !home.empty() && (read_profile(home + "/.opendbs/config.json", c) || read_profile(home + "/.aliyun/config.json", c));
  };
  // A profile named with --profile wins over the environment; otherwise the environment wins over the
  // files' current (or "default") profile.
  if (!c.profile.empty() && !read_profiles())
    return core::errors::invalid_parameter("--profile", c.profile, "a profile in ~/.opendbs/config.json or ~/.aliyun/config.json");
  if (c.endpoint.empty()) c.endpoint = env("OPENDBS_ENDPOINT");
  if (c.access_key_id.empty()) c.access_key_id = env("ALIBABA_CLOUD_ACCESS_KEY_ID");
  if (c.access_key_secret.empty()) c.access_key_secret = env("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
  if (c.profile.empty() && (c.access_key_id.empty() || c.access_key_secret.empty() || c.endpoint.empty())) read_profiles();
  if (c.endpoint.empty()) c.endpoint = "http://127.0.0.1:8080";
  if (c.endpoint.find("://") == std::string::npos) c.endpoint = "http://" + c.endpoint;
  while (c.endpoint.size() > 8 && c.endpoint.back() == '/') c.endpoint.pop_back();
  if (c.access_key_id.empty() || c.access_key_secret.empty())
    return core::make_error("IncompleteSignature",
                            "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, pass "
                            "--access-key-id/--access-key-secret, or add a profile to ~/.opendbs/config.json");
  if (c.signature != "v3" && c.signature != "v1")
    return core::errors::invalid_parameter("--signature", c.signature, "v3 or v1");
  return {};
}

core::Result<ApiAnswer> call_api(const ClientConfig& c, const std::string& action, const api::ParamList& params) {
  const auto scheme_end = c.endpoint.find("://");
  api::SignInput in;
  in.host = c.endpoint.substr(scheme_end + 3);
  in.action = action;
  in.params = params;
  in.access_key_id = c.access_key_id;
  in.access_key_secret = c.access_key_secret;
  const auto request = c.signature == "v1" ? api::sign_v1(in, true) : api::sign_v3(in);

  CURL* curl = curl_easy_init();
  if (!curl) return core::errors::internal("cannot initialise libcurl");
  std::string url = c.endpoint + request.target, response;
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers)
    if (name != "host" && name != "content-length") headers = curl_slist_append(headers, (name + ": " + value).c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, c.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "opendbs-cli");
  if (c.insecure) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!c.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, c.ca_file.c_str());
  const CURLcode rc = curl_easy_perform(curl);
  ApiAnswer answer;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.http_status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK)
    return core::make_error("ServiceUnavailable",
                            "cannot reach " + c.endpoint + ": " + curl_easy_strerror(rc) +
                                (rc == CURLE_PEER_FAILED_VERIFICATION ? " (self-signed node? use --ca-file or --insecure)" : ""));
  boost::system::error_code ec;
  auto body = boost::json::parse(response, ec);
  if (ec || !body.is_object())
    return core::make_error("BadRequest", c.endpoint + " did not answer with DBS JSON (HTTP " +
                                              std::to_string(answer.http_status) + "): " + std::string(core::utf8_prefix(response, 200)));
  answer.body = std::move(body.as_object());
  return answer;
}

}  // namespace opendbs::cli
