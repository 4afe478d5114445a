// Loopback tests of the HTTP mock receiver: real sockets on kernel-chosen
// ports, cpp-httplib clients and raw sockets. Nothing here depends on the
// machine's speed: waits are bounded polls of a condition, and timing
// assertions are lower bounds the server guarantees.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/connection_faults.h"
#include "mock-receivers/http/http_receiver_server.h"

namespace hooksim {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// Generous bound for anything the tests wait for; reaching it is a failure,
// never a timing assumption.
constexpr auto kPatience = std::chrono::seconds(10);

BehaviorSpec Behavior(const std::string& text) {
  Result<BehaviorSpec> spec = ParseBehavior(json::parse(text), "");
  EXPECT_TRUE(spec.ok()) << spec.error().ToString();
  return spec.ok() ? *spec : BehaviorSpec{};
}

// Polls `condition` until it holds or kPatience has passed.
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = SteadyClock::now() + kPatience;
  while (SteadyClock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return condition();
}

// A receiver and its server on a kernel-chosen port, stopped on scope exit.
struct Running {
  explicit Running(const std::string& behavior,
                   HttpReceiverOptions options = {})
      : receiver(ReceiverOptions{"test", {}, nullptr}, Behavior(behavior),
                 Random(7)),
        server(receiver, std::move(options)) {
    const Status s = server.Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~Running() { server.Stop(); }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", server.port());
    client.set_tcp_nodelay(true);
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(5));
    client.set_write_timeout(std::chrono::seconds(5));
    return client;
  }

  std::vector<JournalEntry> Journal() const {
    std::vector<JournalEntry> out;
    receiver.WithJournal([&](const hooksim::Journal& j) { out = j.Recent(); });
    return out;
  }

  MockReceiver receiver;
  HttpReceiverServer server;
};

// A raw TCP client: the test sees exactly the bytes (and errors) the
// server produces.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~RawClient() { Close(); }

  bool connected() const { return connected_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool Send(std::string_view bytes) {
    return SendAll(fd_, bytes, std::chrono::milliseconds(5000));
  }

  // What reading until EOF gave: the bytes, each recv's size, and the
  // errno that ended it (0 for a clean EOF, ETIMEDOUT when kPatience ran
  // out).
  struct ReadResult {
    std::string bytes;
    std::vector<size_t> chunks;
    int error = 0;
  };
  ReadResult ReadToEnd() {
    ReadResult r;
    const auto deadline = SteadyClock::now() + kPatience;
    char buf[4096];
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - SteadyClock::now());
      if (left.count() <= 0) {
        r.error = ETIMEDOUT;
        return r;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n == 0) return r;
      if (n < 0) {
        r.error = errno;
        return r;
      }
      r.bytes.append(buf, static_cast<size_t>(n));
      r.chunks.push_back(static_cast<size_t>(n));
    }
  }
  // True when nothing (not even EOF) arrives within `wait`.
  bool Silent(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, static_cast<int>(wait.count())) == 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string Post(const std::string& delivery, const std::string& body = "{}") {
  return "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         "Content-Type: application/json\r\n"
         "X-Hooksim-Delivery: " +
         delivery +
         "\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

httplib::Headers DeliveryHeaders(const std::string& id) {
  return {{"X-Hooksim-Delivery", id}};
}

// The accept-queue limit of the IPv4 TCP listener on `port`, from the
// kernel's socket diagnostics (what `ss -lt` shows as Send-Q), or -1 when
// the kernel does not tell.
int64_t ListenBacklog(int port) {
  const int fd =
      socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  const timeval patience{static_cast<time_t>(kPatience.count()), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request.sdiag_family = AF_INET;
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = 1u << 10;  // TCP_LISTEN only.
  int64_t backlog = -1;
  if (send(fd, &message, sizeof(message), 0) ==
      static_cast<ssize_t>(sizeof(message))) {
    alignas(nlmsghdr) char buf[32768];
    bool done = false;
    // Bounded: a dump of the host's listeners ends with NLMSG_DONE.
    for (int round = 0; !done && round < 1000; ++round) {
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
          done = true;
          break;
        }
        const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
        if (ntohs(m->id.idiag_sport) == port) backlog = m->idiag_wqueue;
      }
    }
  }
  close(fd);
  return backlog;
}

// cpp-httplib listens with a backlog of 5. A sender opening a connection
// per worker at once (16 by default) overflows that whenever the accept
// thread is not scheduled at once: the kernel drops the handshake's last
// step, the client sends its request into a connection the server knows
// nothing of yet, and the request arrives a second or more later (after
// a SYN-ACK retransmission), past any compressed timeout. The receiver
// widens the queue; this checks the kernel's view of it, not speed.
TEST(HttpReceiverTest, ListenQueueHoldsABurstOfConnections) {
  Running r(R"({"status": 200})");
  const int64_t backlog = ListenBacklog(r.server.port());
  if (backlog < 0) GTEST_SKIP() << "the kernel gave no socket diagnostics";
  int64_t somaxconn = 128;
  std::ifstream("/proc/sys/net/core/somaxconn") >> somaxconn;
  EXPECT_GE(backlog, std::min<int64_t>(somaxconn, 128));
}

TEST(HttpReceiverTest, SequencePerDeliveryOverHttp) {
  Running r(R"({"sequence": [503, 503, 200], "per": "delivery"})");
  httplib::Client client = r.Client();
  std::vector<int> statuses;
  for (int i = 0; i < 3; ++i) {
    auto res = client.Post("/hook", DeliveryHeaders("dlv_a"), "{}",
                           "application/json");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    statuses.push_back(res->status);
    // Byte for byte, as the README gives them.
    EXPECT_EQ(res->body, res->status == 200 ? R"({"ok":true})"
                                            : R"({"status":503})");
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  }
  EXPECT_EQ(statuses, (std::vector<int>{503, 503, 200}));
  // Another delivery starts its own sequence.
  auto res =
      client.Post("/hook", DeliveryHeaders("dlv_b"), "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  const std::vector<JournalEntry> journal = r.Journal();
  ASSERT_EQ(journal.size(), 4u);
  EXPECT_EQ(journal[2].delivery_key, "dlv_a");
  EXPECT_EQ(journal[2].delivery_attempt, 3);
  EXPECT_EQ(journal[3].delivery_attempt, 1);
  EXPECT_EQ(journal[0].method, "POST");
  EXPECT_EQ(journal[0].content_type, "application/json");
}

TEST(HttpReceiverTest, AnyPathAndMethodIsAWebhookAndRedirectsAreNotFollowed) {
  Running r(R"({"status": 302})");
  httplib::Client client = r.Client();
  auto res = client.Put("/other/path?x=1", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 302);
  EXPECT_FALSE(res->get_header_value("Location").empty());
  res = client.Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 302);
  const std::vector<JournalEntry> journal = r.Journal();
  ASSERT_EQ(journal.size(), 2u);  // The redirect was not followed.
  EXPECT_EQ(journal[0].method, "PUT");
  EXPECT_EQ(journal[0].target, "/other/path?x=1");
  EXPECT_EQ(journal[1].method, "GET");
}

TEST(HttpReceiverTest, ResetIsAnRst) {
  Running r(R"({"fault": "reset"})");
  RawClient c(r.server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Post("dlv_r")));
  const RawClient::ReadResult got = c.ReadToEnd();
  EXPECT_EQ(got.error, ECONNRESET);
  EXPECT_TRUE(got.bytes.empty());
}

TEST(HttpReceiverTest, EmptyIsEofWithNoByte) {
  Running r(R"({"fault": "empty"})");
  RawClient c(r.server.port());
  ASSERT_TRUE(c.Send(Post("dlv_e")));
  const RawClient::ReadResult got = c.ReadToEnd();
  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.bytes, "");
}

TEST(HttpReceiverTest, GarbageIsNonHttpBytesThenEof) {
  Running r(R"({"fault": "garbage"})");
  RawClient c(r.server.port());
  ASSERT_TRUE(c.Send(Post("dlv_g")));
  const RawClient::ReadResult got = c.ReadToEnd();
  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.bytes, std::string(kGarbageBytes));
  EXPECT_NE(got.bytes.substr(0, 5), "HTTP/");
}

TEST(HttpReceiverTest, HangAnswersNothingUntilTheClientClosesAndServesOthers) {
  Running r(R"({"sequence": ["hang", 200], "per": "receiver"})");
  RawClient hung(r.server.port());
  ASSERT_TRUE(hung.Send(Post("dlv_h")));
  ASSERT_TRUE(Eventually([&] { return r.Journal().size() == 1; }));
  EXPECT_TRUE(hung.Silent(std::chrono::milliseconds(100)));
  // Another client is served meanwhile.
  auto res = r.Client().Post("/hook", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  hung.Close();
  // The hang ends when its peer goes: the sender never got an answer.
  EXPECT_TRUE(Eventually([&] { return r.Journal()[0].abandoned; }));
}

TEST(HttpReceiverTest, DribbleSpreadsTheAnswerOverTheLatency) {
  Running r(R"({"fault": "dribble", "latency": {"fixed_ms": 300}})");
  RawClient c(r.server.port());
  const auto start = SteadyClock::now();
  ASSERT_TRUE(c.Send(Post("dlv_d")));
  const RawClient::ReadResult got = c.ReadToEnd();
  const auto elapsed = SteadyClock::now() - start;
  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.bytes.substr(0, 17), "HTTP/1.1 200 OK\r\n");
  EXPECT_NE(got.bytes.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(got.bytes.substr(got.bytes.size() - 11), R"({"ok":true})");
  // The parts are sent 20 ms apart: they arrive in several reads, and the
  // last not before the latency (a lower bound the server guarantees).
  EXPECT_GT(got.chunks.size(), 1u);
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
  // A cpp-httplib client reads it as a plain 200.
  auto res = r.Client().Post("/hook", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"ok":true})");
}

TEST(HttpReceiverTest, A2xxWhosePeerLeftIsAbandoned) {
  Running r(R"({"status": 200, "latency": {"fixed_ms": 200}})");
  {
    RawClient c(r.server.port());
    ASSERT_TRUE(c.Send(Post("dlv_x")));
    ASSERT_TRUE(Eventually([&] { return r.Journal().size() == 1; }));
  }  // Closed before the latency is over.
  ASSERT_TRUE(Eventually([&] { return r.Journal()[0].abandoned; }));
  r.receiver.WithJournal([](const Journal& j) {
    EXPECT_EQ(j.abandoned(), 1u);
    EXPECT_EQ(j.deliveries().at("dlv_x").success_attempt(), 0);
  });
}

TEST(HttpReceiverTest, GarbageRequestsDoNotStopTheServer) {
  Running r(R"({"status": 200})");
  for (std::string_view junk :
       {std::string_view("\x16\x03\x01\x00\xff\xfe\r\n\r\n", 10),
        std::string_view("GET\r\n\r\n"),
        std::string_view("POST /hook HTTP/1.1\r\nTransfer-Encoding: chunked"
                         "\r\n\r\nZZZ\r\n\r\n"),
        std::string_view("NOTAMETHOD / HTTP/1.1\r\n\r\n")}) {
    RawClient c(r.server.port());
    ASSERT_TRUE(c.Send(junk));
    const RawClient::ReadResult got = c.ReadToEnd();  // 400 or a close.
    EXPECT_NE(got.error, ETIMEDOUT);
  }
  auto res = r.Client().Post("/hook", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(HttpReceiverTest, OversizedBodyIs413) {
  HttpReceiverOptions options;
  options.max_body_bytes = 1024;
  Running r(R"({"status": 200})", options);
  auto res =
      r.Client().Post("/hook", std::string(4096, 'x'), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_NE(res->body.find("error"), std::string::npos);
  // Recorded as refused, with what was known of it: no delivery counted.
  const std::vector<JournalEntry> journal = r.Journal();
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal[0].refusal, Refusal::kTooLarge);
  EXPECT_EQ(journal[0].reply.answer.status, 413);
  EXPECT_EQ(journal[0].method, "POST");
  EXPECT_EQ(journal[0].target, "/hook");
  EXPECT_EQ(journal[0].body_size, 4096u);
  EXPECT_TRUE(journal[0].body.empty());
  r.receiver.WithJournal([](const Journal& j) {
    EXPECT_EQ(j.refused(), 1u);
    EXPECT_EQ(j.total_requests(), 1u);
    EXPECT_EQ(j.deliveries().size(), 0u);
  });
}

TEST(HttpReceiverTest, StopWakesSleepingAndHangingHandlers) {
  auto r = std::make_unique<Running>(
      R"({"sequence": [200, "hang"], "per": "receiver",
          "latency": {"fixed_ms": 3600000}})");
  RawClient sleeping(r->server.port());
  RawClient hanging(r->server.port());
  ASSERT_TRUE(sleeping.Send(Post("dlv_1")));
  ASSERT_TRUE(Eventually([&] { return r->Journal().size() == 1; }));
  ASSERT_TRUE(hanging.Send(Post("dlv_2")));
  ASSERT_TRUE(Eventually([&] { return r->Journal().size() == 2; }));
  r->server.Stop();  // Would take an hour if the sleeper were not woken.
  EXPECT_EQ(sleeping.ReadToEnd().error, 0);  // Closed with no answer.
  EXPECT_EQ(hanging.ReadToEnd().error, 0);
  r.reset();
}

TEST(HttpReceiverTest, AdminApiOverHttp) {
  Running r(R"({"status": 503})");
  httplib::Client client = r.Client();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Post("/hook",
                            DeliveryHeaders("dlv_" + std::to_string(i)), "{}",
                            "application/json"));
  }
  auto res = client.Get("/__hooksim/requests?limit=2");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  json requests = json::parse(res->body);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1]["delivery"]["key"], "dlv_2");  // Newest last.

  res = client.Get("/__hooksim/stats");
  ASSERT_TRUE(res);
  json stats = json::parse(res->body);
  EXPECT_EQ(stats["requests"], 3);
  EXPECT_EQ(stats["answers"]["503"], 3);
  EXPECT_EQ(stats["deliveries"], 3);

  res = client.Put("/__hooksim/behavior", R"({"status": 201})",
                   "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  res = client.Post("/hook", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201);

  // `curl -X PUT -d '{...}'` sends the behaviour form-encoded: the body is
  // still the behaviour, not a query parameter.
  res = client.Put("/__hooksim/behavior", R"({"status": 202})",
                   "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  res = client.Post("/hook", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202);
  res = client.Get("/__hooksim/requests?limit=1&");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body).size(), 1u) << res->body;
  res = client.Get("/__hooksim/requests?lim%69t=1");  // Percent-decoded.
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body).size(), 1u) << res->body;

  res = client.Put("/__hooksim/behavior", R"({"status": )", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(
      json::parse(res->body)["error"].get<std::string>().find("invalid JSON"),
      std::string::npos);
  res = client.Put("/__hooksim/behavior", R"({"sequence": [200, 700]})",
                   "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["error"].get<std::string>().rfind(
                "/sequence/1: ", 0),
            0u)
      << res->body;

  res = client.Post("/__hooksim/reset", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(r.Journal().empty());

  res = client.Get("/__hooksim/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_TRUE(json::parse(res->body).contains("error"));
  res = client.Delete("/__hooksim/stats");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET");
  EXPECT_TRUE(r.Journal().empty());  // Admin requests are not journaled.
}

TEST(HttpReceiverTest, AnUsedPortIsAnErrorNamingTheAddress) {
  Running first(R"({"status": 200})");
  MockReceiver receiver(ReceiverOptions{"second", {}, nullptr}, BehaviorSpec{},
                        Random(1));
  HttpReceiverOptions options;
  options.port = first.server.port();
  HttpReceiverServer second(receiver, options);
  const Status s = second.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(
      s.message().find("127.0.0.1:" + std::to_string(options.port) + ": "),
      std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();
}

TEST(HttpReceiverTest, ScaledTimeDrivesLatencyAndTheJournalClock) {
  HttpReceiverOptions options;
  options.time_scale = 0.001;  // One run second is one wall millisecond.
  Running r(R"({"status": 200, "latency": {"fixed_ms": 60000}})", options);
  const auto start = SteadyClock::now();
  auto res = r.Client().Post("/hook", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_GE(SteadyClock::now() - start, std::chrono::milliseconds(60));
  EXPECT_EQ(r.Journal()[0].reply.latency, std::chrono::seconds(60));
}

}  // namespace
}  // namespace hooksim

namespace hooksim {
namespace {

// The HTTP server applies the behaviour's signature check: 401 with the
// reason in the body, 200 for the Standard Webhooks vector.
TEST(HttpReceiverSignatureTest, Answers401WithTheReasonAndJournalsIt) {
  ReceiverOptions ropts{"signed", {}, nullptr};
  ropts.unix_origin = std::chrono::seconds(1614265330);
  MockReceiver receiver(
      ropts,
      Behavior(R"({"status": 200,
                   "verify_signature": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})"),
      Random(7));
  HttpReceiverOptions hopts;
  hopts.now = [] { return TimePoint{}; };  // Unix now = the vector's time.
  HttpReceiverServer server(receiver, hopts);
  ASSERT_TRUE(server.Start().ok());
  struct Stop {
    HttpReceiverServer& s;
    ~Stop() { s.Stop(); }
  } stop{server};
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(5));
  const std::string body = R"({"test": 2432232314})";
  httplib::Headers headers = {
      {"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
      {"webhook-timestamp", "1614265330"},
      {"webhook-signature",
       "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}};
  auto good = client.Post("/hook", headers, body, "application/json");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200);

  headers.erase("webhook-signature");
  headers.emplace("webhook-signature", "v1,AAAA");
  auto bad = client.Post("/hook", headers, body, "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_EQ(json::parse(bad->body).at("signature"), "bad");

  auto missing = client.Post("/hook", body, "application/json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(json::parse(missing->body).at("signature"), "missing");

  auto stats = client.Get("/__hooksim/stats");
  ASSERT_TRUE(stats);
  const json s = json::parse(stats->body);
  EXPECT_EQ(s.at("signatures_checked"), 3);
  EXPECT_EQ(s.at("signature_failures"), 2);
}

}  // namespace
}  // namespace hooksim
