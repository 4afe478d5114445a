// The HTTP receiver's request framing and limits, over real loopback
// sockets (issue 13): request smuggling shapes (RFC 9112 6.3) get 400 and a
// close, and what was smuggled behind them never runs; heads over the size
// or field-count limit get 431; bodies over --max-body-bytes, chunked or
// not, get 413 before they are read; bodiless POSTs are served; methods
// cpp-httplib does not route get 405 with Allow; the admin token; answers
// the peer never read count as abandoned; journal pages keep RSS flat.
//
// No test depends on the machine's speed: every wait is bounded by a
// generous kPatience and ends as soon as the awaited thing happens.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/http/request_framer.h"
#include "mock-receivers/receiver.h"
#include "sim/base/random.h"
#include "tests/loopback_servers.h"

namespace hooksim {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kPatience = std::chrono::seconds(30);

using testing::Connect;
using testing::ReadUntilClosed;
using testing::SendAll;

BehaviorSpec Behavior(const std::string& text) {
  Result<BehaviorSpec> spec = ParseBehavior(nlohmann::json::parse(text), "");
  EXPECT_TRUE(spec.ok());
  return spec.ok() ? *spec : BehaviorSpec{};
}

struct Running {
  explicit Running(HttpReceiverOptions options = {},
                   const std::string& behavior = "{}",
                   size_t journal_capacity = 1024)
      : receiver(ReceiverOptions{"framing", {journal_capacity}, nullptr},
                 Behavior(behavior), Random(1)),
        server(receiver, options) {
    const Status status = server.Start();
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
  ~Running() { server.Stop(); }

  // Requests that reached the behaviour (refused ones are journaled too,
  // as refusals).
  uint64_t Requests() {
    uint64_t n = 0;
    receiver.WithJournal(
        [&](const Journal& j) { n = j.total_requests() - j.refused(); });
    return n;
  }
  uint64_t Abandoned() {
    uint64_t n = 0;
    receiver.WithJournal([&](const Journal& j) { n = j.abandoned(); });
    return n;
  }

  MockReceiver receiver;
  HttpReceiverServer server;
};

// One exchange: sends `request` (without closing the writing side: the
// server must close by itself), returns what came back before the close.
std::string Exchange(int port, std::string_view request) {
  const int fd = Connect(port);
  SendAll(fd, request);
  std::string answer;
  EXPECT_TRUE(ReadUntilClosed(fd, &answer))
      << "the server did not close the connection";
  close(fd);
  return answer;
}

size_t Count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

constexpr char kPing[] = R"({"event":"ping","data":{}})";

std::string Post(const std::string& target, const std::string& extra_headers,
                 const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + extra_headers +
         "\r\n" + body;
}

constexpr char kSmuggledReset[] =
    "POST /__hooksim/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";

TEST(ReceiverFramingTest, SmugglingShapesGet400AndCloseAndNothingBehindRuns) {
  Running r;
  httplib::Client client("127.0.0.1", r.server.port());
  for (int i = 0; i < 4; ++i) {
    const auto res = client.Post("/hook", kPing, "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
  }
  ASSERT_EQ(r.Requests(), 4u);
  const std::string body = "0\r\n\r\n";
  const struct {
    const char* name;
    std::string request;
  } cases[] = {
      {"CL then TE",
       Post("/hook", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            body) + kSmuggledReset},
      {"TE then CL",
       Post("/hook", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            body) + kSmuggledReset},
      {"two different Content-Length",
       Post("/hook", "Content-Length: 0\r\nContent-Length: 67\r\n", "") +
           kSmuggledReset},
      {"two equal Content-Length",
       Post("/hook", "Content-Length: 0\r\nContent-Length: 0\r\n", "") +
           kSmuggledReset},
      {"Content-Length list", Post("/hook", "Content-Length: 0, 0\r\n", "") +
                                  kSmuggledReset},
      {"xchunked", Post("/hook", "Transfer-Encoding: xchunked\r\n", body) +
                       kSmuggledReset},
      {"gzip, chunked",
       Post("/hook", "Transfer-Encoding: gzip, chunked\r\n", body) +
           kSmuggledReset},
      {"chunked twice",
       Post("/hook",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            body) + kSmuggledReset},
      {"identity", Post("/hook", "Transfer-Encoding: identity\r\n", "") +
                       kSmuggledReset},
      {"signed Content-Length",
       Post("/hook", "Content-Length: +0\r\n", "") + kSmuggledReset},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string answer = Exchange(r.server.port(), c.request);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer.substr(0, 80);
    EXPECT_EQ(Count(answer, "HTTP/1.1 "), 1u) << "one answer, then a close";
    EXPECT_NE(answer.find("Connection: close"), std::string::npos);
    // Neither the refused request nor the smuggled reset ran.
    EXPECT_EQ(r.Requests(), 4u);
  }
}

TEST(ReceiverFramingTest, ChunkedBodiesAreDecodedAndServed) {
  Running r;
  const int fd = Connect(r.server.port());
  // "Chunked" in any case is the one coding allowed; with chunk extensions
  // and a trailer; then a second request on the same connection.
  const std::string ping = kPing;
  const std::string request =
      Post("/hook", "Transfer-Encoding: Chunked\r\nContent-Type: application/json\r\n",
           "5;ext=1\r\n" + ping.substr(0, 5) + "\r\n" +
               std::to_string(0) + "\r\n\r\n") ;
  // The body above is 5 bytes; send the full ping in hex-sized chunks too.
  char size_hex[16];
  std::snprintf(size_hex, sizeof(size_hex), "%zx", ping.size());
  const std::string second = Post(
      "/hook", "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n",
      std::string(size_hex) + "\r\n" + ping + "\r\n0\r\nX-Trailer: 1\r\n\r\n");
  ASSERT_TRUE(SendAll(fd, request + second));
  std::string answer;
  const auto deadline = SteadyClock::now() + kPatience;
  char buf[4096];
  while (Count(answer, "HTTP/1.1 200") < 2 && SteadyClock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  EXPECT_EQ(Count(answer, "HTTP/1.1 200"), 2u) << answer;
  std::vector<JournalEntry> entries;
  r.receiver.WithJournal([&](const Journal& j) { entries = j.Recent(); });
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].body_size, 5u);
  EXPECT_EQ(entries[1].body_size, ping.size());
}

TEST(ReceiverFramingTest, HeadsOverTheLimitGet431AndClose) {
  HttpReceiverOptions options;
  options.max_head_bytes = 8 << 10;
  Running r(options);
  std::string big;
  for (int i = 0; i < 60; ++i) {
    big += "X-Filler-" + std::to_string(i) + ": " + std::string(200, 'a') + "\r\n";
  }
  std::string answer =
      Exchange(r.server.port(), Post("/hook", big + "Content-Length: 0\r\n", ""));
  EXPECT_EQ(answer.rfind("HTTP/1.1 431 ", 0), 0u) << answer.substr(0, 80);
  EXPECT_NE(answer.find("larger than 8192 bytes"), std::string::npos);

  std::string many;
  for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
  answer = Exchange(r.server.port(),
                    Post("/hook", many + "Content-Length: 0\r\n", "") +
                        kSmuggledReset);
  EXPECT_EQ(answer.rfind("HTTP/1.1 431 ", 0), 0u) << answer.substr(0, 80);
  EXPECT_NE(answer.find("more than 100 header fields"), std::string::npos);
  EXPECT_EQ(Count(answer, "HTTP/1.1 "), 1u);
  EXPECT_EQ(r.Requests(), 0u);

  // 100 fields (with Host, Content-Length, Connection) are fine.
  std::string fine;
  for (int i = 0; i < 97; ++i) fine += "X-" + std::to_string(i) + ": 1\r\n";
  const int fd = Connect(r.server.port());
  SendAll(fd, Post("/hook", fine + "Content-Length: 0\r\nConnection: close\r\n", ""));
  answer.clear();
  ReadUntilClosed(fd, &answer);
  close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0u) << answer.substr(0, 80);
}

TEST(ReceiverFramingTest, BodiesOverTheLimitGet413BeforeTheyAreRead) {
  HttpReceiverOptions options;
  options.max_body_bytes = 1 << 20;
  Running r(options);
  // A Content-Length over the limit: 413 at once, though no body byte was
  // sent (the server does not wait for, or read, the body).
  std::string answer = Exchange(
      r.server.port(), Post("/hook", "Content-Length: 10000000\r\n", ""));
  EXPECT_EQ(answer.rfind("HTTP/1.1 413 ", 0), 0u) << answer.substr(0, 80);
  // A chunk announced over the limit: 413 at once, no chunk byte sent.
  answer = Exchange(r.server.port(),
                    Post("/hook", "Transfer-Encoding: chunked\r\n",
                         "100001\r\n"));
  EXPECT_EQ(answer.rfind("HTTP/1.1 413 ", 0), 0u) << answer.substr(0, 80);
  EXPECT_NE(answer.find("larger than 1048576 bytes"), std::string::npos);
  // Chunks that pass the limit together: 413 as soon as they do; the
  // client is still sending (9 MiB in 64 KiB chunks) and gets the answer.
  std::string chunked;
  const std::string chunk(64 << 10, 'x');
  for (int i = 0; i < 144; ++i) chunked += "10000\r\n" + chunk + "\r\n";
  chunked += "0\r\n\r\n";
  {
    const int fd = Connect(r.server.port());
    std::thread writer([&] {
      SendAll(fd, Post("/hook", "Transfer-Encoding: chunked\r\n", chunked));
    });
    answer.clear();
    EXPECT_TRUE(ReadUntilClosed(fd, &answer));
    shutdown(fd, SHUT_RDWR);
    writer.join();
    close(fd);
  }
  EXPECT_EQ(answer.rfind("HTTP/1.1 413 ", 0), 0u) << answer.substr(0, 80);
  EXPECT_EQ(r.Requests(), 0u);
  // At the limit exactly: served.
  chunked.clear();
  for (int i = 0; i < 16; ++i) chunked += "10000\r\n" + chunk + "\r\n";
  chunked += "0\r\n\r\n";
  answer = Exchange(r.server.port(),
                    Post("/hook",
                         "Transfer-Encoding: chunked\r\nConnection: close\r\n",
                         chunked));
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0u) << answer.substr(0, 80);
  EXPECT_EQ(r.Requests(), 1u);
}

TEST(ReceiverFramingTest, BodilessPostResetsAndUnroutedMethodsGet405) {
  Running r;
  httplib::Client client("127.0.0.1", r.server.port());
  ASSERT_TRUE(client.Post("/hook", kPing, "application/json"));
  ASSERT_EQ(r.Requests(), 1u);
  // What `curl -X POST URL` sends: no Content-Length, no body.
  std::string answer = Exchange(
      r.server.port(),
      "POST /__hooksim/reset HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0u) << answer.substr(0, 80);
  EXPECT_EQ(r.Requests(), 0u);
  // A method cpp-httplib does not route: 405 with the route's Allow.
  answer = Exchange(r.server.port(),
                    "FOO /__hooksim/reset HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 405 ", 0), 0u) << answer.substr(0, 80);
  EXPECT_NE(answer.find("Allow: POST\r\n"), std::string::npos);
  answer = Exchange(r.server.port(), "TRACE /hook HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 405 ", 0), 0u) << answer.substr(0, 80);
  EXPECT_NE(answer.find("Allow: GET, HEAD, POST"), std::string::npos);
  // A routed method on the wrong admin route: 405 too.
  const auto res = client.Delete("/__hooksim/reset");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "POST");
}

TEST(ReceiverFramingTest, AdminTokenIsRequiredWhenSet) {
  HttpReceiverOptions options;
  options.admin_token = "s3cret";
  Running r(options);
  httplib::Client client("127.0.0.1", r.server.port());
  auto res = client.Get("/__hooksim/stats");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_NE(res->get_header_value("WWW-Authenticate").find("Bearer"),
            std::string::npos);
  res = client.Post("/__hooksim/reset", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  res = client.Get("/__hooksim/stats",
                   httplib::Headers{{"Authorization", "Bearer s3cres"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  res = client.Get("/__hooksim/stats",
                   httplib::Headers{{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  // The webhook endpoint needs no token.
  res = client.Post("/hook", kPing, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// Waits (bounded) until pred() holds.
template <typename Pred>
bool Eventually(Pred pred) {
  const auto deadline = SteadyClock::now() + kPatience;
  while (SteadyClock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

TEST(ReceiverFramingTest, A2xxWrittenAfterThePeerClosedIsAbandoned) {
  // One serving thread, held by a hanging request: the next connection's
  // request waits, as it does while a receiver is paused (SIGSTOP). Its
  // sender gives up and closes; once served, the 2xx has no reader.
  // Threads only: the event core needs no serving thread to answer a
  // webhook, so a hang cannot hold the next request back (its check of a
  // peer that left during a latency is A2xxWhosePeerLeftIsAbandoned).
  HttpReceiverOptions options;
  options.core = ServerCore::kThreads;
  options.threads = 1;
  Running r(options, R"({"sequence": ["hang", 200], "per": "receiver"})");
  auto post = [](const std::string& id) {
    return "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           "X-Hooksim-Delivery: " + id + "\r\nContent-Length: " +
           std::to_string(std::strlen(kPing)) + "\r\n\r\n" + kPing;
  };
  const int hanging = Connect(r.server.port());
  ASSERT_TRUE(SendAll(hanging, post("dlv_hang")));
  ASSERT_TRUE(Eventually([&] { return r.Requests() == 1; }));
  const int late = Connect(r.server.port());
  ASSERT_TRUE(SendAll(late, post("dlv_late")));
  close(late);  // The sender's timeout: it stops waiting.
  close(hanging);  // Frees the serving thread.
  ASSERT_TRUE(Eventually([&] { return r.Requests() == 2; }));
  ASSERT_TRUE(Eventually([&] { return r.Abandoned() == 2; }))
      << "abandoned: " << r.Abandoned();
  r.receiver.WithJournal([&](const Journal& j) {
    for (const auto& entry : j.deliveries()) {
      EXPECT_EQ(entry.second.success_attempt(), 0) << "nothing was delivered";
    }
  });
}

TEST(ReceiverFramingTest, A2xxThePeerNeverReadIsAbandoned) {
  Running r;
  const std::string request =
      "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "X-Hooksim-Delivery: dlv_unread\r\nContent-Length: " +
      std::to_string(std::strlen(kPing)) + "\r\n\r\n" + kPing;
  const int fd = Connect(r.server.port());
  ASSERT_TRUE(SendAll(fd, request));
  // The answer has arrived; the peer closes without reading it (an RST).
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 30'000), 1);
  close(fd);
  ASSERT_TRUE(Eventually([&] { return r.Abandoned() == 1; }))
      << "abandoned: " << r.Abandoned();
  // A peer that reads its answer: delivered, not abandoned.
  httplib::Client client("127.0.0.1", r.server.port());
  const auto res = client.Post("/hook", kPing, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  client.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(r.Abandoned(), 1u);
}

size_t RssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

TEST(ReceiverFramingTest, JournalPagesStreamAndKeepRssFlat) {
  constexpr size_t kEntries = 30'000;
  Running r({}, "{}", kEntries);
  for (size_t i = 0; i < kEntries; ++i) {
    // Header holds views: the id must outlive the request.
    const std::string id = "dlv_" + std::to_string(i);
    const std::vector<Header> headers = {{"X-Hooksim-Delivery", id}};
    const HttpRequest request{"POST", "/hook", headers, kPing};
    r.receiver.Handle(request, TimePoint{});
  }
  httplib::Client client("127.0.0.1", r.server.port());
  client.set_read_timeout(kPatience);
  // Default page: the newest 1000; over the maximum: refused.
  auto res = client.Get("/__hooksim/requests");
  ASSERT_TRUE(res);
  auto page = nlohmann::json::parse(res->body);
  ASSERT_EQ(page.size(), 1000u);
  EXPECT_EQ(page.back()["index"], kEntries - 1);
  res = client.Get("/__hooksim/requests?limit=10001");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("at most 10000"), std::string::npos);
  // Read the whole journal page by page, several times; RSS after the
  // first pass stays within a generous bound.
  auto read_all = [&] {
    uint64_t from = 0;
    size_t seen = 0;
    for (int pages = 0; pages < 100; ++pages) {
      auto got = client.Get("/__hooksim/requests?limit=10000&from=" +
                            std::to_string(from));
      if (!got || got->status != 200) return size_t{0};
      auto entries = nlohmann::json::parse(got->body);
      if (entries.empty()) break;
      EXPECT_EQ(got->get_header_value("Transfer-Encoding"), "chunked");
      EXPECT_EQ(entries.front()["index"], from);
      seen += entries.size();
      from = entries.back()["index"].get<uint64_t>() + 1;
    }
    return seen;
  };
  // Generous: before paging and streaming, each full read of this journal
  // left hundreds of MB behind. Under ASan freed memory sits in its
  // quarantine (256 MB) before it is reused, and a full read of the full
  // journal takes about 20 s: one more read there (it took 96 s with four,
  // past CTest's 300 s on a loaded machine).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr size_t kBoundKiB = 512 * 1024;
  constexpr int kRereads = 1;
#else
  constexpr size_t kBoundKiB = 64 * 1024;
  constexpr int kRereads = 4;
#endif
  ASSERT_EQ(read_all(), kEntries);
  const size_t before = RssKiB();
  for (int i = 0; i < kRereads; ++i) ASSERT_EQ(read_all(), kEntries);
  const size_t after = RssKiB();
  EXPECT_LT(after, before + kBoundKiB)
      << "RSS grew from " << before << " KiB to " << after << " KiB";
}

TEST(RequestFramerTest, RefusalsAndRewrites) {
  RequestFramerLimits limits;
  limits.max_body_bytes = 10;
  {
    RequestFramer f(limits);
    EXPECT_EQ(f.Feed("POST / HTTP/1.1\r\nHost: x\r\n"), FramerState::kNeedMore);
    EXPECT_EQ(f.Feed("Transfer-Encoding: chunked\r\n\r\n3\r\nab"),
              FramerState::kNeedMore);
    EXPECT_EQ(f.Feed("c\r\n0\r\n\r\nGET"), FramerState::kReady);
    EXPECT_EQ(f.TakeRequest(),
              "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET");
  }
  {
    RequestFramer f(limits);
    EXPECT_EQ(f.Feed("POST / HTTP/1.1\r\nHost: x\r\n\r\n"), FramerState::kReady);
    EXPECT_EQ(f.TakeRequest(),
              "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  }
  {
    RequestFramer f(limits);
    EXPECT_EQ(f.Feed("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"),
              FramerState::kBodyTooLarge);
    EXPECT_EQ(FramerStatus(f.state()), 413);
  }
  {
    RequestFramer f(limits);
    EXPECT_EQ(f.Feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                     "Expect: 100-continue\r\n\r\n"),
              FramerState::kNeedMore);
    EXPECT_TRUE(f.wants_continue());
    f.ContinueSent();
    EXPECT_FALSE(f.wants_continue());
    EXPECT_EQ(f.Feed("b\r\n"), FramerState::kBodyTooLarge);
  }
  {
    RequestFramer f(limits);
    EXPECT_EQ(f.Feed("GET / HTTP/1.1\r\nX: " + std::string(70 << 10, 'a')),
              FramerState::kHeadTooLarge);
    EXPECT_EQ(FramerStatus(f.state()), 431);
  }
  {
    RequestFramer f(limits);
    EXPECT_EQ(f.Feed("NOT A REQUEST\r\n\r\n"), FramerState::kBadRequest);
  }
  {
    // A head over the limit fed in parts (Beast consumes whole fields of
    // an incomplete head): measured whole.
    RequestFramerLimits small = limits;
    small.max_head_bytes = 100;
    RequestFramer f(small);
    EXPECT_EQ(f.Feed("GET / HTTP/1.1\r\nX-A: " + std::string(60, 'a') +
                     "\r\nX-B: "),
              FramerState::kNeedMore);
    EXPECT_EQ(f.Feed(std::string(30, 'b') + "\r\n\r\n"),
              FramerState::kHeadTooLarge);
  }
}

// What a framer says about one request, to compare two framers.
std::string DescribeFramed(RequestFramer& f, FramerState state) {
  std::string out = std::to_string(static_cast<int>(state)) + " " +
                    f.reason() + " " + f.method() + " " + f.target() + "\n";
  if (state != FramerState::kReady) return out;
  f.ForEachHeader([&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\n");
  });
  out += "body " + f.body() + "\nchunked " + std::to_string(f.chunked());
  out += "\nrequest " + f.TakeRequest();
  return out;
}

// The event core keeps one framer per connection and resets it between
// requests: each request must read as it does with a new framer, whatever
// came before (a refusal, fields past the arena's 2 KiB, a body whose
// memory is kept or one too large to keep).
TEST(RequestFramerTest, ResetServesTheNextRequestAsANewFramerWould) {
  RequestFramerLimits limits;
  limits.whole_body = true;
  limits.max_body_bytes = 1 << 20;
  std::string many_fields;
  for (int i = 0; i < 40; ++i) {
    many_fields += "X-Field-" + std::to_string(i) + ": " +
                   std::string(100, static_cast<char>('a' + i % 26)) + "\r\n";
  }
  const std::string big_body(200 << 10, 'z');
  const std::vector<std::string> requests = {
      "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\n\r\n{}",
      "POST /a?b=c HTTP/1.1\r\nHost: y\r\n" + many_fields +
          "Content-Length: 5\r\n\r\nhello",
      "NOT A REQUEST\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
      "0\r\n\r\n",
      "POST /big HTTP/1.1\r\nContent-Length: " +
          std::to_string(big_body.size()) + "\r\n\r\n" + big_body,
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
      "GET /only-head HTTP/1.1\r\nHost: z\r\n\r\n",
      "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
  };
  RequestFramer reused(limits);
  for (int round = 0; round < 2; ++round) {
    for (const std::string& bytes : requests) {
      reused.Reset();
      RequestFramer fresh(limits);
      // Fed in two parts, as reads split them.
      const size_t half = bytes.size() / 2;
      FramerState a = reused.Feed(std::string_view(bytes).substr(0, half));
      FramerState b = fresh.Feed(std::string_view(bytes).substr(0, half));
      if (a == FramerState::kNeedMore) a = reused.Feed(bytes.substr(half));
      if (b == FramerState::kNeedMore) b = fresh.Feed(bytes.substr(half));
      EXPECT_EQ(DescribeFramed(reused, a), DescribeFramed(fresh, b))
          << bytes.substr(0, 60);
    }
  }
}

}  // namespace
}  // namespace hooksim
