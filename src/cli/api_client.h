// A signed DBS API client for the command line: endpoint and credentials from flags, the environment
// (OPENDBS_ENDPOINT, ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET) or a profile file, V3 signatures by default.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "api/percent_encoding.h"
#include "core/result.h"

namespace opendbs::cli {

struct ClientConfig {
  std::string endpoint;           // http(s)://host[:port]
  std::string access_key_id, access_key_secret;
  std::string signature = "v3";   // v3 or v1
  bool insecure = false;          // skip TLS verification (self-signed node certificate)
  std::string ca_file;            // or trust this CA
  std::string profile;            // profile name in the config file
  long timeout_ms = 30000;
};

// Fills what flags left empty: environment, then the profile file (~/.opendbs/config.json, then the
// aliyun CLI's ~/.aliyun/config.json), then http://127.0.0.1:8080; a profile named in `config.profile`
// comes before the environment and must exist. Errors name what is missing.
core::Status resolve_client_config(ClientConfig& config);

// ~/.opendbs/config.json ("" without HOME).
std::string opendbs_config_path();

struct ApiAnswer {
  long http_status = 0;
  boost::json::object body;
};

// Signs and sends one call. Transport problems (refused, TLS, timeout) are errors naming the endpoint;
// an API error is an answer with its status and body.
core::Result<ApiAnswer> call_api(const ClientConfig& config, const std::string& action, const api::ParamList& params);

}  // namespace opendbs::cli
