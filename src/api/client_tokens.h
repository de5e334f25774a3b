// ClientToken idempotency: the same token with the same parameters on the same action within 24 hours
// returns the first result and has no second effect, also when the duplicates arrive at the same time;
// the same token with other parameters is IdempotentParameterMismatch.
//
// Duplicates are serialised on a striped lock keyed by the token, and the first successful answer is
// recorded in the catalog (Kind::client_token) before it is returned, so a later duplicate (even after
// a restart) finds it. Failed calls are not recorded: retrying them with the same token is allowed.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "catalog/store.h"
#include "core/result.h"

namespace opendbs::api {

class ClientTokens {
 public:
  static constexpr int64_t kLifetimeMs = 24LL * 3600 * 1000;
  explicit ClientTokens(catalog::Store& store) : store_(store) {}

  // Runs `call` at most once per (account, action, token) with equal parameters.
  core::Result<boost::json::object> run_once(const std::string& account_id, const std::string& action,
                                             const std::string& token, const std::map<std::string, std::string>& params,
                                             int64_t now_ms,
                                             const std::function<core::Result<boost::json::object>()>& call);

 private:
  static constexpr int kStripes = 64;
  catalog::Store& store_;
  std::mutex stripes_[kStripes];
};

}  // namespace opendbs::api
