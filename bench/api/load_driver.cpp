#include "load_driver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "core/errors.h"

namespace opendbs::bench {
namespace {

constexpr int kStallMs = 30000;  // no response at all for this long: the run fails

core::Error sys_error(const std::string& what) { return core::errors::io(what + ": " + std::strerror(errno)); }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

core::Result<Fd> connect_to(const Endpoint& endpoint) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(endpoint.port);
  if (inet_pton(AF_INET, endpoint.host.c_str(), &addr.sin_addr) != 1)
    return core::errors::io("not an IPv4 address: " + endpoint.host);
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return sys_error("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return sys_error("connect to " + endpoint.host_header());
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::fcntl(fd.get(), F_SETFL, O_NONBLOCK) != 0) return sys_error("fcntl");
  return fd;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

struct ParsedResponse {
  size_t total = 0;  // bytes of the whole response
  int status = 0;
  std::string_view body;
};

// The response at the front of `in`, or nullopt while it is incomplete. Only Content-Length framing
// is understood: the node always sends it.
core::Result<std::optional<ParsedResponse>> parse_response(std::string_view in) {
  const size_t header_end = in.find("\r\n\r\n");
  if (header_end == std::string_view::npos) return std::optional<ParsedResponse>{};
  const std::string_view head = in.substr(0, header_end);
  ParsedResponse r;
  if (head.size() < 12 || !head.starts_with("HTTP/1.") ||
      std::from_chars(head.data() + 9, head.data() + 12, r.status).ec != std::errc())
    return core::errors::io("malformed status line: " + std::string(head.substr(0, head.find('\r'))));
  std::optional<size_t> length;
  for (size_t at = head.find("\r\n"); at != std::string_view::npos;) {
    const size_t line_end = std::min(head.find("\r\n", at + 2), head.size());
    const std::string_view line = head.substr(at + 2, line_end - at - 2);
    const size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    if (colon != std::string_view::npos && iequals(name, "content-length")) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      size_t n = 0;
      if (std::from_chars(value.data(), value.data() + value.size(), n).ec != std::errc())
        return core::errors::io("malformed Content-Length: " + std::string(value));
      length = n;
    } else if (colon != std::string_view::npos && iequals(name, "transfer-encoding")) {
      return core::errors::io("chunked responses are not supported by the load driver");
    }
    at = line_end < head.size() ? line_end : std::string_view::npos;
  }
  if (!length) return core::errors::io("response without Content-Length");
  const size_t body_at = header_end + 4;
  if (in.size() < body_at + *length) return std::optional<ParsedResponse>{};
  r.total = body_at + *length;
  r.body = in.substr(body_at, *length);
  return std::optional<ParsedResponse>(r);
}

struct Connection {
  Fd fd;
  std::string out;
  size_t out_pos = 0;
  bool watching_out = false;  // EPOLLOUT registered
  std::string in;
  int64_t tag = 0;
  Clock::time_point sent;
};

class Loop {
 public:
  Loop(const DriveOptions& options, Workload& workload) : options_(options), workload_(workload) {}

  core::Result<DriveStats> run() {
    epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (epoll_.get() < 0) return sys_error("epoll_create1");
    conns_.resize(static_cast<size_t>(std::max(1, options_.connections)));
    for (auto& c : conns_) {
      OPENDBS_ASSIGN(c.fd, connect_to(options_.endpoint));
      epoll_event ev{EPOLLIN, {.ptr = &c}};
      if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.fd.get(), &ev) != 0) return sys_error("epoll_ctl");
    }
    int active = 0;
    for (auto& c : conns_) {
      OPENDBS_ASSIGN(bool started, start_next(c));
      active += started;
    }
    std::vector<epoll_event> events(conns_.size());
    while (active > 0) {
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), kStallMs);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("epoll_wait");
      if (n == 0) return core::errors::io("no response from the server for " + std::to_string(kStallMs / 1000) + " s");
      for (int i = 0; i < n; ++i) {
        auto& c = *static_cast<Connection*>(events[i].data.ptr);
        if (events[i].events & EPOLLOUT) OPENDBS_TRY(flush(c));
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
          OPENDBS_ASSIGN(bool done, receive(c));
          if (!done) continue;
          OPENDBS_ASSIGN(bool started, start_next(c));
          active -= !started;
        }
      }
    }
    return std::move(stats_);
  }

 private:
  // Sends the workload's next request on `c`; false when the run is over for this connection.
  core::Result<bool> start_next(Connection& c) {
    if (Clock::now() >= options_.until) return false;
    auto next = workload_.next();
    if (!next) return false;
    c.out = std::move(next->wire);
    c.out_pos = 0;
    c.tag = next->tag;
    c.sent = Clock::now();
    OPENDBS_TRY(flush(c));
    return true;
  }

  core::Status flush(Connection& c) {
    while (c.out_pos < c.out.size()) {
      const ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
      if (n >= 0) {
        c.out_pos += static_cast<size_t>(n);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return watch_out(c, true);
      } else if (errno != EINTR) {
        return sys_error("send");
      }
    }
    return watch_out(c, false);
  }

  core::Status watch_out(Connection& c, bool on) {
    if (c.watching_out == on) return {};
    epoll_event ev{on ? uint32_t{EPOLLIN | EPOLLOUT} : uint32_t{EPOLLIN}, {.ptr = &c}};
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev) != 0) return sys_error("epoll_ctl");
    c.watching_out = on;
    return {};
  }

  // Reads what is there; true once the response to the outstanding request is complete.
  core::Result<bool> receive(Connection& c) {
    char buf[64 * 1024];
    for (;;) {
      const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) return core::errors::io("the server closed a connection");
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno != EINTR) return sys_error("recv");
    }
    OPENDBS_ASSIGN(auto parsed, parse_response(c.in));
    if (!parsed) return false;
    record(c, *parsed);
    c.in.erase(0, parsed->total);
    return true;
  }

  void record(const Connection& c, const ParsedResponse& r) {
    const auto now = Clock::now();
    ++stats_.replies;
    if (workload_.on_reply) workload_.on_reply(c.tag, r.status, r.body);
    if (now < options_.measure_from || now >= options_.until) return;
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - c.sent).count();
    stats_.latencies_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
    if (r.status >= 200 && r.status < 300) {
      ++stats_.ok;
    } else {
      if (stats_.failed++ == 0)
        stats_.first_failure = "HTTP " + std::to_string(r.status) + ": " + std::string(r.body.substr(0, 400));
    }
  }

  const DriveOptions& options_;
  Workload& workload_;
  Fd epoll_;
  std::vector<Connection> conns_;  // never resized after epoll holds pointers into it
  DriveStats stats_;
};

}  // namespace

void DriveStats::merge(DriveStats other) {
  latencies_us.insert(latencies_us.end(), other.latencies_us.begin(), other.latencies_us.end());
  ok += other.ok;
  failed += other.failed;
  replies += other.replies;
  if (first_failure.empty()) first_failure = std::move(other.first_failure);
}

core::Result<DriveStats> drive(const DriveOptions& options, Workload& workload) {
  return Loop(options, workload).run();
}

core::Result<DriveStats> drive_threads(const DriveOptions& options, int threads,
                                       const std::function<Workload(int thread)>& workload_for) {
  threads = std::clamp(threads, 1, std::max(1, options.connections));
  std::vector<Workload> workloads;
  for (int i = 0; i < threads; ++i) workloads.push_back(workload_for(i));
  std::vector<std::optional<core::Result<DriveStats>>> results(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    DriveOptions mine = options;
    mine.connections = options.connections / threads + (i < options.connections % threads ? 1 : 0);
    pool.emplace_back([&, i, mine] { results[i].emplace(drive(mine, workloads[i])); });
  }
  for (auto& t : pool) t.join();
  DriveStats all;
  for (auto& r : results) {
    if (!r->ok()) return r->error();
    all.merge(std::move(r->value()));
  }
  return all;
}

core::Result<std::pair<int, std::string>> exchange(const Endpoint& endpoint, std::string wire) {
  std::pair<int, std::string> answer{0, ""};
  bool sent = false;
  Workload w;
  w.next = [&]() -> std::optional<Outgoing> {
    if (std::exchange(sent, true)) return std::nullopt;
    return Outgoing{std::move(wire), 0};
  };
  w.on_reply = [&](int64_t, int status, std::string_view body) { answer = {status, std::string(body)}; };
  DriveOptions options;
  options.endpoint = endpoint;
  options.connections = 1;
  OPENDBS_TRY(drive(options, w));
  return answer;
}

}  // namespace opendbs::bench
