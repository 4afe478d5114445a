// libFuzzer target: the receiver's request handling, raw bytes in.
//
// Two real HttpReceiverServers on 127.0.0.1 serve one receiver answering
// 200: the threaded core (cpp-httplib's parser with hooksim's connection
// loop, handlers and admin API) and the event core (epoll loops,
// Boost.Beast's parser in RequestFramer's whole-body mode). Each input is
// written to each of them in turn on a new loopback connection, the
// writing side is shut down, and everything the server sends back is read
// until it closes. Checks:
//   - no crash (ASan/UBSan), and the server closes the connection within
//     kMaxWait (else: abort, a hang);
//   - what came back is a clean close (no bytes) or a sequence of
//     well-formed HTTP/1.1 answers: status line "HTTP/1.1 NNN ...", header
//     lines "Name: value", CRLF CRLF, then exactly Content-Length body
//     bytes (none for 1xx, 204, 304 and answers to HEAD), ending at the
//     close; an answer with "Connection: close" (every refusal: request
//     smuggling shapes, limits) is the last one, so nothing sent behind a
//     refused request is ever served;
//   - an input whose first head frames its body ambiguously (both
//     Content-Length and Transfer-Encoding, either twice, a
//     Transfer-Encoding other than chunked) gets one 400 (or 431) only.
// An input may swap the behaviour through the admin API (PUT
// /__hooksim/behavior); a behaviour with socket faults (garbage, reset,
// dribble) answers bytes that are not HTTP on purpose, so when the
// behaviour changed, only "no crash, closed in time" is checked, and the
// 200 behaviour is put back. The journal is reset after every input.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "sim/base/random.h"
#include "sim/contract/payload_validator.h"

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kMaxWait = std::chrono::seconds(30);

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "receiver_request_fuzz: check failed: %s\n", what);
    std::abort();
  }
}

struct Fixture {
  std::unique_ptr<hooksim::MockReceiver> receiver;
  std::unique_ptr<hooksim::HttpReceiverServer> server;        // Threads.
  std::unique_ptr<hooksim::HttpReceiverServer> event_server;  // Event.
  nlohmann::json behavior_json;
};

Fixture& TheFixture() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    hooksim::ReceiverOptions options;
    options.name = "fuzz";
    auto validator = hooksim::PayloadValidator::Bundled();
    Check(validator.ok(), "bundled schemas load");
    options.validator =
        std::make_shared<hooksim::CachedPayloadValidator>(*validator, 1024);
    options.journal.capacity = 64;
    options.journal.max_deliveries = 1024;
    hooksim::BehaviorSpec spec;  // 200, no latency.
    f->behavior_json = hooksim::BehaviorToJson(spec);
    f->receiver = std::make_unique<hooksim::MockReceiver>(
        options, spec, hooksim::Random(1));
    hooksim::HttpReceiverOptions server_options;
    // A behaviour put by an input may ask for up to 30 days of latency:
    // at this scale that is under 3 ms of wall time.
    server_options.time_scale = 1e-9;
    server_options.max_body_bytes = 1 << 16;
    server_options.threads = 4;
    server_options.io_timeout = std::chrono::milliseconds(2000);
    server_options.keep_alive_timeout = std::chrono::milliseconds(2000);
    server_options.core = hooksim::ServerCore::kThreads;
    f->server = std::make_unique<hooksim::HttpReceiverServer>(*f->receiver,
                                                              server_options);
    Check(f->server->Start().ok(), "receiver server starts");
    server_options.core = hooksim::ServerCore::kEvent;
    server_options.event_loops = 1;
    f->event_server = std::make_unique<hooksim::HttpReceiverServer>(
        *f->receiver, server_options);
    Check(f->event_server->Start().ok(), "event receiver server starts");
    return f;
  }();
  return *fixture;
}

// A new loopback connection. Hundreds of thousands of short connections
// can run out of local ports (TIME_WAIT): a connect that fails for want of
// one is retried, for at most kMaxWait. (Found by this target: after
// 588,325 inputs connect() failed with EADDRNOTAVAIL.)
int Connect(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const auto deadline = SteadyClock::now() + kMaxWait;
  while (true) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    Check(fd >= 0, "socket");
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      return fd;
    }
    const int err = errno;
    close(fd);
    Check(err == EADDRNOTAVAIL || err == EAGAIN || err == EINTR,
          "connect to the receiver");
    Check(SteadyClock::now() < deadline, "a local port within kMaxWait");
    usleep(10'000);
  }
}

// Closes without TIME_WAIT on this side (the answer was read to its end).
void CloseAbortively(int fd) {
  const linger abortive{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
  close(fd);
}

// Writes the input while reading answers (so neither side can block the
// other on full buffers), shuts down the writing side, then reads to EOF.
std::string Exchange(int fd, std::string_view input) {
  std::string answer;
  size_t written = 0;
  bool write_open = true;
  const auto deadline = SteadyClock::now() + kMaxWait;
  char buf[65536];
  while (true) {
    if (write_open && written == input.size()) {
      shutdown(fd, SHUT_WR);
      write_open = false;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (write_open ? POLLOUT : 0)), 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - SteadyClock::now());
    Check(left.count() > 0, "the server closes the connection in time");
    const int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0) continue;  // EINTR.
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        break;  // A reset: the server closed (it discards what it had).
      }
      answer.append(buf, static_cast<size_t>(n));
      Check(answer.size() < (64u << 20), "a bounded answer");
    }
    if (write_open && (p.revents & POLLOUT)) {
      const ssize_t n = send(fd, input.data() + written, input.size() - written,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        written += static_cast<size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        // The server closed its side (e.g. after a 400): stop writing.
        shutdown(fd, SHUT_WR);
        write_open = false;
      }
    }
  }
  return answer;
}

bool ParseSize(std::string_view text, size_t* out) {
  if (text.empty() || text.size() > 18) return false;
  size_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  *out = v;
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Checks that `bytes` is a sequence of well-formed answers. Answers to
// HEAD carry Content-Length but no body; as the input's requests are not
// parsed here, a body may be absent when the input mentions HEAD.
void CheckAnswers(std::string_view bytes, bool maybe_head) {
  while (!bytes.empty()) {
    const size_t head_end = bytes.find("\r\n\r\n");
    Check(head_end != std::string_view::npos, "an answer head ends in CRLF CRLF");
    const std::string_view head = bytes.substr(0, head_end);
    bytes.remove_prefix(head_end + 4);
    const size_t line_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, line_end);
    Check(status_line.size() >= 12 && status_line.substr(0, 9) == "HTTP/1.1 " &&
              std::isdigit(static_cast<unsigned char>(status_line[9])) &&
              std::isdigit(static_cast<unsigned char>(status_line[10])) &&
              std::isdigit(static_cast<unsigned char>(status_line[11])) &&
              (status_line.size() == 12 || status_line[12] == ' '),
          "a status line HTTP/1.1 NNN");
    const int status = (status_line[9] - '0') * 100 +
                       (status_line[10] - '0') * 10 + (status_line[11] - '0');
    Check(status >= 100 && status <= 599, "a status in 100..599");
    std::optional<size_t> length;
    bool closes = false;
    std::string_view rest = line_end == std::string_view::npos
                                ? std::string_view()
                                : head.substr(line_end + 2);
    while (!rest.empty()) {
      const size_t end = rest.find("\r\n");
      const std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view()
                                           : rest.substr(end + 2);
      const size_t colon = line.find(':');
      Check(colon != std::string_view::npos && colon > 0, "a header line Name: value");
      Check(line.find('\n') == std::string_view::npos &&
                line.find('\r') == std::string_view::npos,
            "no bare CR or LF in a header");
      if (Lower(line.substr(0, colon)) == "connection" &&
          Lower(line.substr(colon + 1)).find("close") != std::string::npos) {
        closes = true;
      }
      if (Lower(line.substr(0, colon)) == "content-length") {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        size_t n = 0;
        Check(ParseSize(value, &n), "Content-Length is a number");
        length = n;
      }
    }
    if (status < 200 || status == 204 || status == 304) continue;
    const size_t body = length.value_or(0);
    if (maybe_head && (bytes.empty() || bytes.substr(0, 5) == "HTTP/")) continue;
    Check(bytes.size() >= body, "the whole body, as Content-Length says");
    bytes.remove_prefix(body);
    // A refusal (400, 405, 413, 431 for a smuggling shape or a limit)
    // says Connection: close and is the last answer: nothing behind the
    // refused request was served.
    if (closes) Check(bytes.empty(), "nothing after a Connection: close answer");
  }
}

// True when the input's first request head (up to CRLF CRLF) frames its
// body ambiguously (RFC 9112 6.3): both Content-Length and
// Transfer-Encoding, either one twice, or a Transfer-Encoding other than
// "chunked". The receiver must refuse it (400, or 431 when the head is
// also over a limit) and serve nothing after it.
bool SmugglingShape(std::string_view input) {
  const size_t end = input.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  std::string_view head = input.substr(0, end + 2);
  const size_t first = head.find("\r\n");
  head.remove_prefix(first + 2);
  int lengths = 0;
  int encodings = 0;
  std::string encoding;
  while (!head.empty()) {
    const size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = Lower(line.substr(0, colon));
    std::string value = Lower(line.substr(colon + 1));
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.erase(0, 1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
      value.pop_back();
    }
    if (name == "content-length") ++lengths;
    if (name == "transfer-encoding") {
      ++encodings;
      encoding = value;
    }
  }
  return (lengths > 0 && encodings > 0) || lengths > 1 || encodings > 1 ||
         (encodings == 1 && encoding != "chunked");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = TheFixture();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (hooksim::HttpReceiverServer* server :
       {f.server.get(), f.event_server.get()}) {
    const int fd = Connect(server->port());
    const std::string answer = Exchange(fd, input);
    CloseAbortively(fd);
    const nlohmann::json now =
        hooksim::BehaviorToJson(f.receiver->behavior_spec());
    if (now == f.behavior_json) {
      CheckAnswers(answer, input.find("HEAD") != std::string_view::npos);
      if (SmugglingShape(input)) {
        Check(answer.rfind("HTTP/1.1 400 ", 0) == 0 ||
                  answer.rfind("HTTP/1.1 431 ", 0) == 0,
              "a smuggling shape is refused with 400 (or 431)");
        Check(answer.find("HTTP/1.1 ", 1) == std::string::npos,
              "nothing after a refused smuggling shape is served");
      }
    } else {
      f.receiver->SetBehavior(hooksim::BehaviorSpec{});
    }
    f.receiver->Reset();
  }
  return 0;
}
