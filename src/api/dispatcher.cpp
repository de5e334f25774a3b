#include "api/dispatcher.h"

#include <boost/json.hpp>
#include <chrono>

#include "api/signature.h"
#include "core/errors.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/utf8.h"

namespace opendbs::api {
namespace {

constexpr int64_t kTimestampWindowMs = 15 * 60 * 1000;
constexpr std::string_view kVersion = "2019-03-06";

std::string recommend_for(const core::Error& e) {
  if (e.code == "SignatureDoesNotMatch") return "Compare the server's string to sign in Message with your client's.";
  if (e.code == "InvalidTimeStamp.Expired") return "Synchronise the client's clock (UTC) with the node's.";
  if (e.code == "Request.Forbidden") return "Attach a RAM policy that allows this action on this resource.";
  if (e.code == "InternalError") return "Report this RequestId; the node's log has the details.";
  return "";
}

// The RAM resource of a call: the plan for plan-scoped operations, else the account's DBS resources.
std::string resource_for(const OperationSpec& op, const Context& ctx) {
  const std::string prefix = "acs:dbs:" + ctx.services.region + ":" + ctx.caller.account_id + ":";
  if (!op.plan_scoped) return prefix + "*";
  const std::string& id = ctx.str("BackupPlanId");
  return prefix + "backupplan/" + (id.empty() ? "*" : id);
}

}  // namespace

std::string Dispatcher::error_body(const std::string& request_id, const core::Error& error) {
  boost::json::object body{{"RequestId", request_id},
                           {"HostId", "opendbs"},
                           {"Code", error.code},
                           {"Message", error.message},
                           {"Recommend", recommend_for(error)},
                           {"Success", false},
                           {"ErrCode", error.code},
                           {"ErrMessage", error.message},
                           {"HttpStatusCode", error.http_status}};
  return boost::json::serialize(body);
}

ApiResponse Dispatcher::handle(const ApiRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  RequestOutcome outcome;
  outcome.request_id = core::new_request_id();
  auto result = authenticate_and_run(request, outcome.request_id, outcome);
  ApiResponse response;
  response.request_id = outcome.request_id;
  if (result.ok()) {
    boost::json::object body{{"RequestId", outcome.request_id}, {"HttpStatusCode", 200}, {"Success", true}};
    const auto raw = result->find(kRawMembers);
    if (raw != result->end() && raw->value().is_string() && result->size() == 1) {
      // Members already serialised by the operation (a cached page): spliced in, not parsed again.
      response.body = boost::json::serialize(body);
      response.body.pop_back();
      if (!raw->value().as_string().empty()) response.body.append(",").append(raw->value().as_string());
      response.body.append("}");
    } else {
      for (auto& kv : *result) body[kv.key()] = std::move(kv.value());
      response.body = boost::json::serialize(body);
    }
  } else {
    response.status = result.error().http_status;
    response.body = error_body(outcome.request_id, result.error());
    outcome.code = result.error().code;
  }
  outcome.status = response.status;
  outcome.latency_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  core::log_event(response.status >= 500 ? core::LogLevel::error : core::LogLevel::info, "request",
                  {{"RequestId", outcome.request_id},
                   {"Action", outcome.action},
                   {"AccessKeyId", outcome.access_key_id},
                   {"Status", outcome.status},
                   {"Code", outcome.code},
                   {"LatencyMs", outcome.latency_seconds * 1000},
                   {"Message", result.ok() ? "" : std::string(core::utf8_prefix(result.error().message, 300))}});
  if (observer_) observer_(outcome);
  return response;
}

core::Result<boost::json::object> Dispatcher::authenticate_and_run(const ApiRequest& request,
                                                                   const std::string& request_id,
                                                                   RequestOutcome& outcome) {
  OPENDBS_ASSIGN(auto decoded, decode_request(request.http));
  outcome.action = decoded.action;
  outcome.access_key_id = decoded.access_key_id;
  if (!decoded.security_token.empty())
    return core::make_error("InvalidSecurityToken",
                            "STS security tokens are not supported by opendbs; sign with an AccessKey pair.");
  OPENDBS_ASSIGN(auto caller, directory_.lookup(decoded.access_key_id));
  const int64_t now = services_.clock.now_ms();
  if (decoded.timestamp_ms < now - kTimestampWindowMs || decoded.timestamp_ms > now + kTimestampWindowMs)
    return core::make_error("InvalidTimeStamp.Expired",
                            "Specified time stamp or date value is expired: " + decoded.timestamp +
                                " is more than 15 minutes from the node's time " + core::format_iso8601(now) + ".");
  OPENDBS_TRY(verify_signature(request.http, decoded, caller.access_key_secret));
  if (!nonces_.check_and_remember(decoded.access_key_id, decoded.nonce, now))
    return core::make_error("SignatureNonceUsed", "Specified signature nonce was used already: " + decoded.nonce);
  if (decoded.version != kVersion)
    return core::make_error("InvalidVersion", "Specified parameter Version \"" + decoded.version +
                                                  "\" is not valid: this service implements 2019-03-06.");
  const OperationSpec* op = find_operation(decoded.action);
  if (!op)
    return core::make_error("InvalidAction.NotFound",
                            "Specified api \"" + decoded.action + "\" is not found in DBS 2019-03-06.");
  OPENDBS_TRY(validate_params(*op, decoded.params));
  Context ctx(services_, caller, request_id, decoded.params);
  iam::AccessRequest access{"dbs:" + op->name, resource_for(*op, ctx), request.remote_ip, now, request.secure};
  OPENDBS_TRY(iam::authorize(caller, access));
  auto run = [&]() -> core::Result<boost::json::object> {
    try {
      return op->handler(ctx);
    } catch (const std::exception& e) {
      return core::errors::internal(std::string("operation failed unexpectedly: ") + e.what());
    }
  };
  if (ctx.has("ClientToken"))
    return tokens_.run_once(caller.account_id, op->name, ctx.str("ClientToken"), decoded.params, now, run);
  return run();
}

}  // namespace opendbs::api
