#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <optional>
#include <thread>

#include "core/ids.h"
#include "http/tls_certificate.h"

namespace opendbs::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A deliberately small HTTP/1.1 client on a blocking socket (optionally TLS through OpenSSL), so
// that the test sees exactly the bytes on the wire and needs no Beast of its own.
class Client {
 public:
  explicit Client(uint16_t port, SSL_CTX* tls = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    connect_errno_ = connected_ ? 0 : errno;
    if (connected_ && tls) {
      ssl_ = SSL_new(tls);
      SSL_set_fd(ssl_, fd_);
      SSL_set1_host(ssl_, "localhost");
      connected_ = SSL_connect(ssl_) == 1 && SSL_get_verify_result(ssl_) == X509_V_OK;
    }
  }
  ~Client() {
    if (ssl_) SSL_free(ssl_);
    ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      long n = ssl_ ? SSL_write(ssl_, data.data(), static_cast<int>(data.size()))
                    : ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response; nullopt if the connection closed or timed out first.
  std::optional<RawResponse> response(bool head = false) {
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    RawResponse r;
    std::string head_text = pending_.substr(0, end);
    pending_.erase(0, end + 4);
    r.status = std::stoi(head_text.substr(9, 3));
    for (size_t pos = head_text.find("\r\n"); pos != std::string::npos;) {
      size_t next = head_text.find("\r\n", pos + 2);
      std::string line = head_text.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      pos = next;
    }
    size_t length = (head || !r.headers.count("content-length")) ? 0 : std::stoul(r.headers["content-length"]);
    while (pending_.size() < length)
      if (!fill()) return std::nullopt;
    r.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return r;
  }

  // True when the server closes the connection (EOF or reset) before the 5 s receive timeout.
  bool closed_by_server() {
    for (;;) {
      char buf[4096];
      long n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;
    }
  }

 private:
  bool fill() {
    char buf[16384];
    long n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
  int connect_errno_ = 0;
  std::string pending_;
};

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

std::string post(const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Echoes what it received, so tests can check the Request the server built.
Response echo(const Request& req) {
  Response res;
  res.content_type = "text/plain";
  res.body = req.method + " " + req.target + " body=" + req.body + " x-test=" + std::string(req.header("x-test")) +
             " ip=" + req.remote_ip + " secure=" + (req.secure ? "1" : "0");
  res.headers.emplace_back("X-Echo", "yes");
  return res;
}

ServerOptions local_options() {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.error_response = [](int status, std::string code, std::string message) {
    Response r;
    r.status = status;
    r.body = "{\"Code\":\"" + code + "\",\"Message\":\"" + message + "\"}";
    return r;
  };
  return options;
}

TEST(HttpServer, GetAndPostShareOneKeepAliveConnection) {
  Server server(local_options(), echo);
  ASSERT_TRUE(server.start().ok());
  ASSERT_NE(server.port(), 0);
  Client client(server.port());
  ASSERT_TRUE(client.connected());

  ASSERT_TRUE(client.send(get("/?Action=DescribeRegions", "X-Test: one\r\n")));
  auto first = client.response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "GET /?Action=DescribeRegions body= x-test=one ip=127.0.0.1 secure=0");
  EXPECT_EQ(first->headers["content-type"], "text/plain");
  EXPECT_EQ(first->headers["x-echo"], "yes");
  EXPECT_EQ(first->headers.count("connection"), 0u);  // HTTP/1.1 keeps alive by default

  ASSERT_TRUE(client.send(post("/", "Action=StopBackupPlan&StopMethod=ALL")));
  auto second = client.response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "POST / body=Action=StopBackupPlan&StopMethod=ALL x-test= ip=127.0.0.1 secure=0");
}

TEST(HttpServer, HeaderNamesArriveLowerCasedInOrder) {
  std::promise<std::vector<std::pair<std::string, std::string>>> seen;
  Server server(local_options(), [&](const Request& req) {
    seen.set_value(req.headers);
    return Response{};
  });
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: h:1\r\nX-Acs-Date: 2024\r\nx-acs-date: again\r\n\r\n"));
  ASSERT_TRUE(client.response());
  auto headers = seen.get_future().get();
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"host", "h:1"}));
  EXPECT_EQ(headers[1], (std::pair<std::string, std::string>{"x-acs-date", "2024"}));
  EXPECT_EQ(headers[2], (std::pair<std::string, std::string>{"x-acs-date", "again"}));
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  Server server(local_options(), echo);
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/1") + post("/2", "b") + get("/3")));
  for (const char* expected : {"GET /1 body=", "POST /2 body=b", "GET /3 body="}) {
    auto r = client.response();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->body.starts_with(expected)) << r->body;
  }
}

TEST(HttpServer, HeadAnswersHeadersWithoutBody) {
  Server server(local_options(), echo);
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n" + get("/after")));
  auto head = client.response(/*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->headers["content-length"], std::to_string(echo(Request{.method = "HEAD", .target = "/x",
                                                                         .remote_ip = "127.0.0.1"}).body.size()));
  auto after = client.response();  // proves no body bytes were sent after the HEAD headers
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->body.starts_with("GET /after")) << after->body;
}

TEST(HttpServer, ConnectionCloseRequestIsHonoured) {
  Server server(local_options(), echo);
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/", "Connection: close\r\n")));
  auto r = client.response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpServer, TlsRequestVerifiesAgainstTheSelfSignedCertificate) {
  const auto dir = std::filesystem::temp_directory_path() / ("opendbs-http-" + core::random_alnum(8));
  auto paths = ensure_self_signed_certificate(dir.string());
  ASSERT_TRUE(paths.ok()) << paths.error().message;
  auto options = local_options();
  options.tls_listen = "127.0.0.1:0";
  options.tls_cert_file = paths->first;
  options.tls_key_file = paths->second;
  Server server(options, echo);
  ASSERT_TRUE(server.start().ok());
  ASSERT_NE(server.tls_port(), 0);
  ASSERT_NE(server.tls_port(), server.port());

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx, paths->first.c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  {
    Client client(server.tls_port(), ctx);
    ASSERT_TRUE(client.connected()) << "TLS handshake or verification of 'localhost' failed";
    for (int i = 0; i < 2; ++i) {  // keep-alive over TLS
      ASSERT_TRUE(client.send(post("/", "x=" + std::to_string(i))));
      auto r = client.response();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->body, "POST / body=x=" + std::to_string(i) + " x-test= ip=127.0.0.1 secure=1");
    }
  }
  SSL_CTX_free(ctx);
  std::filesystem::remove_all(dir);
}

TEST(HttpServer, StartFailsWhenTlsFilesAreMissing) {
  auto options = local_options();
  options.tls_listen = "127.0.0.1:0";
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  Server server(options, echo);
  auto status = server.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("/nonexistent/cert.pem"), std::string::npos) << status.error().message;
}

TEST(HttpServer, BodyOverTheLimitIsAnswered413RequestTooLarge) {
  auto options = local_options();
  options.body_limit_bytes = 1024;
  std::atomic<int> calls{0};
  Server server(options, [&](const Request& r) {
    ++calls;
    return echo(r);
  });
  ASSERT_TRUE(server.start().ok());
  {
    Client client(server.port());
    ASSERT_TRUE(client.send(post("/", std::string(1024, 'a'))));  // exactly at the limit: fine
    auto ok = client.response();
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    ASSERT_TRUE(client.send(post("/", std::string(200 * 1024, 'a'))));
    auto r = client.response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_NE(r->body.find("\"Code\":\"RequestTooLarge\""), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("1024 bytes"), std::string::npos) << r->body;
    EXPECT_EQ(r->headers["connection"], "close");
  }
  {  // a chunked body has no Content-Length; the limit applies as it arrives
    Client client(server.port());
    std::string chunk(800, 'b');
    ASSERT_TRUE(client.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" + chunk +
                            "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
    auto r = client.response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
  }
  EXPECT_EQ(calls, 1);
}

TEST(HttpServer, HeadersOverTheLimitAreAnswered413RequestTooLarge) {
  auto options = local_options();
  options.header_limit_bytes = 2048;
  Server server(options, echo);
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/", "X-Big: " + std::string(4096, 'h') + "\r\n")));
  auto r = client.response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("\"Code\":\"RequestTooLarge\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("headers"), std::string::npos) << r->body;
}

TEST(HttpServer, GarbageIsAnswered400BadRequest) {
  Server server(local_options(), echo);
  ASSERT_TRUE(server.start().ok());
  for (std::string garbage : {"\x16\x03\x01 not http\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
                              "GET / HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    Client client(server.port());
    ASSERT_TRUE(client.send(garbage));
    auto r = client.response();
    ASSERT_TRUE(r) << garbage;
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->body.find("\"Code\":\"BadRequest\""), std::string::npos) << r->body;
  }
}

TEST(HttpServer, WithoutErrorHookErrorsAreJsonWithCode) {
  auto options = local_options();
  options.error_response = nullptr;
  Server server(options, echo);
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send("NOT HTTP AT ALL\r\n\r\n"));
  auto r = client.response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->headers["content-type"], "application/json;charset=utf-8");
  EXPECT_TRUE(r->body.starts_with("{\"Code\":\"BadRequest\",\"Message\":")) << r->body;
}

TEST(HttpServer, SlowClientIsDisconnectedAfterTheReadTimeout) {
  auto options = local_options();
  options.read_timeout_ms = 200;
  std::atomic<int> calls{0};
  Server server(options, [&](const Request& r) {
    ++calls;
    return echo(r);
  });
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"));  // 7 bytes never come
  const auto begin = Clock::now();
  EXPECT_TRUE(client.closed_by_server());
  const auto elapsed = Clock::now() - begin;
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 2s);
  EXPECT_EQ(calls, 0);
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  auto options = local_options();
  options.keep_alive_idle_ms = 200;
  Server server(options, echo);
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/")));
  ASSERT_TRUE(client.response());
  const auto begin = Clock::now();
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_LT(Clock::now() - begin, 2s);
}

TEST(HttpServer, ExpectContinueGetsAnInterimResponseBeforeTheBody) {
  Server server(local_options(), echo);
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto interim = client.response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send("data"));
  auto r = client.response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.starts_with("POST / body=data")) << r->body;
}

TEST(HttpServer, HandlerExceptionBecomes500InternalErrorAndTheConnectionLives) {
  Server server(local_options(), [](const Request& req) -> Response {
    if (req.target == "/throw") throw std::runtime_error("boom");
    return echo(req);
  });
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/throw") + get("/fine")));
  auto failed = client.response();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  EXPECT_NE(failed->body.find("\"Code\":\"InternalError\""), std::string::npos) << failed->body;
  EXPECT_EQ(failed->body.find("boom"), std::string::npos) << "exception text must not reach the client";
  auto fine = client.response();
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);
}

TEST(HttpServer, GracefulShutdownFinishesInFlightRequestAndRefusesNewConnections) {
  std::promise<void> slow_started;
  Server server(local_options(), [&](const Request& req) {
    if (req.target == "/slow") {
      slow_started.set_value();
      std::this_thread::sleep_for(400ms);
    }
    return echo(req);
  });
  ASSERT_TRUE(server.start().ok());
  const uint16_t port = server.port();
  Client idle(port);
  ASSERT_TRUE(idle.send(get("/warm")));
  ASSERT_TRUE(idle.response());
  Client busy(port);
  ASSERT_TRUE(busy.send(get("/slow")));
  slow_started.get_future().wait();

  server.shutdown(5000);
  EXPECT_TRUE(idle.closed_by_server()) << "an idle keep-alive connection is closed at once";
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    Client late(port);
    refused = !late.connected() && late.connect_errno() == ECONNREFUSED;
    if (!refused) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(refused);

  auto r = busy.response();
  ASSERT_TRUE(r) << "the in-flight request must be answered";
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.starts_with("GET /slow")) << r->body;
  EXPECT_EQ(r->headers["connection"], "close");
  const auto begin = Clock::now();
  server.wait();
  EXPECT_LT(Clock::now() - begin, 2s) << "wait() returns once the last connection is gone, not after the grace";
}

TEST(HttpServer, ShutdownGraceExpiryCutsOffAHandlerThatRunsTooLong) {
  std::promise<void> started;
  Server server(local_options(), [&](const Request& req) {
    started.set_value();
    std::this_thread::sleep_for(600ms);
    return echo(req);
  });
  ASSERT_TRUE(server.start().ok());
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/stuck")));
  started.get_future().wait();
  const auto begin = Clock::now();
  server.shutdown(100);
  EXPECT_FALSE(client.response()) << "the connection is closed without an answer";
  server.wait();
  EXPECT_LT(Clock::now() - begin, 3s);
}

TEST(HttpServer, ConcurrentClientsAreAllAnswered) {
  auto options = local_options();
  options.threads = 2;
  std::atomic<int> calls{0};
  Server server(options, [&](const Request& req) {
    ++calls;
    return echo(req);
  });
  ASSERT_TRUE(server.start().ok());
  constexpr int kClients = 16, kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c)
    threads.emplace_back([&, c] {
      Client client(server.port());
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = std::to_string(c) + "-" + std::to_string(i);
        if (!client.send(post("/", body))) return;
        auto r = client.response();
        if (r && r->status == 200 && r->body.starts_with("POST / body=" + body + " ")) ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, kClients * kRequests);
  EXPECT_EQ(calls, kClients * kRequests);
}

TEST(HttpServer, ListenErrorsNameTheAddress) {
  Server first(local_options(), echo);
  ASSERT_TRUE(first.start().ok());
  auto options = local_options();
  options.listen = "127.0.0.1:" + std::to_string(first.port());
  Server second(options, echo);
  auto status = second.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find(options.listen), std::string::npos) << status.error().message;

  options.listen = "no-port-here";
  Server third(options, echo);
  auto bad = third.start();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("no-port-here"), std::string::npos) << bad.error().message;
}

TEST(HttpServer, ListensOnIpv6Loopback) {
  auto options = local_options();
  options.listen = "[::1]:0";
  Server server(options, echo);
  auto status = server.start();
  if (!status.ok()) GTEST_SKIP() << "no IPv6 here: " << status.error().message;
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(server.port());
  addr.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request = get("/v6");
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<long>(request.size()));
  char buf[1024];
  long n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf, static_cast<size_t>(n)).find("ip=::1 "), std::string::npos);
}

}  // namespace
}  // namespace opendbs::http
