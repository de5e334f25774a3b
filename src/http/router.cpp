#include "http/router.h"

#include <boost/json/serialize.hpp>

#include "core/errors.h"
#include "core/ids.h"

namespace opendbs::http {

Response Router::error(int status, const std::string& code, const std::string& message) {
  Response r;
  r.status = status;
  const std::string request_id = core::new_request_id();
  r.body = api::Dispatcher::error_body(request_id, core::Error{code, status, message});
  r.headers.emplace_back("x-acs-request-id", request_id);
  return r;
}

Response Router::handle(const Request& request) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/") {
    api::ApiRequest api_request{{request.method, request.target, request.headers, request.body},
                                request.remote_ip,
                                request.secure};
    auto answer = dispatcher_.handle(api_request);
    Response r;
    r.status = answer.status;
    r.body = std::move(answer.body);
    r.headers.emplace_back("x-acs-request-id", answer.request_id);
    return r;
  }
  if (path == "/healthz") return Response{200, "text/plain; charset=utf-8", "ok\n", {}};
  if (path == "/metrics") return Response{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(), {}};
  if (path == "/api/schema") return Response{200, "application/json;charset=utf-8", boost::json::serialize(api::schema_json()), {}};
  return error(404, "NotFound", "No such path: " + std::string(path) + " (the DBS API is served on /)");
}

}  // namespace opendbs::http
