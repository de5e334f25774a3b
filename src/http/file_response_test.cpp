// Responses whose body is a file (Response::file_path, used for downloads): streamed with the right
// Content-Length, framed so that the next request on the connection is answered, HEAD without a body,
// and 404 when the file cannot be opened.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/crypto.h"
#include "http/server.h"

namespace opendbs::http {
namespace {

namespace fs = std::filesystem;

// Sends `request` on a fresh connection and reads until the server closes it.
std::string exchange(uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buf[1 << 16];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

class FileResponses : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("opendbs-file-response-" + core::to_hex(core::random_bytes(6)));
    fs::create_directories(dir_);
    content_.resize(24 << 20);
    for (size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<char>((i * 131) ^ (i >> 13));
    std::ofstream(dir_ / "big.bin", std::ios::binary) << content_;
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(options, [this](const Request& r) {
      if (r.target == "/small") return Response{200, "text/plain", "after", {}};
      Response out{200, "application/octet-stream", "ignored", {{"Content-Disposition", "attachment; filename=\"big.bin\""}}};
      out.file_path = (dir_ / (r.target == "/missing" ? "missing.bin" : "big.bin")).string();
      return out;
    });
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  std::string content_;
  std::unique_ptr<Server> server_;
};

TEST_F(FileResponses, AFileIsStreamedWithItsLengthAndTheNextRequestOnTheConnectionIsAnswered) {
  const std::string wire = exchange(server_->port(),
                                    "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"
                                    "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const size_t head_end = wire.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string head = wire.substr(0, head_end);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200")) << head;
  EXPECT_NE(head.find("Content-Length: " + std::to_string(content_.size())), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Disposition: attachment; filename=\"big.bin\""), std::string::npos) << head;
  ASSERT_GE(wire.size(), head_end + 4 + content_.size());
  EXPECT_TRUE(wire.compare(head_end + 4, content_.size(), content_) == 0) << "the body is the file";
  const std::string rest = wire.substr(head_end + 4 + content_.size());
  EXPECT_TRUE(rest.starts_with("HTTP/1.1 200")) << rest.substr(0, 200);
  EXPECT_TRUE(rest.ends_with("\r\n\r\nafter")) << rest;
}

TEST_F(FileResponses, HeadAnswersTheLengthWithoutTheBody) {
  const std::string wire = exchange(server_->port(), "HEAD /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(wire.starts_with("HTTP/1.1 200")) << wire;
  EXPECT_NE(wire.find("Content-Length: " + std::to_string(content_.size())), std::string::npos) << wire;
  EXPECT_TRUE(wire.ends_with("\r\n\r\n")) << "no body after the headers";
}

TEST_F(FileResponses, AFileThatCannotBeOpenedIsNotFound) {
  const std::string wire = exchange(server_->port(), "GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(wire.starts_with("HTTP/1.1 404")) << wire;
  EXPECT_NE(wire.find("NotFound"), std::string::npos) << wire;
}

}  // namespace
}  // namespace opendbs::http
