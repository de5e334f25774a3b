#include "http/router.h"

#include <boost/json/serialize.hpp>

#include <filesystem>

#include "console/assets.h"
#include "core/clock.h"
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

// A download task's file at its signed link: 403 for a link that was changed or has expired, 404 once
// the file is gone; streamed by the server, never read into memory here.
Response Router::download(const Request& request) const {
  if (!downloads_) return error(404, "NotFound", "This node serves no downloads.");
  if (request.method != "GET" && request.method != "HEAD")
    return error(400, "BadRequest", "Downloads are fetched with GET or HEAD.");
  auto target = downloads_->verify(request.target, core::SystemClock::instance().now_ms() / 1000);
  if (!target.ok()) return error(target.error().http_status, target.error().code, target.error().message);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(target->file, ec))
    return error(404, "NotFound", "The download's file is gone: downloads are deleted when their link expires.");
  Response r{200, "application/octet-stream", "", {}, target->file};
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + target->name + "\"");
  r.headers.emplace_back("Cache-Control", "private, no-store");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
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
  if (path == "/console" || path.starts_with("/console/")) return console(path);
  if (path.starts_with("/downloads/")) return download(request);
  if (path == "/healthz") return Response{200, "text/plain; charset=utf-8", "ok\n", {}};
  if (path == "/metrics") return Response{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(), {}};
  if (path == "/api/schema") return Response{200, "application/json;charset=utf-8", boost::json::serialize(api::schema_json()), {}};
  return error(404, "NotFound", "No such path: " + std::string(path) + " (the DBS API is served on /)");
}

}  // namespace opendbs::http
