#include "repo/backend/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <stdexcept>

namespace opendbs::repo::testing {
namespace {

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Reads one request (head and Content-Length body); returns it with "Connection: close" in place of
// any Connection header, or an empty string when the client went away.
std::string read_request(int fd) {
  std::string data;
  char buffer[65536];
  size_t head_end = std::string::npos;
  size_t total = 0;
  while (head_end == std::string::npos || data.size() < total) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return {};
    data.append(buffer, static_cast<size_t>(n));
    if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
      const std::string head = lower(data.substr(0, head_end));
      size_t length = 0;
      if (auto at = head.find("\r\ncontent-length:"); at != std::string::npos)
        length = std::stoul(head.substr(at + 17));
      total = head_end + 4 + length;
    }
  }
  std::string head = data.substr(0, head_end + 2), rewritten;
  for (size_t start = 0, end; (end = head.find("\r\n", start)) != std::string::npos; start = end + 2) {
    const std::string line = head.substr(start, end - start);
    if (lower(line).rfind("connection:", 0) != 0) rewritten += line + "\r\n";
  }
  return rewritten + "Connection: close\r\n\r\n" + data.substr(head_end + 4);
}

std::string relay_to(int upstream_port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(upstream_port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 && send_all(fd, request)) {
    char buffer[65536];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

std::string s3_error(int status, const std::string& reason, const std::string& code) {
  const std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                           "</Code><Message>injected by FaultProxy</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(listener_, 64) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    throw std::runtime_error("FaultProxy cannot listen");
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  acceptor_.join();
  for (auto& worker : workers_) worker.join();
  ::close(listener_);
}

void FaultProxy::inject(std::vector<Fault> faults) {
  std::lock_guard lock(mutex_);
  faults_.insert(faults_.end(), faults.begin(), faults.end());
}

Fault FaultProxy::next_fault() {
  std::lock_guard lock(mutex_);
  if (faults_.empty()) return Fault::pass;
  const Fault fault = faults_.front();
  faults_.pop_front();
  return fault;
}

void FaultProxy::accept_loop() {
  while (!stopping_) {
    pollfd waiting{listener_, POLLIN, 0};
    if (::poll(&waiting, 1, 50) <= 0) continue;
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    std::lock_guard lock(mutex_);
    workers_.emplace_back([this, client] { serve(client); });
  }
}

void FaultProxy::serve(int client) {
  const std::string request = read_request(client);
  if (!request.empty()) {
    ++request_count_;
    switch (next_fault()) {
      case Fault::pass:
        send_all(client, relay_to(upstream_port_, request));
        break;
      case Fault::slow_down:
        send_all(client, s3_error(503, "Slow Down", "SlowDown"));
        break;
      case Fault::internal_error:
        send_all(client, s3_error(500, "Internal Server Error", "InternalError"));
        break;
      case Fault::truncate_body: {
        const std::string response = relay_to(upstream_port_, request);
        const size_t body_start = response.find("\r\n\r\n") + 4;
        send_all(client, response.substr(0, body_start + (response.size() - body_start) / 2));
        break;
      }
      case Fault::reset:
        break;
      case Fault::stall:
        std::this_thread::sleep_for(std::chrono::seconds(2));
        break;
    }
  }
  ::close(client);
}

}  // namespace opendbs::repo::testing
