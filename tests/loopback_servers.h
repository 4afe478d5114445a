// Loopback test servers for the HTTP transport's tests: a raw TCP server
// whose per-connection handler misbehaves at the socket level, and a
// cpp-httplib server. Both bind 127.0.0.1 on a kernel-chosen port, are
// ready when the constructor returns, and stop and join in the destructor.
// Every wait is bounded (kMaxWait) so a broken test fails, never hangs.
#ifndef HOOKSIM_TESTS_LOOPBACK_SERVERS_H_
#define HOOKSIM_TESTS_LOOPBACK_SERVERS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace hooksim::testing {

inline constexpr std::chrono::seconds kMaxWait{20};

// A raw TCP server: each accepted connection runs `handler(fd, server)` on
// its own thread; the server closes fd after the handler returns, unless
// the handler closed it itself and set it to -1 (Reset() before a close
// makes the close an RST).
class RawTcpServer {
 public:
  using Handler = std::function<void(int& fd, RawTcpServer& server)>;

  explicit RawTcpServer(Handler handler) : handler_(std::move(handler)) {
    EXPECT_EQ(pipe2(stop_pipe_, O_CLOEXEC), 0);
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 64), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~RawTcpServer() {
    const char byte = 'x';
    [[maybe_unused]] ssize_t n = write(stop_pipe_[1], &byte, 1);
    accept_thread_.join();
    for (std::thread& t : connection_threads_) t.join();
    close(listen_fd_);
    close(stop_pipe_[0]);
    close(stop_pipe_[1]);
  }

  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int accepted() const { return accepted_; }

  // Waits up to `wait` for readability of fd (true) or the server's stop
  // (false); also false when the wait passes.
  bool WaitReadable(int fd, std::chrono::milliseconds wait) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    const int n = poll(fds, 2, static_cast<int>(wait.count()));
    return n > 0 && fds[1].revents == 0 && fds[0].revents != 0;
  }
  // Sleeps up to `wait`; false when the server is stopping.
  bool Sleep(std::chrono::milliseconds wait) {
    pollfd fds[1] = {{stop_pipe_[0], POLLIN, 0}};
    return poll(fds, 1, static_cast<int>(wait.count())) == 0;
  }

  // Reads one request (head and Content-Length body). Empty on EOF, error,
  // stop or after kMaxWait.
  std::string ReadRequest(int fd) {
    std::string data;
    const auto until = std::chrono::steady_clock::now() + kMaxWait;
    while (std::chrono::steady_clock::now() < until) {
      const size_t head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        const size_t cl = data.find("Content-Length: ");
        if (cl != std::string::npos && cl < head_end) {
          length = std::stoul(data.substr(cl + 16));
        }
        if (data.size() >= head_end + 4 + length) return data;
      }
      if (!WaitReadable(fd, std::chrono::milliseconds(100))) {
        if (!Sleep(std::chrono::milliseconds(0))) return {};
        continue;
      }
      char buf[4096];
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return {};
      data.append(buf, static_cast<size_t>(n));
    }
    return {};
  }

  static void WriteAll(int fd, const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n =
          send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  // Closes with RST instead of FIN.
  static void Reset(int fd) {
    linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }

 private:
  void AcceptLoop() {
    constexpr int kMaxConnections = 64;
    while (accepted_ < kMaxConnections) {
      if (!WaitReadable(listen_fd_, std::chrono::milliseconds(50))) {
        if (!Sleep(std::chrono::milliseconds(0))) return;
        continue;
      }
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ++accepted_;
      connection_threads_.emplace_back([this, fd]() mutable {
        handler_(fd, *this);
        if (fd >= 0) close(fd);
      });
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<int> accepted_{0};
  std::thread accept_thread_;
  std::vector<std::thread> connection_threads_;  // Accept thread only.
};

// A cpp-httplib server on 127.0.0.1; register handlers on server() before
// Start().
class HttplibServer {
 public:
  HttplibServer() {
    server_.set_keep_alive_max_count(1000);
    server_.set_read_timeout(5, 0);
    server_.set_write_timeout(5, 0);
    server_.set_tcp_nodelay(true);
  }
  ~HttplibServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Server& server() { return server_; }

  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto until = std::chrono::steady_clock::now() + kMaxWait;
    while (!server_.is_running() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(server_.is_running());
  }

  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

// A port on 127.0.0.1 where nothing listens: bound, never listening, so
// connecting is refused and no other process can take it meanwhile.
class RefusedPort {
 public:
  RefusedPort() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusedPort() { close(fd_); }
  int port() const { return port_; }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A raw client for the receiver's socket-level tests: connects to
// 127.0.0.1:port (a failure is a test failure; the fd is returned anyway,
// possibly -1). The caller closes it.
inline int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
      << strerror(errno);
  return fd;
}

// Sends what the socket takes; false once the peer stopped reading
// (closed) or `patience` passed.
inline bool SendAll(
    int fd, std::string_view bytes,
    std::chrono::steady_clock::duration patience = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (!bytes.empty() && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n =
        send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return bytes.empty();
}

// Reads until the peer closes (true) or `patience` passes (false); what
// was read is appended to `out` when it is not null.
inline bool ReadUntilClosed(
    int fd, std::string* out = nullptr,
    std::chrono::steady_clock::duration patience = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return true;
    if (out) out->append(buf, static_cast<size_t>(n));
  }
  return false;
}

}  // namespace hooksim::testing

#endif  // HOOKSIM_TESTS_LOOPBACK_SERVERS_H_
