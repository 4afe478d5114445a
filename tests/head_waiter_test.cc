// HeadWaiter over socketpairs: a parked connection is dispatched with every
// byte read so far once its head is complete, closed (408 first) when a
// begun head does not complete in time, closed when idle too long or when
// the peer closes, and closed by Stop; each connection exactly once.
// Timeouts tested are short; the waits for them are bounded by kPatience.
#include "mock-receivers/http/head_waiter.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hooksim {
namespace {

constexpr auto kPatience = std::chrono::seconds(30);
constexpr auto kLong = std::chrono::seconds(600);

struct Fixture {
  explicit Fixture(HeadWaiterOptions options)
      : waiter(
            options,
            [this](ParkedConnection c) {
              std::lock_guard<std::mutex> lock(mu);
              dispatched.push_back(std::move(c));
            },
            [this] { ++closed; }) {
    EXPECT_TRUE(waiter.Start().ok());
  }
  ~Fixture() {
    waiter.Stop();
    for (const ParkedConnection& c : dispatched) close(c.fd);
  }

  // A socketpair: the waiter gets one end, the test keeps the other.
  int Park(std::string buffered = {}) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    waiter.Park(ParkedConnection{fds[0], std::move(buffered), 7});
    return fds[1];
  }

  bool Eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return condition();
  }
  size_t Dispatched() {
    std::lock_guard<std::mutex> lock(mu);
    return dispatched.size();
  }

  std::mutex mu;
  std::vector<ParkedConnection> dispatched;
  std::atomic<int> closed{0};
  HeadWaiter waiter;
};

std::string ReadToEof(int fd) {
  std::string out;
  char buf[256];
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, 30000) > 0) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST(HeadWaiterTest, CompleteHeads) {
  EXPECT_TRUE(HasCompleteHead("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(HasCompleteHead("GET / HTTP/1.1\nHost: x\n\n"));
  EXPECT_FALSE(HasCompleteHead("GET / HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_FALSE(HasCompleteHead(""));
}

TEST(HeadWaiterTest, DispatchesWithEveryByteOnceTheHeadIsComplete) {
  Fixture f({64 << 10, kLong, kLong});
  const int peer = f.Park("POST /hook HTTP/1.1\r\n");
  ASSERT_EQ(write(peer, "Host: x\r\n", 9), 9);
  ASSERT_EQ(write(peer, "\r\n{}", 4), 4);
  ASSERT_TRUE(f.Eventually([&] { return f.Dispatched() == 1; }));
  std::lock_guard<std::mutex> lock(f.mu);
  EXPECT_EQ(f.dispatched[0].buffered,
            "POST /hook HTTP/1.1\r\nHost: x\r\n\r\n{}");
  EXPECT_EQ(f.dispatched[0].requests_left, 7u);
  EXPECT_EQ(f.closed, 0);
  EXPECT_EQ(f.waiter.parked(), 0u);
  close(peer);
}

TEST(HeadWaiterTest, AHeadThatDoesNotCompleteInTimeGets408) {
  Fixture f({64 << 10, kLong, std::chrono::milliseconds(100)});
  const int peer = f.Park();
  ASSERT_EQ(write(peer, "POST /hook HTTP/1.1\r\n", 21), 21);
  EXPECT_EQ(ReadToEof(peer).rfind("HTTP/1.1 408", 0), 0u);
  EXPECT_TRUE(f.Eventually([&] { return f.closed == 1; }));
  EXPECT_EQ(f.Dispatched(), 0u);
  close(peer);
}

TEST(HeadWaiterTest, IdleConnectionsAndClosedPeersAreClosedSilently) {
  Fixture f({64 << 10, std::chrono::milliseconds(100), kLong});
  const int idle = f.Park();
  EXPECT_EQ(ReadToEof(idle), "");
  const int gone = f.Park();
  close(gone);
  EXPECT_TRUE(f.Eventually([&] { return f.closed == 2; }));
  close(idle);
}

TEST(HeadWaiterTest, AHeadAtTheSizeLimitIsDispatchedForTheParserToRefuse) {
  Fixture f({16, kLong, kLong});
  const int peer = f.Park();
  ASSERT_EQ(write(peer, "GET /aaaaaaaaaaaaaaaaaaaa", 25), 25);
  ASSERT_TRUE(f.Eventually([&] { return f.Dispatched() == 1; }));
  std::lock_guard<std::mutex> lock(f.mu);
  EXPECT_GE(f.dispatched[0].buffered.size(), 16u);
  close(peer);
}

TEST(HeadWaiterTest, StopClosesEveryParkedConnectionAndLaterParksToo) {
  Fixture f({64 << 10, kLong, kLong});
  std::vector<int> peers;
  for (int i = 0; i < 50; ++i) peers.push_back(f.Park(i % 2 ? "GET" : ""));
  ASSERT_TRUE(f.Eventually([&] { return f.waiter.parked() == 50; }));
  f.waiter.Stop();
  EXPECT_EQ(f.closed, 50);
  EXPECT_EQ(f.waiter.parked(), 0u);
  const int late = f.Park();
  EXPECT_EQ(f.closed, 51);
  for (int p : peers) {
    EXPECT_EQ(ReadToEof(p), "");
    close(p);
  }
  close(late);
}

}  // namespace
}  // namespace hooksim
