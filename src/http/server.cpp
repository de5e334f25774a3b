// All of opendbs's Boost.Beast and Asio code lives in this one translation unit (compile time).
//
// Shape: one io_context run by `threads` I/O threads. Each listener accepts on a "control" strand;
// each connection gets a strand of its own and one C++20 coroutine (Session::serve) that reads a
// request, calls the Handler, writes the response, and loops while keep-alive holds. Requests on a
// connection are handled strictly in order, so pipelined requests are safe: bytes of the next
// request simply wait in the connection's buffer.
//
// Shutdown: every live connection is registered in ServerRuntime::connections. shutdown() closes the
// acceptors, asks each connection (on its strand) to close if it is idle, and arms a grace timer.
// Busy connections finish their current request with "Connection: close". When the last connection
// goes, the timer is cancelled and the io_context runs out of work, so the threads exit; if the timer
// fires first, the remaining connections are closed outright.
#include "http/server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_set>

#include <sys/stat.h>

#include "core/errors.h"
#include "core/log.h"
#include "http/byte_range.h"

namespace opendbs::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Milliseconds = std::chrono::milliseconds;

std::string_view Request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return value;
  return {};
}

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t kIdleReadBytes = 4096;            // first read of a request, while waiting for it
constexpr size_t kLingerBytesMax = 16 * 1024 * 1024;  // unread body discarded after a 413/400
constexpr int kLingerMsMax = 2000;
constexpr int kTlsShutdownMsMax = 1000;
constexpr int kAcceptRetryMs = 50;  // pause after a failed accept (e.g. out of file descriptors)
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr size_t kFileSliceBytes = 256 * 1024;  // a streamed file is read and written in pieces of this size

using Strand = asio::strand<asio::io_context::executor_type>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

class Connection;

}  // namespace

struct ServerRuntime {
  ServerRuntime(ServerOptions opts, Handler h)
      : options(std::move(opts)),
        handler(std::move(h)),
        ioc(std::max(1, options.threads)),
        control(asio::make_strand(ioc)),
        plain_acceptor(control),
        tls_acceptor(control),
        grace_timer(control) {}

  // Never throws: a failing error_response hook falls back to the built-in body.
  Response error_response(int status, const std::string& code, const std::string& message) const {
    if (options.error_response) {
      try {
        return options.error_response(status, code, message);
      } catch (...) {
      }
    }
    Response r;
    r.status = status;
    r.body = boost::json::serialize(boost::json::object{{"Code", code}, {"Message", message}});
    return r;
  }

  ServerOptions options;
  Handler handler;
  // Declared before ioc: connections left in the io_context are destroyed with it and deregister.
  std::mutex mutex;                              // guards connections and grace_timer_armed
  std::unordered_set<Connection*> connections;
  bool grace_timer_armed = false;
  std::atomic<bool> stopping{false};
  std::atomic<bool> cut_off{false};  // the shutdown grace period is over
  std::optional<asio::ssl::context> tls;
  asio::io_context ioc;
  Strand control;  // the acceptors and the grace timer live here
  tcp::acceptor plain_acceptor, tls_acceptor;
  asio::steady_timer grace_timer;
  std::vector<std::thread> threads;
  uint16_t port = 0, tls_port = 0;
  bool started = false;
};

namespace {

// What shutdown() needs of a connection, whatever its stream type.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(ServerRuntime& rt) : rt_(rt) {
    std::lock_guard lock(rt_.mutex);
    rt_.connections.insert(this);
  }
  virtual ~Connection() {
    std::lock_guard lock(rt_.mutex);
    rt_.connections.erase(this);
    if (rt_.connections.empty() && rt_.grace_timer_armed) rt_.grace_timer.cancel();
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Both must run on the connection's strand: post them to executor().
  virtual void close_if_idle() = 0;
  virtual void close() = 0;
  virtual asio::any_io_executor executor() = 0;

 protected:
  ServerRuntime& rt_;
};

// Posts `action` to the strand of every live connection. Takes rt.mutex itself, and lets go of the
// connections only after releasing it: the last reference to a connection that finished meanwhile
// may be the one taken here, and its destructor takes rt.mutex (a deadlock seen on shutdown).
void for_each_connection(ServerRuntime& rt, void (Connection::*action)()) {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(rt.mutex);
    for (Connection* c : rt.connections)
      if (auto self = c->weak_from_this().lock())  // empty while its destructor waits for the mutex
        live.push_back(std::move(self));
  }
  for (auto& self : live) asio::post(self->executor(), [self, action] { (self.get()->*action)(); });
}

struct Rejection {
  int status;
  const char* code;
  std::string message;
};

// Which read errors deserve an answer before the connection closes; the rest (EOF, timeout, reset,
// shutdown) just close it.
std::optional<Rejection> rejection_for(const beast::error_code& ec, const ServerOptions& options) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
    return Rejection{413, "RequestTooLarge",
                     "The request line and headers exceed the limit of " +
                         std::to_string(options.header_limit_bytes) + " bytes."};
  if (ec == bhttp::error::body_limit)
    return Rejection{413, "RequestTooLarge",
                     "The request body exceeds the limit of " + std::to_string(options.body_limit_bytes) +
                         " bytes."};
  static const auto& http_category = bhttp::make_error_code(bhttp::error::bad_target).category();
  if (ec.category() == http_category && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
    return Rejection{400, "BadRequest", "The HTTP request is malformed: " + ec.message() + "."};
  return std::nullopt;
}

// The wire response for `res`. Never throws: an unwritable response becomes a 500.
bhttp::response<bhttp::string_body> to_wire(const ServerRuntime& rt, Response res, unsigned version, bool keep_alive,
                                            bool head) {
  bhttp::response<bhttp::string_body> out;
  try {
    out.version(version);
    out.result(static_cast<unsigned>(res.status >= 100 && res.status <= 999 ? res.status : 500));
    if (!res.content_type.empty()) out.set(bhttp::field::content_type, res.content_type);
    for (const auto& [name, value] : res.headers) out.insert(name, value);
    out.body() = std::move(res.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
  } catch (const std::exception& e) {
    core::log_event(core::LogLevel::error, "http_bad_response", {{"error", e.what()}});
    return to_wire(rt, rt.error_response(500, "InternalError", "The server produced an invalid response."),
                   version, false, head);
  }
  if (head) {  // HEAD: the headers of the GET answer, no body
    const auto size = out.body().size();
    out.body().clear();
    out.content_length(size);
  }
  return out;
}

template <class Stream>
class Session final : public Connection {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(ServerRuntime& rt, Stream stream, std::string remote_ip) : Connection(rt), stream_(std::move(stream)) {
    request_.remote_ip = std::move(remote_ip);
    request_.secure = kTls;
  }

  // The coroutine owns the session through `self`.
  static asio::awaitable<void> run(std::shared_ptr<Session> self) { co_await self->serve(); }

  void close_if_idle() override {
    if (idle_) close();
  }
  void close() override { lowest().close(); }
  asio::any_io_executor executor() override { return lowest().get_executor(); }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  const ServerOptions& options() const { return rt_.options; }
  void expire_in(int ms) { lowest().expires_after(Milliseconds(ms)); }

  asio::awaitable<void> serve() {
    if constexpr (kTls) {
      expire_in(options().read_timeout_ms);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kNoThrow);
      if (ec) co_return;
    }
    for (bool first = true;; first = false) {
      if (!co_await await_request(first)) co_return;
      const beast::error_code ec = co_await read_request();
      if (ec) {
        if (auto rejection = rejection_for(ec, options())) co_await reject(*rejection);
        co_return;
      }
      if (!co_await respond()) break;
    }
    co_await close_gracefully();
  }

  // Waits for the first bytes of the next request: up to read_timeout for a new connection,
  // keep_alive_idle on a kept-alive one. False = closed (by the peer, the timeout or shutdown).
  asio::awaitable<bool> await_request(bool first) {
    if (buffer_.size() > 0) co_return true;  // a pipelined request is already here
    if (rt_.stopping) co_return false;
    idle_ = true;
    expire_in(first ? options().read_timeout_ms : options().keep_alive_idle_ms);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kIdleReadBytes), kNoThrow);
    idle_ = false;
    if (ec) co_return false;
    buffer_.commit(n);
    co_return true;
  }

  // Reads one whole request into parser_ within read_timeout of its first byte.
  asio::awaitable<beast::error_code> read_request() {
    expire_in(options().read_timeout_ms);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<size_t>(options().header_limit_bytes, UINT32_MAX)));
    parser_->body_limit(options().body_limit_bytes);
    auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer_, *parser_, kNoThrow);
    if (ec || parser_->is_done()) co_return ec;
    // Clients such as curl wait (a second) for this before sending a body; the size was already
    // checked against the limit when the header was parsed.
    if (beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
      auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(kContinue), kNoThrow);
      if (wec) co_return wec;
    }
    auto [rec, rn] = co_await bhttp::async_read(stream_, buffer_, *parser_, kNoThrow);
    co_return rec;
  }

  // Calls the handler and writes its response. False = the connection closes now.
  asio::awaitable<bool> respond() {
    fill_request();
    Response response = call_handler();
    if (rt_.cut_off) {  // the grace period ended while the handler ran: no answer
      lowest().close();
      co_return false;
    }
    const auto& message = parser_->get();
    const bool keep_alive = message.keep_alive() && !rt_.stopping;  // read after the handler ran
    const bool head = message.method() == bhttp::verb::head;
    if (!response.file_path.empty())
      co_return co_await send_file(std::move(response), message.version(), keep_alive, head,
                                   message.method() == bhttp::verb::get);
    co_return co_await send_buffered(std::move(response), message.version(), keep_alive, head);
  }

  asio::awaitable<bool> send_buffered(Response response, unsigned version, bool keep_alive, bool head) {
    auto wire = to_wire(rt_, std::move(response), version, keep_alive, head);
    expire_in(options().read_timeout_ms);
    auto [ec, n] = co_await bhttp::async_write(stream_, wire, kNoThrow);
    co_return !ec && keep_alive;
  }

  // Streams a file as the body in 256 KiB pieces: the whole file is never in memory, and the write
  // timeout bounds each piece (a stalled client), not the whole transfer (a large file). A 200 file
  // response carries Accept-Ranges, ETag and Last-Modified; a GET's Range turns it into a 206 of one
  // part of the file or a 416 (byte_range.h), so that a broken download can be resumed.
  asio::awaitable<bool> send_file(Response response, unsigned version, bool keep_alive, bool head, bool get) {
    beast::file file;
    beast::error_code ec;
    file.open(response.file_path.c_str(), beast::file_mode::scan, ec);
    const std::uint64_t size = ec ? 0 : file.size(ec);
    struct stat file_stat {};
    if (!ec && ::fstat(file.native_handle(), &file_stat) != 0) ec.assign(errno, beast::system_category());
    if (ec)
      co_return co_await send_buffered(rt_.error_response(404, "NotFound", "The file is no longer available."),
                                       version, keep_alive, head);
    RangeAnswer range;
    if (response.status == 200) {
      const FileValidators validators = file_validators(size, file_stat.st_mtim.tv_sec, file_stat.st_mtim.tv_nsec);
      response.headers.emplace_back("Accept-Ranges", "bytes");
      response.headers.emplace_back("ETag", validators.etag);
      response.headers.emplace_back("Last-Modified", validators.last_modified);
      if (get) range = answer_range(request_.header("range"), request_.header("if-range"), size, validators);
    }
    if (range.kind == RangeAnswer::unsatisfiable) {
      Response refusal = rt_.error_response(
          416, "InvalidRange", "The requested range starts past the end of the file (" + std::to_string(size) + " bytes).");
      refusal.headers.emplace_back("Content-Range", content_range(range, size));
      refusal.headers.emplace_back("Accept-Ranges", "bytes");
      co_return co_await send_buffered(std::move(refusal), version, keep_alive, head);
    }
    std::uint64_t left = size;
    if (range.kind == RangeAnswer::partial) {
      response.status = 206;
      response.headers.emplace_back("Content-Range", content_range(range, size));
      left = range.length;
      file.seek(range.first, ec);
      if (ec) co_return false;
    }
    bhttp::response<bhttp::empty_body> out;
    out.version(version);
    out.result(static_cast<unsigned>(response.status));
    if (!response.content_type.empty()) out.set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) out.insert(name, value);
    out.keep_alive(keep_alive);
    out.content_length(left);
    bhttp::response_serializer<bhttp::empty_body> serializer(out);
    expire_in(options().read_timeout_ms);
    auto [hec, hn] = co_await bhttp::async_write_header(stream_, serializer, kNoThrow);
    if (hec) co_return false;
    if (head) co_return keep_alive;
    std::vector<char> buffer(kFileSliceBytes);
    while (left > 0) {
      const size_t n = file.read(buffer.data(), static_cast<size_t>(std::min<std::uint64_t>(left, buffer.size())), ec);
      if (ec || n == 0 || rt_.cut_off) co_return false;  // the file shrank: the client sees a short body
      expire_in(options().read_timeout_ms);
      auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(buffer.data(), n), kNoThrow);
      if (wec) co_return false;
      left -= n;
    }
    co_return keep_alive;
  }

  // Copies the parsed request into request_, reusing its strings' capacity from the last request.
  void fill_request() {
    auto& message = parser_->get();
    request_.method.assign(message.method_string());
    request_.target.assign(message.target());
    size_t count = 0;
    for (const auto& field : message) {
      if (count == request_.headers.size()) request_.headers.emplace_back();
      auto& [name, value] = request_.headers[count++];
      name.assign(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      value.assign(field.value());
    }
    request_.headers.resize(count);
    request_.body = std::move(message.body());
  }

  Response call_handler() {
    try {
      return rt_.handler(request_);
    } catch (const std::exception& e) {
      core::log_event(core::LogLevel::error, "http_handler_exception",
                      {{"error", e.what()}, {"method", request_.method}, {"target", request_.target}});
    } catch (...) {
      core::log_event(core::LogLevel::error, "http_handler_exception",
                      {{"error", "non-standard exception"}, {"method", request_.method}, {"target", request_.target}});
    }
    return rt_.error_response(500, "InternalError", "The server failed to handle the request.");
  }

  // Answers a request that could not be read, then closes. The client may still be sending the
  // body we refused; closing with unread bytes would reset the connection and could destroy our
  // answer in the client's buffers, so the rest is read and discarded for a short while first.
  asio::awaitable<void> reject(const Rejection& rejection) {
    auto wire = to_wire(rt_, rt_.error_response(rejection.status, rejection.code, rejection.message), 11, false, false);
    expire_in(options().read_timeout_ms);
    auto [ec, n] = co_await bhttp::async_write(stream_, wire, kNoThrow);
    if (ec) co_return;
    if constexpr (!kTls) lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    expire_in(std::min(options().read_timeout_ms, kLingerMsMax));
    buffer_.clear();
    for (size_t drained = 0; drained < kLingerBytesMax;) {
      auto [rec, rn] = co_await stream_.async_read_some(buffer_.prepare(64 * 1024), kNoThrow);
      if (rec) break;
      drained += rn;
    }
    lowest().close();
  }

  asio::awaitable<void> close_gracefully() {
    if constexpr (kTls) {  // close_notify, so that the client knows the response was not truncated
      expire_in(std::min(options().read_timeout_ms, kTlsShutdownMsMax));
      co_await stream_.async_shutdown(kNoThrow);
    } else {
      beast::error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    }
    lowest().close();
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;
  bool idle_ = false;  // waiting for a request to begin; only touched on the strand
};

std::string peer_address(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

template <class S>
void spawn_session(std::shared_ptr<S> session) {
  auto executor = session->executor();
  asio::co_spawn(executor, S::run(std::move(session)), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      core::log_event(core::LogLevel::error, "http_connection_failed", {{"error", ex.what()}});
    } catch (...) {
      core::log_event(core::LogLevel::error, "http_connection_failed", {{"error", "non-standard exception"}});
    }
  });
}

template <class Socket>
void start_session(ServerRuntime& rt, Socket socket, bool secure) {
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  if (secure)
    spawn_session(std::make_shared<Session<TlsStream>>(rt, TlsStream(std::move(stream), *rt.tls),
                                                       peer_address(endpoint.address())));
  else
    spawn_session(std::make_shared<Session<beast::tcp_stream>>(rt, std::move(stream), peer_address(endpoint.address())));
}

// Runs on rt.control until the acceptor is closed.
asio::awaitable<void> accept_loop(ServerRuntime& rt, tcp::acceptor& acceptor, bool secure) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(rt.ioc), kNoThrow);
    if (rt.stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      core::log_event(core::LogLevel::warn, "http_accept_failed", {{"error", ec.message()}});
      asio::steady_timer pause(rt.control, Milliseconds(kAcceptRetryMs));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    start_session(rt, std::move(socket), secure);
  }
}

// Parses HOST:PORT or [V6]:PORT; an empty host means every interface.
core::Result<tcp::endpoint> resolve_listen_address(asio::io_context& ioc, const std::string& address) {
  const auto bad = core::errors::invalid_parameter("listen", address, "HOST:PORT or [IPV6]:PORT");
  std::string host, port_text;
  if (address.starts_with('[')) {
    const auto close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') return bad;
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) return bad;
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  uint16_t port = 0;
  const auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || err != std::errc() || end != port_text.data() + port_text.size()) return bad;
  if (host.empty()) host = "0.0.0.0";
  beast::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(ip, port);
  tcp::resolver resolver(ioc);
  const auto results = resolver.resolve(host, port_text, ec);
  if (ec || results.empty()) return core::errors::io("cannot listen on " + address + ": cannot resolve " + host);
  return results.begin()->endpoint();
}

core::Result<uint16_t> open_listener(ServerRuntime& rt, tcp::acceptor& acceptor, const std::string& address) {
  OPENDBS_ASSIGN(const tcp::endpoint endpoint, resolve_listen_address(rt.ioc, address));
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return core::errors::io("cannot listen on " + address + ": " + ec.message());
  }
  return acceptor.local_endpoint().port();
}

core::Status load_tls(ServerRuntime& rt) {
  const auto& o = rt.options;
  if (o.tls_cert_file.empty() || o.tls_key_file.empty())
    return core::errors::invalid_parameter("tls_cert_file", o.tls_cert_file, "a certificate and key for tls_listen");
  auto& ctx = rt.tls.emplace(asio::ssl::context::tls_server);
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                  asio::ssl::context::single_dh_use);
  beast::error_code ec;
  ctx.use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) return core::errors::io("cannot load TLS certificate " + o.tls_cert_file + ": " + ec.message());
  ctx.use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
  if (ec) return core::errors::io("cannot load TLS key " + o.tls_key_file + ": " + ec.message());
  return core::ok_status();
}

void run_io_thread(ServerRuntime& rt) {
  for (;;) {
    try {
      rt.ioc.run();
      return;
    } catch (const std::exception& e) {  // a bug; keep serving the other connections
      core::log_event(core::LogLevel::error, "http_io_thread_exception", {{"error", e.what()}});
    }
  }
}

}  // namespace

Server::Server(ServerOptions options, Handler handler)
    : runtime_(std::make_unique<ServerRuntime>(std::move(options), std::move(handler))) {}

Server::~Server() {
  shutdown(0);
  wait();
  // Connections still inside the io_context (only after a handler outlived the grace period) are
  // destroyed with it, after the timer: they must not touch it.
  std::lock_guard lock(runtime_->mutex);
  runtime_->grace_timer_armed = false;
}

core::Status Server::start() {
  auto& rt = *runtime_;
  if (rt.started) return core::errors::internal("the HTTP server was started twice");
  if (rt.options.listen.empty() && rt.options.tls_listen.empty())
    return core::errors::invalid_parameter("listen", "", "a plain or a TLS listen address");
  if (!rt.options.tls_listen.empty()) OPENDBS_TRY(load_tls(rt));
  if (!rt.options.listen.empty()) {
    OPENDBS_ASSIGN(rt.port, open_listener(rt, rt.plain_acceptor, rt.options.listen));
  }
  if (!rt.options.tls_listen.empty()) {
    OPENDBS_ASSIGN(rt.tls_port, open_listener(rt, rt.tls_acceptor, rt.options.tls_listen));
  }
  const auto detached_accept = [&rt](tcp::acceptor& acceptor, bool secure) {
    asio::co_spawn(rt.control, accept_loop(rt, acceptor, secure), [](std::exception_ptr e) {
      if (e) core::log_event(core::LogLevel::error, "http_accept_loop_failed");
    });
  };
  if (rt.plain_acceptor.is_open()) detached_accept(rt.plain_acceptor, false);
  if (rt.tls_acceptor.is_open()) detached_accept(rt.tls_acceptor, true);
  for (int i = 0; i < std::max(1, rt.options.threads); ++i) rt.threads.emplace_back([&rt] { run_io_thread(rt); });
  rt.started = true;
  return core::ok_status();
}

uint16_t Server::port() const { return runtime_->port; }
uint16_t Server::tls_port() const { return runtime_->tls_port; }

void Server::shutdown(int grace_ms) {
  auto& rt = *runtime_;
  if (!rt.started || rt.stopping.exchange(true)) return;
  asio::post(rt.control, [&rt, grace_ms] {
    beast::error_code ignored;
    rt.plain_acceptor.close(ignored);
    rt.tls_acceptor.close(ignored);
    for_each_connection(rt, &Connection::close_if_idle);
    std::lock_guard lock(rt.mutex);
    if (rt.connections.empty()) return;
    rt.grace_timer_armed = true;
    rt.grace_timer.expires_after(Milliseconds(std::max(0, grace_ms)));
    rt.grace_timer.async_wait([&rt](beast::error_code ec) {
      if (ec) return;  // cancelled: the last connection closed in time
      {
        std::lock_guard lock(rt.mutex);
        rt.grace_timer_armed = false;
        rt.cut_off = true;
      }
      for_each_connection(rt, &Connection::close);
    });
  });
}

void Server::wait() {
  for (auto& t : runtime_->threads)
    if (t.joinable()) t.join();
}

}  // namespace opendbs::http
