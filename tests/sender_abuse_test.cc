// The sender (DeliveryEngine + HttpTransport) against
// receivers that misbehave at the socket level, over loopback: they reset,
// hang, answer garbage, answer 100 MB bodies or an endless chunked stream,
// or answer without a length and never close. Whatever they do, every
// delivery must end delivered or gave_up with every attempt recorded (the
// engine's attempts equal the requests the receiver read), and the process
// must be left as it was: the same open descriptors and threads after the
// run, and a peak memory that did not take in what the receiver offered.
//
// Timeouts here are the thing tested (a hang ends in one); the waits that
// are not are bounded by testing::kMaxWait. No assertion depends on speed.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "sim/engine/delivery_engine.h"
#include "sim/http/http_transport.h"
#include "sim/http/real_clock.h"
#include "tests/loopback_servers.h"

namespace hooksim {
namespace {

using testing::RawTcpServer;
constexpr std::string_view kBody = R"({"event":"release","data":{}})";
constexpr int kEvents = 3;               // 18 connections at most.
constexpr size_t kOffered = 100u << 20;  // What a flooding receiver sends.

size_t CountEntries(const char* dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

// A field of /proc/self/status in kB ("VmHWM", "VmRSS").
size_t StatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::stoul(line.substr(field.size() + 1));
  }
  return 0;
}

// Writes `head`, then up to kOffered bytes of `piece`, until the client
// stops reading (it closes: the send fails) or the server stops.
void Flood(int fd, RawTcpServer& server, const std::string& head,
           const std::string& piece) {
  RawTcpServer::WriteAll(fd, head);
  for (size_t sent = 0; sent < kOffered; sent += piece.size()) {
    if (send(fd, piece.data(), piece.size(), MSG_NOSIGNAL) <= 0) return;
    if (!server.Sleep(std::chrono::milliseconds(0))) return;
  }
}

struct Fault {
  std::string name;
  // Answers one request on fd (already read).
  std::function<void(int& fd, RawTcpServer& server)> answer;
  DeliveryState expected;
  AttemptError expected_error;  // Of the last attempt.
  // The per-attempt timeout: short where a timeout is what the fault
  // causes, else far longer than any answer takes on a slow machine.
  std::chrono::milliseconds timeout{10000};
};

std::vector<Fault> Faults() {
  return {
      {"reset", [](int& fd, RawTcpServer&) { RawTcpServer::Reset(fd); },
       DeliveryState::kGaveUp, AttemptError::kReset},
      {"hang",
       [](int& fd, RawTcpServer& server) {
         // Until the client gives up (closes) or the test ends.
         server.WaitReadable(fd, std::chrono::seconds(60));
       },
       DeliveryState::kGaveUp, AttemptError::kTimeout,
       std::chrono::milliseconds(300)},
      {"garbage",
       [](int& fd, RawTcpServer&) {
         RawTcpServer::WriteAll(fd,
                                std::string("\x16\x03\x01garbage\r\n\r\n", 14));
       },
       DeliveryState::kGaveUp, AttemptError::kMalformed},
      {"huge_body",
       [](int& fd, RawTcpServer& server) {
         Flood(fd, server,
               "HTTP/1.1 200 OK\r\nContent-Length: " +
                   std::to_string(kOffered) + "\r\n\r\n",
               std::string(64 << 10, 'x'));
       },
       DeliveryState::kDelivered, AttemptError::kNone},
      {"endless_chunked",
       [](int& fd, RawTcpServer& server) {
         Flood(fd, server,
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
               "10000\r\n" + std::string(1 << 16, 'x') + "\r\n");
       },
       DeliveryState::kDelivered, AttemptError::kNone},
      {"no_length_never_closes",
       [](int& fd, RawTcpServer& server) {
         RawTcpServer::WriteAll(fd, "HTTP/1.1 500 Oops\r\n\r\npartial");
         server.WaitReadable(fd, std::chrono::seconds(60));
       },
       DeliveryState::kGaveUp, AttemptError::kTimeout,
       std::chrono::milliseconds(300)},
      {"cut_short",
       [](int& fd, RawTcpServer&) {
         RawTcpServer::WriteAll(
             fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{");
       },
       DeliveryState::kGaveUp, AttemptError::kMalformed},
  };
}

// Test names and failure messages show the fault's name.
void PrintTo(const Fault& fault, std::ostream* os) { *os << fault.name; }

class SenderAbuseTest : public ::testing::TestWithParam<Fault> {};

TEST_P(SenderAbuseTest, EveryDeliveryEndsAndNothingLeaks) {
  const Fault& fault = GetParam();
  // ThreadSanitizer starts a background thread of its own at the first
  // thread a process creates: create one first, so it is counted before.
  std::thread([] {}).join();
  const size_t fds_before = CountEntries("/proc/self/fd");
  const size_t threads_before = CountEntries("/proc/self/task");
  const size_t peak_before = StatusKb("VmHWM");
  std::atomic<int> requests{0};
  {
    RawTcpServer server([&](int& fd, RawTcpServer& s) {
      // Answers every request of the connection the same way.
      while (!s.ReadRequest(fd).empty()) {
        ++requests;
        fault.answer(fd, s);
        if (fault.name != "huge_body" && fault.name != "endless_chunked")
          return;
      }
    });
    RealClock clock;
    HttpTransport transport(clock, HttpTransportOptions{.workers = 4});
    EngineOptions options;
    options.policy.schedule = {std::chrono::milliseconds(5)};
    options.policy.jitter = 0;
    options.policy.timeout = fault.timeout;
    DeliveryEngine engine(clock, transport, options);
    engine.AddHook(Hook{"h", server.url()});
    for (int i = 0; i < kEvents; ++i) {
      ASSERT_TRUE(engine.Publish("release", std::string(kBody)).ok());
    }
    ASSERT_TRUE(clock.Run(RealRunLimits{.wall_limit = testing::kMaxWait}).ok());
    transport.Shutdown();

    ASSERT_EQ(engine.deliveries().size(), static_cast<size_t>(kEvents));
    int attempts = 0;
    for (const Delivery& d : engine.deliveries()) {
      EXPECT_EQ(d.state, fault.expected) << d.id;
      EXPECT_EQ(d.attempts, fault.expected == DeliveryState::kDelivered ? 1 : 6)
          << d.id;
      EXPECT_EQ(d.last.error, fault.expected_error) << d.id;
      attempts += d.attempts;
    }
    EXPECT_EQ(engine.attempts().size(), static_cast<size_t>(attempts));
    EXPECT_EQ(engine.total_attempts(), static_cast<uint64_t>(attempts));
    // Every attempt reached the receiver, and was counted once.
    EXPECT_EQ(requests.load(), attempts);
  }
  EXPECT_EQ(CountEntries("/proc/self/fd"), fds_before);
  EXPECT_EQ(CountEntries("/proc/self/task"), threads_before);
  // The client reads at most 1 MiB of a body: the 100 MB offered (per
  // attempt) never reach its memory. Generous: 32 MiB of new peak.
  EXPECT_LT(StatusKb("VmHWM"), peak_before + (32u << 10));
}

INSTANTIATE_TEST_SUITE_P(Faults, SenderAbuseTest, ::testing::ValuesIn(Faults()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace hooksim
