// The receiver's event server core (ServerCore::kEvent, event_core.h):
// the bytes it answers are the threaded core's, pipelined requests are
// answered in order, a latency waits on a timer (never in the loop), a
// connection handed to the threaded code for an admin request comes back,
// and 10,000 keep-alive connections do not keep a well-formed sender from
// being answered. The receiver's other HTTP suites run on this core (the
// default) and again on the threaded one (CTest's "threads_core:" tests,
// HOOKSIM_RECEIVER_CORE=threads). Nothing
// here depends on the machine's speed: waits are bounded polls.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/connection_faults.h"
#include "mock-receivers/http/event_core.h"
#include "mock-receivers/http/http_receiver_server.h"

namespace hooksim {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kPatience = std::chrono::seconds(10);

BehaviorSpec Behavior(const std::string& text) {
  Result<BehaviorSpec> spec = ParseBehavior(json::parse(text), "");
  EXPECT_TRUE(spec.ok()) << spec.error().ToString();
  return spec.ok() ? *spec : BehaviorSpec{};
}

struct Running {
  Running(const std::string& behavior, ServerCore core,
          HttpReceiverOptions options = {})
      : receiver(ReceiverOptions{"test", {}, nullptr}, Behavior(behavior),
                 Random(7)),
        server(receiver, WithCore(std::move(options), core)) {
    const Status s = server.Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~Running() { server.Stop(); }

  static HttpReceiverOptions WithCore(HttpReceiverOptions o, ServerCore core) {
    o.core = core;
    return o;
  }
  std::vector<JournalEntry> Journal() const {
    std::vector<JournalEntry> out;
    receiver.WithJournal([&](const hooksim::Journal& j) { out = j.Recent(); });
    return out;
  }

  MockReceiver receiver;
  HttpReceiverServer server;
};

// Connects to 127.0.0.1:port; -1 on failure.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Reads one answer (head, then Content-Length bytes of body unless
// `head_only`); "" on EOF, error or kPatience.
std::string ReadAnswer(int fd, bool head_only = false,
                       std::chrono::milliseconds patience = kPatience) {
  std::string got;
  const auto deadline = SteadyClock::now() + patience;
  size_t need = std::string::npos;
  char buf[4096];
  while (got.size() < need) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - SteadyClock::now());
    if (left.count() <= 0) return "";
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    // Peeked first: no byte past this answer is taken.
    const ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK);
    if (n <= 0) return "";
    size_t take = static_cast<size_t>(n);
    if (need == std::string::npos) {
      const std::string probe = got + std::string(buf, take);
      const size_t end = probe.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        const size_t at = probe.find("Content-Length: ");
        if (at != std::string::npos && at < end) {
          length = std::strtoull(probe.c_str() + at + 16, nullptr, 10);
        }
        need = end + 4 + (head_only ? 0 : length);
      }
    }
    if (need != std::string::npos) take = std::min(take, need - got.size());
    const ssize_t m = recv(fd, buf, take, 0);
    if (m <= 0) return "";
    got.append(buf, static_cast<size_t>(m));
  }
  return got;
}

// One request on a new connection; its answer's bytes.
std::string Exchange(int port, const std::string& request,
                     bool head_only = false) {
  const int fd = Connect(port);
  if (fd < 0) return "";
  std::string answer;
  if (SendAll(fd, request, std::chrono::milliseconds(5000))) {
    answer = ReadAnswer(fd, head_only);
  }
  close(fd);
  return answer;
}

std::string Post(const std::string& path, const std::string& delivery,
                 const std::string& extra = "", const std::string& body = "{}") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         "Content-Type: application/json\r\nX-Hooksim-Delivery: " +
         delivery + "\r\n" + extra + "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(ServerCoreTest, ParsesAndNamesItsCores) {
  ASSERT_TRUE(ParseServerCore("event").ok());
  EXPECT_EQ(*ParseServerCore("event"), ServerCore::kEvent);
  EXPECT_EQ(*ParseServerCore("threads"), ServerCore::kThreads);
  EXPECT_STREQ(ServerCoreName(ServerCore::kEvent), "event");
  EXPECT_STREQ(ServerCoreName(ServerCore::kThreads), "threads");
  const Result<ServerCore> bad = ParseServerCore("epoll");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("\"epoll\""), std::string::npos);
}

constexpr char kRoutes[] = R"({"routes":[
  {"name":"orders","path":"/orders/*",
   "behavior":{"status":429,"headers":{"Retry-After":"2","X-Z":"z"},
               "body":{"error":"slow down"}}},
  {"name":"moved","path":"/moved","behavior":{"status":302}},
  {"name":"none","path":"/none","behavior":{"status":204}},
  {"name":"text","path":"/text","behavior":{"status":500,"body":"oops"}}],
 "default":{"status":200}})";

// The same requests to a threaded and an event receiver: byte for byte the
// same answers, and the same journal entries.
TEST(EventCoreTest, AnswersAreTheThreadedCoresBytes) {
  Running threads(kRoutes, ServerCore::kThreads);
  Running event(kRoutes, ServerCore::kEvent);
  const std::vector<std::pair<std::string, bool>> requests = {
      {Post("/hook", "d1"), false},
      {Post("/orders/42", "d2"), false},
      {Post("/moved", "d3"), false},
      {Post("/none", "d4"), false},
      {Post("/text", "d5"), false},
      {Post("/hook?x=1", "d6", "Connection: close\r\n"), false},
      {"HEAD /hook HTTP/1.1\r\nHost: a\r\nX-Hooksim-Delivery: d7\r\n\r\n",
       true},
      {"GET /orders/1 HTTP/1.1\r\nHost: a\r\nX-Hooksim-Delivery: d8\r\n\r\n",
       false},
      {"POST /hook HTTP/1.1\r\nHost: a\r\nX-Hooksim-Delivery: d9\r\n"
       "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
       false},
      {"POST /hook HTTP/1.1\r\nHost: a\r\nX-Hooksim-Delivery: d10\r\n\r\n",
       false},
  };
  for (const auto& [request, head] : requests) {
    const std::string a = Exchange(threads.server.port(), request, head);
    const std::string b = Exchange(event.server.port(), request, head);
    EXPECT_FALSE(a.empty()) << request;
    EXPECT_EQ(a, b) << request;
  }
  const std::vector<JournalEntry> ja = threads.Journal();
  const std::vector<JournalEntry> jb = event.Journal();
  ASSERT_EQ(ja.size(), requests.size());
  ASSERT_EQ(jb.size(), requests.size());
  for (size_t i = 0; i < ja.size(); ++i) {
    EXPECT_EQ(ja[i].method, jb[i].method) << i;
    EXPECT_EQ(ja[i].target, jb[i].target) << i;
    EXPECT_EQ(ja[i].delivery_key, jb[i].delivery_key) << i;
    EXPECT_EQ(ja[i].reply.answer.status, jb[i].reply.answer.status) << i;
    EXPECT_EQ(ja[i].body_size, jb[i].body_size) << i;
    ASSERT_EQ(ja[i].headers.size(), jb[i].headers.size()) << i;
    for (size_t h = 0; h < ja[i].headers.size(); ++h) {
      EXPECT_EQ(ja[i].headers[h].name, jb[i].headers[h].name) << i;
      // The servers' ports and the clients' differ, nothing else.
      if (ja[i].headers[h].name.find("_PORT") == std::string::npos) {
        EXPECT_EQ(ja[i].headers[h].value, jb[i].headers[h].value) << i;
      }
    }
  }
}

TEST(EventCoreTest, PipelinedRequestsAreAnsweredInOrder) {
  Running r(kRoutes, ServerCore::kEvent);
  const int fd = Connect(r.server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd,
                      Post("/hook", "p1") + Post("/orders/1", "p2") +
                          Post("/hook", "p3"),
                      std::chrono::milliseconds(5000)));
  EXPECT_EQ(ReadAnswer(fd).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(ReadAnswer(fd).rfind("HTTP/1.1 429 Too Many Requests\r\n", 0), 0u);
  EXPECT_EQ(ReadAnswer(fd).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  close(fd);
  const std::vector<JournalEntry> j = r.Journal();
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0].connection, j[2].connection);
}

// One loop: a request waiting out its latency does not keep another
// connection's request from being answered meanwhile.
TEST(EventCoreTest, ALatencyWaitsOnATimerNotInTheLoop) {
  HttpReceiverOptions o;
  o.event_loops = 1;
  Running r(R"({"routes":[{"path":"/slow",
      "behavior":{"status":200,"latency":{"fixed_ms":3000}}}],
      "default":{"status":200}})",
            ServerCore::kEvent, o);
  const int slow = Connect(r.server.port());
  const int fast = Connect(r.server.port());
  ASSERT_GE(slow, 0);
  ASSERT_GE(fast, 0);
  ASSERT_TRUE(SendAll(slow, Post("/slow", "s"), std::chrono::milliseconds(5000)));
  ASSERT_TRUE(SendAll(fast, Post("/hook", "f"), std::chrono::milliseconds(5000)));
  EXPECT_EQ(ReadAnswer(fast).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  pollfd p{slow, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0) << "the slow answer came before its latency";
  EXPECT_EQ(ReadAnswer(slow).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  close(slow);
  close(fast);
}

// An admin request is served by the threaded code (cpp-httplib); the
// connection then comes back to the loop and keeps its id.
TEST(EventCoreTest, AConnectionHandedToTheAdminApiComesBack) {
  Running r(R"({"status":200})", ServerCore::kEvent);
  const int fd = Connect(r.server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, Post("/hook", "a1"), std::chrono::milliseconds(5000)));
  EXPECT_EQ(ReadAnswer(fd).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  ASSERT_TRUE(SendAll(fd, "GET /__hooksim/stats HTTP/1.1\r\nHost: a\r\n\r\n",
                      std::chrono::milliseconds(5000)));
  const std::string stats = ReadAnswer(fd);
  EXPECT_EQ(stats.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << stats;
  ASSERT_TRUE(SendAll(fd, Post("/hook", "a2"), std::chrono::milliseconds(5000)));
  EXPECT_EQ(ReadAnswer(fd).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  close(fd);
  const std::vector<JournalEntry> j = r.Journal();
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0].connection, j[1].connection);
  EXPECT_EQ(r.server.traffic().connections, 1u);
}

// 10,000 keep-alive connections open at once, each with a request answered
// on it; then a new sender's request is still answered. The server runs in
// a child process (forked before it starts a thread), so each process
// needs a descriptor per connection, not two.
// A listening socket on 127.0.0.1 and a kernel-chosen port; -1 on failure.
int ListenOnLoopback(int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, SOMAXCONN) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// A sender opens its connections together: whichever loop wakes accepts
// the burst, and each connection still goes to the least loaded loop, so
// every loop serves its share (a 15-to-1 split left one core idle).
TEST(EventCoreTest, ConnectionsOpenedTogetherAreSpreadOverTheLoops) {
  for (const size_t loops : {size_t{2}, size_t{3}}) {
    constexpr size_t kConnections = 16;
    int port = 0;
    EventCoreOptions options;
    options.listen_fd = ListenOnLoopback(&port);
    ASSERT_GE(options.listen_fd, 0) << std::strerror(errno);
    options.loops = loops;
    EventCoreHooks hooks;
    hooks.admit = [] { return true; };
    hooks.closed = [] {};
    hooks.handle = [](EventRequest&) {
      EventAnswer a;
      a.kind = EventAnswerKind::kWrite;
      a.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
      return a;
    };
    EventCore core(options, hooks);
    ASSERT_TRUE(core.Start().ok());
    std::vector<int> fds;
    for (size_t i = 0; i < kConnections; ++i) {
      const int fd = Connect(port);
      ASSERT_GE(fd, 0);
      fds.push_back(fd);
    }
    // An answer on every connection: each has been placed and is served.
    for (const int fd : fds) {
      ASSERT_TRUE(SendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                          std::chrono::milliseconds(5000)));
    }
    for (const int fd : fds) {
      EXPECT_NE(ReadAnswer(fd).find("200 OK"), std::string::npos);
    }
    const std::vector<size_t> loads = core.loads();
    ASSERT_EQ(loads.size(), loops);
    size_t total = 0;
    for (const size_t load : loads) {
      total += load;
      // Within one of an even share (16 over 3: 5 or 6 each).
      EXPECT_LE(load, kConnections / loops + 1) << loops << " loops";
      EXPECT_GE(load + 1, kConnections / loops) << loops << " loops";
    }
    EXPECT_EQ(total, kConnections);
    for (const int fd : fds) close(fd);
    // Closed connections leave the loads (bounded poll, not a speed).
    const auto deadline = SteadyClock::now() + kPatience;
    while (SteadyClock::now() < deadline) {
      size_t left = 0;
      for (const size_t load : core.loads()) left += load;
      if (left == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (const size_t load : core.loads()) EXPECT_EQ(load, 0u);
    core.Stop();
  }
}

TEST(EventCoreTest, TenThousandKeepAliveConnectionsAndASenderIsAnswered) {
  constexpr size_t kConnections = 10000;
  constexpr rlim_t kNeed = kConnections + 512;
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < kNeed) {
    GTEST_SKIP() << "the descriptor hard limit (" << limit.rlim_max
                 << ") is below the " << kNeed << " this test needs";
  }
  const rlimit before = limit;
  limit.rlim_cur = std::max<rlim_t>(limit.rlim_cur, kNeed);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0) << std::strerror(errno);
  struct Restore {
    rlimit limit;
    ~Restore() { setrlimit(RLIMIT_NOFILE, &limit); }
  } restore{before};

  int up[2];    // Child -> parent: the port, then the traffic figures.
  int down[2];  // Parent -> child: a byte (or EOF) to stop.
  ASSERT_EQ(pipe2(up, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(down, O_CLOEXEC), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    close(up[0]);
    close(down[1]);
    int code = 1;
    {
      HttpReceiverOptions o;
      o.core = ServerCore::kEvent;
      o.max_connections = kConnections + 16;
      o.keep_alive_timeout = std::chrono::seconds(300);
      MockReceiver receiver(ReceiverOptions{"test", {}, nullptr},
                            Behavior(R"({"status":200})"), Random(7));
      HttpReceiverServer server(receiver, o);
      if (server.Start().ok()) {
        const int port = server.port();
        if (write(up[1], &port, sizeof(port)) == sizeof(port)) {
          char byte;
          [[maybe_unused]] const ssize_t n = read(down[0], &byte, 1);
          const ServerTraffic t = server.traffic();
          const uint64_t figures[2] = {t.peak_open_connections,
                                       t.connections_over_limit};
          if (write(up[1], figures, sizeof(figures)) == sizeof(figures)) {
            code = 0;
          }
        }
        server.Stop();
      }
    }
    _exit(code);
  }
  close(up[1]);
  close(down[0]);
  // However the test ends: the child is told to stop and waited for.
  struct Reap {
    pid_t child;
    int up, down;
    ~Reap() {
      if (down >= 0) close(down);
      close(up);
      int status = 0;
      waitpid(child, &status, 0);
    }
  } reap{child, up[0], down[1]};
  auto read_all = [&](void* out, size_t size) {
    pollfd p{reap.up, POLLIN, 0};
    if (poll(&p, 1, 60000) <= 0) return false;
    return read(reap.up, out, size) == static_cast<ssize_t>(size);
  };
  int port = 0;
  ASSERT_TRUE(read_all(&port, sizeof(port))) << "the server did not start";

  std::vector<int> fds;
  fds.reserve(kConnections);
  struct CloseAll {
    std::vector<int>& fds;
    ~CloseAll() {
      for (int fd : fds) close(fd);
    }
  } close_all{fds};
  // In batches: connect, send, then read each answer (bounded).
  constexpr size_t kBatch = 500;
  for (size_t start = 0; start < kConnections; start += kBatch) {
    const size_t end = std::min(kConnections, start + kBatch);
    for (size_t i = start; i < end; ++i) {
      const int fd = Connect(port);
      ASSERT_GE(fd, 0) << "connection " << i << ": " << std::strerror(errno);
      fds.push_back(fd);
      ASSERT_TRUE(SendAll(fd, Post("/hook", "k" + std::to_string(i)),
                          std::chrono::milliseconds(5000)));
    }
    for (size_t i = start; i < end; ++i) {
      ASSERT_EQ(ReadAnswer(fds[i]).rfind("HTTP/1.1 200 OK\r\n", 0), 0u)
          << "connection " << i;
    }
  }
  // Every connection is still open (keep-alive): none has been closed.
  size_t open = 0;
  for (int fd : fds) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) == 0) ++open;
  }
  EXPECT_EQ(open, kConnections);
  // A new sender is answered while they are all open.
  const std::string answer = Exchange(port, Post("/hook", "sender"));
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  // And one of the old connections still serves.
  ASSERT_TRUE(SendAll(fds[kConnections / 2], Post("/hook", "again"),
                      std::chrono::milliseconds(5000)));
  EXPECT_EQ(ReadAnswer(fds[kConnections / 2]).rfind("HTTP/1.1 200 OK\r\n", 0),
            0u);
  ASSERT_EQ(write(reap.down, "x", 1), 1);
  uint64_t figures[2] = {0, 0};
  ASSERT_TRUE(read_all(figures, sizeof(figures)));
  EXPECT_GE(figures[0], kConnections);  // Peak open connections.
  EXPECT_EQ(figures[1], 0u);            // None closed for the limit.
}

}  // namespace
}  // namespace hooksim
