#include "sim/http/http_transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sim/engine/delivery_engine.h"
#include "sim/http/http_url.h"
#include "sim/http/real_clock.h"
#include "tests/loopback_servers.h"

namespace hooksim {
namespace {

using testing::HttplibServer;
using testing::RawTcpServer;
using testing::RefusedPort;

// Behaviour only, never speed: timeouts here are lower bounds the receivers
// exceed by construction (they never answer, or dribble for far longer).

constexpr Duration kGenerous = std::chrono::seconds(10);
constexpr std::string_view kBody = R"({"event":"release","data":{}})";

struct Sent {
  AttemptResult result;
  Duration took{};
  bool on_loop_thread = false;
};

// Sends one attempt through `transport` on `clock`'s loop and runs the loop
// until it ends.
Sent SendOnce(RealClock& clock, HttpTransport& transport,
              const std::string& url, Duration timeout = kGenerous) {
  static const Header kHeaders[] = {{"Content-Type", "application/json"},
                                    {"User-Agent", kUserAgent},
                                    {kDeliveryIdHeader, "dlv_0000000000000001"},
                                    {kEventTypeHeader, "release"},
                                    {kAttemptHeader, "1"}};
  const HttpRequest request{"POST", url, kHeaders, kBody};
  std::optional<Sent> sent;
  const std::thread::id loop = std::this_thread::get_id();
  clock.ScheduleAfter(Duration::zero(), [&] {
    const TimePoint start = clock.Now();
    transport.Send(request, timeout, [&, start](AttemptResult r) {
      sent = Sent{r, clock.Now() - start, std::this_thread::get_id() == loop};
    });
    EXPECT_FALSE(sent.has_value()) << "done ran inline inside Send";
  });
  const Status s = clock.Run(RealRunLimits{.wall_limit = testing::kMaxWait});
  EXPECT_TRUE(s.ok()) << s.message();
  if (!sent) return Sent{AttemptResult{AttemptError::kNone, -1}};
  EXPECT_TRUE(sent->on_loop_thread);
  return *sent;
}

// Every transport test runs against every engine: same semantics.
struct EngineParam {
  size_t io_threads;
  bool share_loop_thread;
  const char* name;
};

const EngineParam kEngines[] = {
    {0, false, "EventLoopInClockLoop"},
    {1, false, "EventLoopOneThread"},
    {2, false, "EventLoopTwoThreads"},
    {1, true, "EventLoopClockLoopAndOneThread"},
    {2, true, "EventLoopClockLoopAndTwoThreads"},
};

class HttpTransportTest : public ::testing::TestWithParam<EngineParam> {
 protected:
  HttpTransportOptions Options(size_t workers) const {
    return HttpTransportOptions{
        .workers = workers,
        .io_threads = GetParam().io_threads,
        .share_loop_thread = GetParam().share_loop_thread};
  }
};
class HttpTransportEngineTest : public HttpTransportTest {};

std::string EngineName(const ::testing::TestParamInfo<EngineParam>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Engines, HttpTransportTest,
                         ::testing::ValuesIn(kEngines), EngineName);
INSTANTIATE_TEST_SUITE_P(Engines, HttpTransportEngineTest,
                         ::testing::ValuesIn(kEngines), EngineName);

TEST_P(HttpTransportTest, ReturnsStatusesAndNeverFollowsRedirects) {
  HttplibServer server;
  std::mutex mu;
  std::vector<httplib::Request> seen;
  auto record = [&](const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(req);
  };
  server.server().Post("/ok", [&](const auto& req, auto& res) {
    record(req);
    res.status = 200;
  });
  server.server().Post("/busy", [&](const auto& req, auto& res) {
    record(req);
    res.status = 503;
  });
  server.server().Post("/moved", [&](const auto& req, auto& res) {
    record(req);
    res.status = 302;
    res.set_header("Location", "/ok");
  });
  server.Start();
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  Sent s = SendOnce(clock, transport, server.url("/ok"));
  EXPECT_EQ(s.result.error, AttemptError::kNone);
  EXPECT_EQ(s.result.status, 200);
  s = SendOnce(clock, transport, server.url("/busy"));
  EXPECT_EQ(s.result.status, 503);
  s = SendOnce(clock, transport, server.url("/moved"));
  EXPECT_EQ(s.result.error, AttemptError::kNone);
  EXPECT_EQ(s.result.status, 302);
  transport.Shutdown();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 3u) << "the redirect must not be followed";
  const httplib::Request& req = seen[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.body, kBody);
  EXPECT_EQ(req.get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(req.get_header_value("User-Agent"), "hooksim/0.1.0");
  EXPECT_EQ(req.get_header_value("X-Hooksim-Delivery"), "dlv_0000000000000001");
  EXPECT_EQ(req.get_header_value("X-Hooksim-Attempt"), "1");
  EXPECT_EQ(req.get_header_value("Host"),
            "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(req.get_header_value("Content-Length"),
            std::to_string(kBody.size()));
}

TEST_P(HttpTransportTest, SequentialAttemptsReuseOneKeepAliveConnection) {
  HttplibServer server;
  std::mutex mu;
  std::set<int> remote_ports;
  int requests = 0;
  server.server().Post("/hook", [&](const auto& req, auto& res) {
    std::lock_guard<std::mutex> lock(mu);
    remote_ports.insert(req.remote_port);
    ++requests;
    res.status = 204;
  });
  server.Start();
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(SendOnce(clock, transport, server.url()).result.status, 204);
  }
  const HttpTransportStats stats = transport.stats();
  transport.Shutdown();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(requests, 5);
  EXPECT_EQ(remote_ports.size(), 1u);
  EXPECT_EQ(stats.connections_opened, 1u);
  EXPECT_EQ(stats.connections_reused, 4u);
}

// More attempts than connections, sent up front and while every
// connection is busy (then a thread is not woken for them: it takes them
// at its next round): every one is answered, on the kept connections.
TEST_P(HttpTransportTest, AttemptsBeyondTheConnectionsWaitAndAllComplete) {
  constexpr int kUpFront = 12;
  constexpr int kLater = 12;
  constexpr size_t kConnections = 2;
  HttplibServer server;
  std::atomic<int> requests{0};
  server.server().Post("/hook", [&](const auto&, auto& res) {
    ++requests;
    // Slow enough that the later attempts arrive while both are busy.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    res.status = 200;
  });
  server.Start();
  RealClock clock;
  HttpTransport transport(clock, Options(kConnections));
  const std::string url = server.url();
  static const Header kNoHeaders[] = {{"X", "y"}};
  const HttpRequest request{"POST", url, kNoHeaders, kBody};
  int ok = 0;
  int answered = 0;
  clock.ScheduleAfter(Duration::zero(), [&] {
    for (int i = 0; i < kUpFront; ++i) {
      transport.Send(request, kGenerous, [&](AttemptResult r) {
        ++answered;
        ok += r.status == 200;
      });
    }
  });
  for (int i = 0; i < kLater; ++i) {
    clock.ScheduleAfter(Millis(1 + i), [&] {
      transport.Send(request, kGenerous, [&](AttemptResult r) {
        ++answered;
        ok += r.status == 200;
      });
    });
  }
  ASSERT_TRUE(clock.Run(RealRunLimits{.wall_limit = testing::kMaxWait}).ok());
  EXPECT_EQ(answered, kUpFront + kLater);
  EXPECT_EQ(ok, kUpFront + kLater);
  EXPECT_EQ(requests.load(), kUpFront + kLater);
  const HttpTransportStats stats = transport.stats();
  EXPECT_LE(stats.connections_opened, kConnections);
  EXPECT_EQ(stats.connections_opened + stats.connections_reused,
            static_cast<uint64_t>(kUpFront + kLater));
  transport.Shutdown();
}

TEST_P(HttpTransportTest, NothingListeningIsRefused) {
  RefusedPort port;
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  EXPECT_EQ(SendOnce(clock, transport, port.url()).result.error,
            AttemptError::kRefused);
}

TEST_P(HttpTransportTest, UnsupportedUrlsAreRefusedWithoutTraffic) {
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  for (const char* url : {"https://127.0.0.1:1/", "ftp://x/", "not a url",
                          "http://127.0.0.1:99999/"}) {
    EXPECT_EQ(SendOnce(clock, transport, url).result.error,
              AttemptError::kRefused)
        << url;
  }
  EXPECT_EQ(transport.stats().connections_opened, 0u);
}

TEST_P(HttpTransportTest, ResetConnectionIsReset) {
  RawTcpServer server([](int& fd, RawTcpServer& s) {
    s.ReadRequest(fd);
    RawTcpServer::Reset(fd);
  });
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  EXPECT_EQ(SendOnce(clock, transport, server.url()).result.error,
            AttemptError::kReset);
}

// Descriptors this process has open (the directory's own included, the
// same in every count).
size_t OpenFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

// Every connection a failed attempt opened is closed, and destroying the
// transport closes the rest (its cancel pipe, idle connections): many
// resets through several workers leave the process's descriptors where they
// were.
TEST_P(HttpTransportTest, ResetAttemptsAndShutdownLeakNoDescriptors) {
  constexpr int kAttempts = 48;  // Below RawTcpServer's 64 connections.
  const size_t before = OpenFds();
  {
    RawTcpServer server([](int& fd, RawTcpServer& s) {
      s.ReadRequest(fd);
      RawTcpServer::Reset(fd);
    });
    RealClock clock;
    auto transport = std::make_unique<HttpTransport>(clock, Options(4));
    static const Header kNoHeaders[] = {{"X", "y"}};
    const std::string url = server.url();
    const HttpRequest request{"POST", url, kNoHeaders, kBody};
    std::map<AttemptError, int> seen;
    clock.ScheduleAfter(Duration::zero(), [&] {
      for (int i = 0; i < kAttempts; ++i) {
        transport->Send(request, kGenerous,
                        [&](AttemptResult r) { ++seen[r.error]; });
      }
    });
    ASSERT_TRUE(clock.Run(RealRunLimits{.wall_limit = testing::kMaxWait}).ok());
    EXPECT_EQ(seen[AttemptError::kReset], kAttempts);
    EXPECT_EQ(transport->stats().connections_opened,
              static_cast<uint64_t>(kAttempts));
    transport.reset();
  }
  EXPECT_EQ(OpenFds(), before);
}

TEST_P(HttpTransportTest, CloseWithoutAnswerIsEmptyReply) {
  RawTcpServer server([](int& fd, RawTcpServer& s) { s.ReadRequest(fd); });
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  EXPECT_EQ(SendOnce(clock, transport, server.url()).result.error,
            AttemptError::kEmptyReply);
}

TEST_P(HttpTransportTest, GarbageIsMalformedEvenWhenTheConnectionStaysOpen) {
  for (bool stay_open : {false, true}) {
    RawTcpServer server([stay_open](int& fd, RawTcpServer& s) {
      s.ReadRequest(fd);
      RawTcpServer::WriteAll(fd, "\x16\x03garbage, not HTTP\r\n\r\n");
      if (stay_open) s.WaitReadable(fd, testing::kMaxWait);
    });
    RealClock clock;
    HttpTransport transport(clock, Options(1));
    // With the connection open, only recognising the garbage ends the
    // attempt before its (generous) timeout.
    const Sent sent = SendOnce(clock, transport, server.url());
    EXPECT_EQ(sent.result.error, AttemptError::kMalformed) << stay_open;
  }
}

TEST_P(HttpTransportTest, BrokenAnswersAreMalformed) {
  for (const std::string answer :
       {std::string("HTTP/1.1 2xx OK\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nContent-Len")}) {
    RawTcpServer server([answer](int& fd, RawTcpServer& s) {
      s.ReadRequest(fd);
      RawTcpServer::WriteAll(fd, answer);
    });
    RealClock clock;
    HttpTransport transport(clock, Options(1));
    EXPECT_EQ(SendOnce(clock, transport, server.url()).result.error,
              AttemptError::kMalformed)
        << answer;
  }
}

TEST_P(HttpTransportTest, NeverAnsweringIsATimeoutAfterTheTimeout) {
  RawTcpServer server([](int& fd, RawTcpServer& s) {
    s.ReadRequest(fd);
    s.WaitReadable(fd, testing::kMaxWait);  // Until the client gives up.
  });
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  const Sent sent = SendOnce(clock, transport, server.url(), Millis(200));
  EXPECT_EQ(sent.result.error, AttemptError::kTimeout);
  EXPECT_GE(sent.took, Millis(200));  // Not before the timeout.
}

TEST_P(HttpTransportTest, TimeoutIsRunTimeScaledToWallTime) {
  RawTcpServer server([](int& fd, RawTcpServer& s) {
    s.ReadRequest(fd);
    s.WaitReadable(fd, testing::kMaxWait);
  });
  // 20 s of run time at scale 0.01 is 200 ms of wall time.
  RealClock clock(RealClockOptions{.time_scale = 0.01});
  HttpTransport transport(clock, Options(1));
  const Sent sent =
      SendOnce(clock, transport, server.url(), std::chrono::seconds(20));
  EXPECT_EQ(sent.result.error, AttemptError::kTimeout);
  EXPECT_GE(sent.took, std::chrono::seconds(20));
}

TEST_P(HttpTransportTest, DribbledAnswerPastTheDeadlineIsATimeout) {
  // Every byte arrives well within any per-read timeout, but the whole
  // answer takes at least 40 x 25 ms = 1 s, five times the attempt's 200 ms.
  RawTcpServer server([](int& fd, RawTcpServer& s) {
    s.ReadRequest(fd);
    const std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789";
    for (char c : answer) {
      RawTcpServer::WriteAll(fd, std::string(1, c));
      if (!s.Sleep(std::chrono::milliseconds(25))) return;
    }
  });
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  const Sent sent = SendOnce(clock, transport, server.url(), Millis(200));
  EXPECT_EQ(sent.result.error, AttemptError::kTimeout);
  EXPECT_GE(sent.took, Millis(200));
}

// Serves `count` requests on each connection with `answer`, then closes.
RawTcpServer::Handler Answering(std::string answer, int count) {
  return [answer, count](int& fd, RawTcpServer& s) {
    for (int i = 0; i < count; ++i) {
      if (s.ReadRequest(fd).empty()) return;
      RawTcpServer::WriteAll(fd, answer);
    }
  };
}

TEST_P(HttpTransportTest, ChunkedAnswersKeepTheConnection) {
  RawTcpServer server(
      Answering("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
                3));
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(SendOnce(clock, transport, server.url()).result.status, 200);
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST_P(HttpTransportTest, ConnectionCloseAndUnframedAnswersAreNotReused) {
  for (const std::string answer :
       {std::string("HTTP/1.1 500 Oops\r\nConnection: close\r\n"
                    "Content-Length: 0\r\n\r\n"),
        std::string("HTTP/1.0 500 Oops\r\n\r\nbody until close")}) {
    RawTcpServer server(Answering(answer, 1));
    RealClock clock;
    HttpTransport transport(clock, Options(1));
    EXPECT_EQ(SendOnce(clock, transport, server.url()).result.status, 500);
    EXPECT_EQ(SendOnce(clock, transport, server.url()).result.status, 500);
    EXPECT_EQ(server.accepted(), 2) << answer;
    EXPECT_EQ(transport.stats().stale_connections, 0u);
  }
}

TEST_P(HttpTransportTest, InterimAnswersAreSkipped) {
  RawTcpServer server(
      Answering("HTTP/1.1 100 Continue\r\n\r\n"
                "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
                1));
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  EXPECT_EQ(SendOnce(clock, transport, server.url()).result.status, 201);
}

TEST_P(HttpTransportTest, LargeBodyStillCountsItsStatus) {
  const std::string body(3 << 20, 'x');
  RawTcpServer server([&body](int& fd, RawTcpServer& s) {
    s.ReadRequest(fd);
    RawTcpServer::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\n\r\n");
    RawTcpServer::WriteAll(fd, body);
  });
  RealClock clock;
  HttpTransport transport(clock, Options(1));
  EXPECT_EQ(SendOnce(clock, transport, server.url()).result.status, 200);
}

TEST_P(HttpTransportTest, StaleKeepAliveConnectionIsReplacedNotReattempted) {
  for (bool with_rst : {false, true}) {
    std::mutex mu;
    std::condition_variable cv;
    bool first_answer_read = false;
    bool closed = false;
    int requests = 0;
    // Answers one request per connection without "Connection: close" (so
    // the client keeps the connection), then, once the client has read the
    // answer, closes it (FIN, or RST) while it is idle.
    RawTcpServer server([&](int& fd, RawTcpServer& s) {
      if (s.ReadRequest(fd).empty()) return;
      std::unique_lock<std::mutex> lock(mu);
      ++requests;
      RawTcpServer::WriteAll(fd,
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      if (closed) return;  // The second connection stays open.
      cv.wait_for(lock, testing::kMaxWait, [&] { return first_answer_read; });
      if (with_rst) RawTcpServer::Reset(fd);
      close(fd);
      fd = -1;
      closed = true;
      cv.notify_all();
    });
    RealClock clock;
    HttpTransport transport(clock, Options(1));
    EXPECT_EQ(SendOnce(clock, transport, server.url()).result.status, 200);
    {
      std::unique_lock<std::mutex> lock(mu);
      first_answer_read = true;
      cv.notify_all();
      ASSERT_TRUE(cv.wait_for(lock, testing::kMaxWait, [&] { return closed; }));
    }
    // The server closed the idle connection: the next attempt finds it
    // closed and sends on a new one; the receiver sees one request.
    const Sent second = SendOnce(clock, transport, server.url());
    EXPECT_EQ(second.result.error, AttemptError::kNone) << with_rst;
    EXPECT_EQ(second.result.status, 200);
    const HttpTransportStats stats = transport.stats();
    EXPECT_EQ(stats.connections_opened, 2u);
    EXPECT_EQ(stats.stale_connections, 1u);
    transport.Shutdown();
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(requests, 2) << "the receiver saw each attempt once";
  }
}

// A loop keeps idle connections for at most 64 host:ports. A key whose
// last connection was taken keeps its (empty) list, so that reusing one
// connection allocates nothing; when a 65th key comes, an empty list is
// dropped before any host's live connection.
TEST_P(HttpTransportTest, AnEmptyIdleListIsEvictedBeforeALiveConnection) {
  const auto keep_alive = [](int& fd, RawTcpServer& s) {
    // Bounded: ends when the client closes or the server stops.
    while (!s.ReadRequest(fd).empty()) {
      RawTcpServer::WriteAll(fd,
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
  };
  // Answers once with keep-alive, then once with "Connection: close": its
  // key is left with an empty idle list.
  RawTcpServer closing([](int& fd, RawTcpServer& s) {
    if (s.ReadRequest(fd).empty()) return;
    RawTcpServer::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    if (s.ReadRequest(fd).empty()) return;
    RawTcpServer::WriteAll(fd,
                           "HTTP/1.1 200 OK\r\nConnection: close\r\n"
                           "Content-Length: 2\r\n\r\nok");
  });
  std::vector<std::unique_ptr<RawTcpServer>> hosts;
  for (int i = 0; i < 64; ++i) {
    hosts.push_back(std::make_unique<RawTcpServer>(keep_alive));
  }
  RealClock clock;
  HttpTransport transport(clock, Options(4));
  EXPECT_EQ(SendOnce(clock, transport, closing.url()).result.status, 200);
  EXPECT_EQ(SendOnce(clock, transport, closing.url()).result.status, 200);
  for (const auto& host : hosts) {
    EXPECT_EQ(SendOnce(clock, transport, host->url()).result.status, 200);
  }
  // 65 keys met the limit of 64: the empty list went, so the first host's
  // connection is still kept and reused.
  EXPECT_EQ(SendOnce(clock, transport, hosts.front()->url()).result.status,
            200);
  const HttpTransportStats stats = transport.stats();
  EXPECT_EQ(stats.connections_opened, 65u);
  EXPECT_EQ(stats.connections_reused, 2u);
  EXPECT_EQ(hosts.front()->accepted(), 1);
  transport.Shutdown();
}

TEST_P(HttpTransportTest, ShutdownAbandonsAnAttemptInFlightPromptly) {
  RawTcpServer server([](int& fd, RawTcpServer& s) {
    s.ReadRequest(fd);
    s.WaitReadable(fd, testing::kMaxWait);
  });
  RealClock clock;
  auto transport = std::make_unique<HttpTransport>(clock, Options(1));
  static const Header kNoHeaders[] = {{"X", "y"}};
  const std::string url = server.url();
  const HttpRequest request{"POST", url, kNoHeaders, kBody};
  bool done_called = false;
  clock.ScheduleAfter(Duration::zero(), [&] {
    transport->Send(request, std::chrono::hours(1),
                    [&](AttemptResult) { done_called = true; });
  });
  std::thread stopper([&] {
    const auto until = std::chrono::steady_clock::now() + testing::kMaxWait;
    while (server.accepted() == 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    clock.Stop();
  });
  EXPECT_TRUE(clock.Run(RealRunLimits{.wall_limit = testing::kMaxWait}).ok());
  stopper.join();
  transport->Shutdown();  // Must not wait for the hour-long timeout.
  transport.reset();
  EXPECT_FALSE(done_called);
}

// An answer over the caps: a head too long is malformed; an endless body
// is not read (nor buffered) past max_drained_body_bytes: the status
// counts and the connection is closed, so the receiver's writes fail.
TEST_P(HttpTransportTest, AnswerCapsBoundWhatIsRead) {
  RawTcpServer long_head([](int& fd, RawTcpServer& s) {
    s.ReadRequest(fd);
    RawTcpServer::WriteAll(
        fd, "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(4096, 'p') + "\r\n\r\n");
    s.WaitReadable(fd, testing::kMaxWait);
  });
  HttpTransportOptions options = Options(1);
  options.max_answer_head_bytes = 1024;
  options.max_drained_body_bytes = 64 << 10;
  {
    RealClock clock;
    HttpTransport transport(clock, options);
    EXPECT_EQ(SendOnce(clock, transport, long_head.url()).result.error,
              AttemptError::kMalformed);
  }
  constexpr size_t kEndless = size_t{100} << 20;
  std::atomic<size_t> written{0};
  RawTcpServer endless([&written](int& fd, RawTcpServer& s) {
    s.ReadRequest(fd);
    // Delimited by close: the sender would have to read to the end.
    RawTcpServer::WriteAll(fd, "HTTP/1.1 200 OK\r\n\r\n");
    const std::string piece(64 << 10, 'b');
    // Bounded: 100 MB at most; ends when the sender closes.
    while (written < kEndless) {
      const ssize_t n = send(fd, piece.data(), piece.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
  });
  RealClock clock;
  HttpTransport transport(clock, options);
  const Sent sent = SendOnce(clock, transport, endless.url());
  EXPECT_EQ(sent.result.error, AttemptError::kNone);
  EXPECT_EQ(sent.result.status, 200);
  transport.Shutdown();
  EXPECT_LT(written.load(), kEndless) << "the sender read the whole body";
}

// Many attempts are in flight at once, also when one thread (an I/O thread,
// or the clock's loop) carries them all: the receiver answers none until
// all of them have arrived on their own connections.
TEST_P(HttpTransportTest, ManyConnectionsInFlightAtOnce) {
  constexpr int kAttempts = 12;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  RawTcpServer server([&](int& fd, RawTcpServer& s) {
    if (s.ReadRequest(fd).empty()) return;
    {
      std::unique_lock<std::mutex> lock(mu);
      ++arrived;
      cv.notify_all();
      if (!cv.wait_for(lock, testing::kMaxWait,
                       [&] { return arrived == kAttempts; })) {
        return;  // Closed without an answer: the test fails.
      }
    }
    RawTcpServer::WriteAll(fd,
                           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    s.WaitReadable(fd, testing::kMaxWait);
  });
  RealClock clock;
  HttpTransport transport(clock, Options(kAttempts));
  static const Header kNoHeaders[] = {{"X", "y"}};
  const std::string url = server.url();
  const HttpRequest request{"POST", url, kNoHeaders, kBody};
  std::map<int, int> statuses;
  clock.ScheduleAfter(Duration::zero(), [&] {
    for (int i = 0; i < kAttempts; ++i) {
      transport.Send(request, kGenerous,
                     [&](AttemptResult r) { ++statuses[r.status]; });
    }
  });
  ASSERT_TRUE(clock.Run(RealRunLimits{.wall_limit = testing::kMaxWait}).ok());
  EXPECT_EQ(statuses[200], kAttempts);
  EXPECT_EQ(transport.stats().connections_opened,
            static_cast<uint64_t>(kAttempts));
  transport.Shutdown();
}

// A deadline fires while other attempts on the same thread are in
// progress; they go on and succeed after it.
TEST_P(HttpTransportTest, DeadlineFiresWhileOthersAreInProgress) {
  constexpr int kHeld = 3;
  std::mutex mu;
  std::condition_variable cv;
  bool timed_out = false;
  RawTcpServer server([&](int& fd, RawTcpServer& s) {
    const std::string request = s.ReadRequest(fd);
    if (request.find("/slow") != std::string::npos) {
      s.WaitReadable(fd, testing::kMaxWait);  // Never answers.
      return;
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, testing::kMaxWait, [&] { return timed_out; });
    }
    RawTcpServer::WriteAll(fd,
                           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    s.WaitReadable(fd, testing::kMaxWait);
  });
  RealClock clock;
  HttpTransport transport(clock, Options(kHeld + 1));
  static const Header kNoHeaders[] = {{"X", "y"}};
  const std::string slow_url = server.url("/slow");
  const std::string held_url = server.url("/held");
  const HttpRequest slow{"POST", slow_url, kNoHeaders, kBody};
  const HttpRequest held{"POST", held_url, kNoHeaders, kBody};
  std::vector<AttemptResult> order;
  clock.ScheduleAfter(Duration::zero(), [&] {
    for (int i = 0; i < kHeld; ++i) {
      transport.Send(held, kGenerous,
                     [&](AttemptResult r) { order.push_back(r); });
    }
    transport.Send(slow, std::chrono::milliseconds(200), [&](AttemptResult r) {
      order.push_back(r);
      std::lock_guard<std::mutex> lock(mu);
      timed_out = true;
      cv.notify_all();
    });
  });
  ASSERT_TRUE(clock.Run(RealRunLimits{.wall_limit = testing::kMaxWait}).ok());
  ASSERT_EQ(order.size(), static_cast<size_t>(kHeld + 1));
  EXPECT_EQ(order[0].error, AttemptError::kTimeout);
  for (int i = 1; i <= kHeld; ++i) EXPECT_EQ(order[i].status, 200) << i;
  transport.Shutdown();
}

// The engine on the real clock and this transport against loopback.

EngineOptions FastRetries() {
  EngineOptions options;
  options.policy.schedule = {Millis(5), Millis(10)};
  options.policy.jitter = 0;
  options.policy.timeout = std::chrono::seconds(10);
  options.seed = 7;
  return options;
}

TEST_P(HttpTransportEngineTest, TwoFailuresThenSuccessIsDeliveredInThree) {
  HttplibServer server;
  std::mutex mu;
  std::map<std::string, int> per_delivery;
  server.server().Post("/hook", [&](const auto& req, auto& res) {
    std::lock_guard<std::mutex> lock(mu);
    const int n = ++per_delivery[req.get_header_value("X-Hooksim-Delivery")];
    res.status = n <= 2 ? 503 : 200;
  });
  server.Start();
  RealClock clock;
  HttpTransport transport(clock, Options(4));
  DeliveryEngine engine(clock, transport, FastRetries());
  engine.AddHook(Hook{"h", server.url()});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(engine.Publish("release", std::string(kBody)).ok());
  }
  ASSERT_TRUE(clock.Run(RealRunLimits{.wall_limit = testing::kMaxWait}).ok());
  transport.Shutdown();
  ASSERT_EQ(engine.deliveries().size(), 5u);
  for (const Delivery& d : engine.deliveries()) {
    EXPECT_EQ(d.state, DeliveryState::kDelivered) << d.id;
    EXPECT_EQ(d.attempts, 3) << d.id;
    EXPECT_EQ(d.last.status, 200);
  }
  EXPECT_EQ(engine.total_attempts(), 15u);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(per_delivery.size(), 5u);
  for (const auto& [id, n] : per_delivery) EXPECT_EQ(n, 3) << id;
}

TEST_P(HttpTransportEngineTest, RefusedPortGivesUpAfterSixAttempts) {
  RefusedPort port;
  RealClock clock;
  HttpTransport transport(clock, Options(2));
  DeliveryEngine engine(clock, transport, FastRetries());
  engine.AddHook(Hook{"h", port.url()});
  ASSERT_TRUE(engine.Publish("release", std::string(kBody)).ok());
  ASSERT_TRUE(engine.Publish("release", std::string(kBody)).ok());
  ASSERT_TRUE(clock.Run(RealRunLimits{.wall_limit = testing::kMaxWait}).ok());
  transport.Shutdown();
  for (const Delivery& d : engine.deliveries()) {
    EXPECT_EQ(d.state, DeliveryState::kGaveUp);
    EXPECT_EQ(d.attempts, 6);
    EXPECT_EQ(d.last.error, AttemptError::kRefused);
  }
  // Delays follow the schedule, the last one repeating; never early.
  for (const AttemptRecord& a : engine.attempts()) {
    if (a.attempt == 1) continue;
    const Duration want = a.attempt == 2 ? Millis(5) : Millis(10);
    const auto& all = engine.attempts();
    for (const AttemptRecord& prev : all) {
      if (prev.delivery == a.delivery && prev.attempt == a.attempt - 1) {
        EXPECT_GE(a.started - prev.ended, want);
      }
    }
  }
}

}  // namespace
}  // namespace hooksim
