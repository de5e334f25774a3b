#include "http/router.h"

#include <boost/json/serialize.hpp>

#include "console/assets.h"
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

// The web console: "/console" redirects to "/console/", which is index.html; every other file by its
// path below "/console/". The console talks to the node only through the signed API on "/", and the
// Content-Security-Policy keeps it (and anything injected into it) from loading or calling elsewhere.
Response Router::console(std::string_view path) {
  if (path == "/console") return Response{302, "", "", {{"Location", "/console/"}}};
  std::string_view name = path.substr(std::string_view("/console/").size());
  if (name.empty()) name = "index.html";
  const console::Asset* asset = console::find_asset(name);
  if (!asset) return error(404, "NotFound", "No such console file: " + std::string(path));
  return Response{200,
                  std::string(asset->content_type),
                  std::string(asset->body),
                  {{"Cache-Control", "no-cache"},
                   {"X-Content-Type-Options", "nosniff"},
                   {"Referrer-Policy", "no-referrer"},
                   {"Content-Security-Policy",
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"}}};
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
  if (path == "/console" || path.starts_with("/console/")) return console(path);
  if (path == "/healthz") return Response{200, "text/plain; charset=utf-8", "ok\n", {}};
  if (path == "/metrics") return Response{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(), {}};
  if (path == "/api/schema") return Response{200, "application/json;charset=utf-8", boost::json::serialize(api::schema_json()), {}};
  return error(404, "NotFound", "No such path: " + std::string(path) + " (the DBS API is served on /)");
}

}  // namespace opendbs::http
