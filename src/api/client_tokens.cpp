#include "api/client_tokens.h"

#include <boost/json.hpp>

#include "core/crypto.h"
#include "core/errors.h"
#include "core/utf8.h"

namespace opendbs::api {
namespace {

std::string params_digest(const std::map<std::string, std::string>& params) {
  std::string canonical;
  for (const auto& [k, v] : params) {
    if (k == "ClientToken") continue;
    canonical.append(k).push_back('\0');
    canonical.append(v).push_back('\0');
  }
  return core::to_hex(core::sha256(canonical));
}

}  // namespace

core::Result<boost::json::object> ClientTokens::run_once(
    const std::string& account_id, const std::string& action, const std::string& token,
    const std::map<std::string, std::string>& params, int64_t now_ms,
    const std::function<core::Result<boost::json::object>()>& call) {
  if (token.size() > 64)
    return core::errors::invalid_parameter("ClientToken", std::string(core::utf8_prefix(token, 16)) + "...",
                                           "at most 64 characters");
  const std::string id = core::to_hex(core::sha256(account_id + '\0' + action + '\0' + token));
  const std::string digest = params_digest(params);
  std::lock_guard lock(stripes_[std::hash<std::string>{}(id) % kStripes]);

  std::optional<catalog::Record> previous;
  OPENDBS_TRY(store_.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(previous, tx.get(catalog::Kind::client_token, id));
    return {};
  }));
  if (previous && previous->sort_ms >= now_ms - kLifetimeMs) {
    if (previous->doc.at("ParamsDigest").as_string() != digest)
      return core::make_error("IdempotentParameterMismatch",
                              "The ClientToken \"" + token + "\" was used with other parameters within 24 hours.");
    return previous->doc.at("Response").as_object();
  }
  OPENDBS_ASSIGN(auto answer, call());
  catalog::Record record{id, account_id, "", "done", now_ms, {}};
  record.doc["Action"] = action;
  record.doc["ParamsDigest"] = digest;
  record.doc["Response"] = answer;
  OPENDBS_TRY(store_.transact([&](catalog::Tx& tx) { return tx.put(catalog::Kind::client_token, record); }));
  return answer;
}

}  // namespace opendbs::api
