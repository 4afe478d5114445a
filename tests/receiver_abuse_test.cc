// The HTTP mock receiver under abuse, over real loopback sockets: bodies
// over the limit, clients trickling their headers (slowloris), hundreds of
// concurrent connections, garbage bytes, more connections than allowed.
// Meanwhile a well-formed sender must keep getting answers, and the
// journal must stay within its capacity. The server runs with few serving
// threads (4), so every abuse below outnumbers them many times.
//
// Nothing here depends on the machine's speed: the timeouts being tested
// are short and waited for with generous bounds (kPatience); the others
// are far longer than any test.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mock-receivers/behavior.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "sim/base/random.h"
#include "tests/loopback_servers.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kPatience = std::chrono::seconds(30);
constexpr auto kLong = std::chrono::seconds(600);  // Never reached.

using testing::Connect;
using testing::ReadUntilClosed;
using testing::SendAll;

struct Running {
  explicit Running(HttpReceiverOptions options, size_t journal_capacity = 64)
      : receiver(ReceiverOptions{"abuse", {journal_capacity}, nullptr},
                 BehaviorSpec{}, Random(1)),
        server(receiver, WithDefaults(options)) {
    const Status status = server.Start();
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
  ~Running() { server.Stop(); }

  static HttpReceiverOptions WithDefaults(HttpReceiverOptions options) {
    options.threads = 4;
    return options;
  }

  // The refusals in the journal, as "STATUS reason".
  std::vector<std::string> Refusals() {
    std::vector<std::string> out;
    receiver.WithJournal([&](const Journal& j) {
      for (const JournalEntry& e : j.Recent()) {
        if (e.refusal == Refusal::kNone) continue;
        out.push_back(std::to_string(e.reply.answer.status) + " " +
                      e.refusal_reason);
      }
    });
    return out;
  }

  size_t JournalSize() {
    size_t n = 0;
    receiver.WithJournal([&](const Journal& j) { n = j.Recent().size(); });
    return n;
  }

  MockReceiver receiver;
  HttpReceiverServer server;
};

// True when the server has not closed fd: reading what is there (the
// rest of an answer) ends with nothing more to read, not with EOF.
bool StillOpen(int fd) {
  char buf[4096];
  while (true) {
    const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

// A well-formed sender: `n` POSTs on one keep-alive connection, all must
// be answered 200.
void ExpectAnswers(int port, int n) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(kPatience);
  client.set_read_timeout(kPatience);
  client.set_write_timeout(kPatience);
  client.set_keep_alive(true);
  for (int i = 0; i < n; ++i) {
    const auto res = client.Post("/hook", R"({"event":"ping","data":{}})",
                                 "application/json");
    ASSERT_TRUE(res) << "request " << i << ": "
                     << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200) << "request " << i;
  }
}

TEST(ReceiverAbuseTest, BodyOverTheLimitGets413AndTheServerGoesOn) {
  HttpReceiverOptions options;
  options.max_body_bytes = 1024;
  Running r(options);
  httplib::Client client("127.0.0.1", r.server.port());
  client.set_read_timeout(kPatience);
  const auto at_limit =
      client.Post("/hook", std::string(1024, 'x'), "application/json");
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->status, 200);
  const auto over =
      client.Post("/hook", std::string(1025, 'x'), "application/json");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 413);
  EXPECT_NE(over->body.find("larger than 1024 bytes"), std::string::npos)
      << over->body;
  // A declared length far over the limit is refused before any body byte.
  const int fd = Connect(r.server.port());
  SendAll(fd,
          "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: "
          "99999999999\r\n\r\n");
  std::string answer;
  EXPECT_TRUE(ReadUntilClosed(fd, &answer));
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  close(fd);
  ExpectAnswers(r.server.port(), 3);
}

TEST(ReceiverAbuseTest, SlowlorisClientsDoNotStarveWellFormedSenders) {
  HttpReceiverOptions options;
  options.header_timeout = kLong;  // The slow clients stay for the test.
  options.keep_alive_timeout = kLong;
  Running r(options);
  constexpr int kSlow = 100;  // 25 times the serving threads.
  std::vector<int> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(Connect(r.server.port()));
    SendAll(slow.back(), "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slo");
  }
  // They trickle on, a header byte at a time, while the sender is served.
  for (int round = 0; round < 3; ++round) {
    for (int fd : slow) SendAll(fd, "w");
    ExpectAnswers(r.server.port(), 5);
  }
  for (int fd : slow) {
    EXPECT_TRUE(StillOpen(fd));
    close(fd);
  }
}

TEST(ReceiverAbuseTest, AnIncompleteHeadIsCutOffAfterTheHeaderTimeout) {
  HttpReceiverOptions options;
  options.header_timeout = std::chrono::milliseconds(200);
  options.keep_alive_timeout = kLong;
  Running r(options);
  const int fd = Connect(r.server.port());
  SendAll(fd, "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  std::string answer;
  EXPECT_TRUE(ReadUntilClosed(fd, &answer));
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  close(fd);
  ExpectAnswers(r.server.port(), 2);
  // Journaled and counted as the refusal it was.
  EXPECT_EQ(r.server.traffic().refused[408], 1u);
  const std::vector<std::string> refusals = r.Refusals();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].rfind("408 request head not complete", 0), 0u)
      << refusals[0];
}

constexpr char kPastTheRequestTimeout[] =
    "408 request not complete within the request timeout (200 ms)";

// Sends `request` (its body cut short) to a receiver with a 200 ms request
// timeout (or, with `stall`, a 200 ms read timeout and a long request
// timeout): the serving thread is freed with a 408 that is journaled with
// `reason` and counted (not a 400: nothing was malformed), and the server
// goes on.
void ExpectCutOffWith408(const std::string& request,
                         const std::string& reason = kPastTheRequestTimeout,
                         bool stall = false) {
  HttpReceiverOptions options;
  options.request_timeout = std::chrono::milliseconds(stall ? 600'000 : 200);
  if (stall) options.io_timeout = std::chrono::milliseconds(200);
  Running r(options);
  const int fd = Connect(r.server.port());
  SendAll(fd, request);
  std::string answer;
  EXPECT_TRUE(ReadUntilClosed(fd, &answer));
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  close(fd);
  ExpectAnswers(r.server.port(), 2);
  EXPECT_EQ(r.server.traffic().refused[408], 1u);
  EXPECT_EQ(r.server.traffic().refused.count(400), 0u);
  const std::vector<std::string> refusals = r.Refusals();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0], reason);
}

TEST(ReceiverAbuseTest, ATrickledBodyIsCutOffAfterTheRequestTimeout) {
  // The rest of the body never comes.
  ExpectCutOffWith408(
      "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
}

// The same for a chunked body, which the receiver frames itself.
TEST(ReceiverAbuseTest, ATrickledChunkedBodyIsCutOffWithA408) {
  ExpectCutOffWith408(
      "POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "\r\n5\r\n{\"a\":");
}

// A body that stops for the read timeout, long before the request's
// deadline: a 408 that says which timeout ran out.
TEST(ReceiverAbuseTest, ABodyThatStallsForTheReadTimeoutIsA408) {
  const std::string stalled =
      "408 no byte of the request for 200 ms (the read timeout)";
  ExpectCutOffWith408(
      "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
      stalled, /*stall=*/true);
  ExpectCutOffWith408(
      "POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "\r\n5\r\n{\"a\":",
      stalled, /*stall=*/true);
}

TEST(ReceiverAbuseTest, HundredsOfConcurrentConnectionsLeaveRoomForASender) {
  HttpReceiverOptions options;
  options.keep_alive_timeout = kLong;
  options.header_timeout = kLong;
  Running r(options);
  // 300 connections: a third idle from the start, a third idle after one
  // answered request (keep-alive), a third in the middle of a head.
  std::vector<int> fds;
  const std::string body = R"({"event":"ping","data":{}})";
  const std::string request =
      "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  for (int i = 0; i < 300; ++i) {
    const int fd = Connect(r.server.port());
    fds.push_back(fd);
    if (i % 3 == 1) {
      SendAll(fd, request);
      char buf[512];
      pollfd p{fd, POLLIN, 0};
      ASSERT_GT(poll(&p, 1, 30000), 0);
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      ASSERT_GT(n, 12);
      EXPECT_EQ(std::string(buf, 12), "HTTP/1.1 200");
    } else if (i % 3 == 2) {
      SendAll(fd, "GET /__hooksim/stats HTTP/1.1\r\n");
    }
  }
  ExpectAnswers(r.server.port(), 10);
  size_t open = 0;
  for (int fd : fds) open += StillOpen(fd) ? 1 : 0;
  EXPECT_EQ(open, fds.size());
  for (int fd : fds) close(fd);
  ExpectAnswers(r.server.port(), 2);
}

TEST(ReceiverAbuseTest, GarbageBytesGet400OrACloseAndTheJournalStaysBounded) {
  HttpReceiverOptions options;
  Running r(options, /*journal_capacity=*/16);
  Random rng(7);
  for (int i = 0; i < 200; ++i) {
    const int fd = Connect(r.server.port());
    std::string garbage;
    const size_t size = static_cast<size_t>(rng.UniformInt(1, 4096));
    for (size_t k = 0; k < size; ++k) {
      garbage += static_cast<char>(rng.UniformInt(0, 255));
    }
    if (i % 2 == 0) garbage += "\r\n\r\n";
    SendAll(fd, garbage);
    shutdown(fd, SHUT_WR);
    std::string answer;
    EXPECT_TRUE(ReadUntilClosed(fd, &answer)) << "input " << i;
    EXPECT_TRUE(answer.empty() || answer.rfind("HTTP/1.1 4", 0) == 0)
        << "input " << i << ": " << answer.substr(0, 40);
    close(fd);
  }
  ExpectAnswers(r.server.port(), 40);
  EXPECT_EQ(r.JournalSize(), 16u);
}

TEST(ReceiverAbuseTest, ConnectionsBeyondTheLimitAreClosedOnArrival) {
  HttpReceiverOptions options;
  options.max_connections = 8;
  options.keep_alive_timeout = kLong;
  Running r(options);
  std::vector<int> held;
  for (int i = 0; i < 8; ++i) held.push_back(Connect(r.server.port()));
  // Each held connection is admitted before the next arrives: an answered
  // request on each proves it.
  for (int fd : held) {
    SendAll(fd, "GET /__hooksim/stats HTTP/1.1\r\nHost: x\r\n\r\n");
    char buf[64];
    pollfd p{fd, POLLIN, 0};
    ASSERT_GT(poll(&p, 1, 30000), 0);
    ASSERT_GT(recv(fd, buf, sizeof(buf), 0), 0);
  }
  const int extra = Connect(r.server.port());
  std::string answer;
  EXPECT_TRUE(ReadUntilClosed(extra, &answer));
  EXPECT_EQ(answer, "");
  close(extra);
  close(held.back());
  held.pop_back();
  // The closed one's place is free again (once the server has seen it go).
  bool served = false;
  const auto deadline = SteadyClock::now() + kPatience;
  while (!served && SteadyClock::now() < deadline) {
    httplib::Client client("127.0.0.1", r.server.port());
    client.set_read_timeout(kPatience);
    const auto res = client.Get("/__hooksim/stats");
    served = res && res->status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
  for (int fd : held) close(fd);
}

TEST(ReceiverAbuseTest, CliMaxBodyBytesIsCheckedAndNamed) {
  for (const std::string bad : {"0", "-1", "abc", "1073741825"}) {
    const testing::CliResult r =
        testing::Cli({"receiver", "--max-body-bytes", bad});
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find("--max-body-bytes"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  }
  const testing::CliResult help = testing::Cli({"receiver", "--help"});
  EXPECT_NE(help.out.find("--max-body-bytes"), std::string::npos);
}

}  // namespace
}  // namespace hooksim
