#include "sim/http_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <optional>
#include <string_view>

#include "sim/http_url.h"

namespace hooksim {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;

constexpr size_t kRecvChunk = 16 << 10;
constexpr int kMaxInterimAnswers = 16;
constexpr size_t kMaxChunkLineBytes = 4096;
// poll() rounds that end without readiness before the deadline (EINTR, or
// a timeout rounded down by the kernel) are retried; this bounds them.
constexpr int kMaxPollRounds = 10'000;

AttemptResult Failed(AttemptError error) { return AttemptResult{error, 0}; }

enum class Wait { kReady, kTimeout };

// Waits until fd has `events`, the deadline passes or cancel_fd is readable
// (reported as kTimeout: the attempt is being abandoned).
Wait WaitFor(int fd, short events, Deadline deadline, int cancel_fd) {
  for (int round = 0; round < kMaxPollRounds; ++round) {
    const auto now = SteadyClock::now();
    if (now >= deadline) return Wait::kTimeout;
    const auto ms =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    pollfd fds[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
    const int n = poll(fds, cancel_fd >= 0 ? 2 : 1,
                       static_cast<int>(std::min<int64_t>(ms, INT_MAX)));
    if (n < 0 && errno != EINTR) return Wait::kTimeout;
    if (n <= 0) continue;
    if (cancel_fd >= 0 && fds[1].revents != 0) return Wait::kTimeout;
    // POLLERR / POLLHUP count as ready: the next send/recv reports them.
    if (fds[0].revents != 0) return Wait::kReady;
  }
  return Wait::kTimeout;
}

AttemptError SocketErrorKind(int err) {
  switch (err) {
    case ETIMEDOUT:
      return AttemptError::kTimeout;
    default:  // ECONNRESET, EPIPE, ECONNABORTED, ...: the connection broke.
      return AttemptError::kReset;
  }
}

AttemptError ConnectErrorKind(int err) {
  switch (err) {
    case ETIMEDOUT:
      return AttemptError::kTimeout;
    case ECONNRESET:
      return AttemptError::kReset;
    default:  // ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ...
      return AttemptError::kRefused;
  }
}

struct Connected {
  int fd = -1;
  AttemptError error = AttemptError::kNone;
};

Connected Connect(const std::vector<SocketAddress>& addresses,
                  Deadline deadline, int cancel_fd) {
  AttemptError last = AttemptError::kRefused;
  for (const SocketAddress& a : addresses) {
    const int fd =
        socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc =
        connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length);
    int err = rc == 0 ? 0 : errno;
    if (rc != 0 && err == EINPROGRESS) {
      if (WaitFor(fd, POLLOUT, deadline, cancel_fd) != Wait::kReady) {
        close(fd);
        return {-1, AttemptError::kTimeout};
      }
      socklen_t len = sizeof(err);
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err == 0) return {fd, AttemptError::kNone};
    close(fd);
    last = ConnectErrorKind(err);
    if (last == AttemptError::kTimeout) return {-1, last};
  }
  return {-1, last};
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) !=
         std::string_view::npos;
}

bool IsManagedHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "Host") ||
         EqualsIgnoreCase(name, "Content-Length") ||
         EqualsIgnoreCase(name, "Connection") ||
         EqualsIgnoreCase(name, "Transfer-Encoding");
}

void BuildHead(const HttpRequest& request, const HttpUrl& url,
               std::string* head) {
  head->clear();
  head->append(request.method.empty() ? std::string_view("POST")
                                      : request.method);
  head->append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ");
  head->append(url.host_header).append("\r\n");
  for (const Header& h : request.headers) {
    if (IsManagedHeader(h.name) || h.name.empty() ||
        HasLineBreakOrNul(h.name) || HasLineBreakOrNul(h.value)) {
      continue;
    }
    head->append(h.name).append(": ").append(h.value).append("\r\n");
  }
  head->append("Content-Length: ")
      .append(std::to_string(request.body.size()))
      .append("\r\nConnection: keep-alive\r\n\r\n");
}

struct WriteOutcome {
  AttemptError error = AttemptError::kNone;
  bool nothing_written = false;  // Failed before any byte was accepted.
};

WriteOutcome WriteAll(int fd, std::string_view head, std::string_view body,
                      Deadline deadline, int cancel_fd) {
  const size_t total = head.size() + body.size();
  size_t sent = 0;
  // Bounded: every round either sends bytes or waits toward the deadline.
  for (int round = 0; sent < total && round < kMaxPollRounds; ++round) {
    iovec iov[2];
    int count = 0;
    if (sent < head.size()) {
      iov[count++] = {const_cast<char*>(head.data() + sent),
                      head.size() - sent};
      if (!body.empty()) {
        iov[count++] = {const_cast<char*>(body.data()), body.size()};
      }
    } else {
      const size_t off = sent - head.size();
      iov[count++] = {const_cast<char*>(body.data() + off), body.size() - off};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    const ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      round = 0;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd, POLLOUT, deadline, cancel_fd) != Wait::kReady) {
        return {AttemptError::kTimeout, false};
      }
      continue;
    }
    return {SocketErrorKind(n < 0 ? errno : EPIPE), sent == 0};
  }
  if (sent < total) return {AttemptError::kTimeout, false};
  return {};
}

// Reads an answer from one connection into a buffer and parses it.
class AnswerReader {
 public:
  AnswerReader(int fd, std::string& buf, Deadline deadline,
               const HttpClientOptions& options)
      : fd_(fd), buf_(buf), deadline_(deadline), options_(options) {
    buf_.clear();
  }

  // The answer's status, or the error; *keep says whether the connection
  // may carry another request.
  AttemptResult Read(bool* keep);

 private:
  enum class Fill { kData, kEof, kError };
  struct Head {
    int status = 0;
    bool keep_alive = false;
    bool chunked = false;
    bool delimited_by_close = false;
    std::optional<uint64_t> content_length;
  };

  // Appends received bytes to buf_. On kError, error_ says why.
  Fill FillMore();
  // Drops consumed bytes [0, pos_) once they are many, to bound the buffer.
  void Compact();
  size_t available() const { return buf_.size() - pos_; }

  // Reads up to the end of a head; sets *head_size to its length from pos_.
  std::optional<AttemptResult> ReadHead(size_t* head_size, bool any_answer);
  std::optional<AttemptResult> ParseHead(std::string_view text, Head* head);
  // Reads a line ending in LF (CR stripped) at pos_, consuming it.
  std::optional<AttemptResult> ReadLine(size_t max, std::string_view* line);
  // Consumes n bytes (reading as needed).
  std::optional<AttemptResult> Skip(uint64_t n);
  std::optional<AttemptResult> FailFromFill(Fill fill);

  const int fd_;
  std::string& buf_;
  const Deadline deadline_;
  const HttpClientOptions& options_;
  size_t pos_ = 0;
  bool any_byte_ = false;
  AttemptError error_ = AttemptError::kNone;
};

AnswerReader::Fill AnswerReader::FillMore() {
  char chunk[kRecvChunk];
  for (int round = 0; round < kMaxPollRounds; ++round) {
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buf_.append(chunk, static_cast<size_t>(n));
      any_byte_ = true;
      return Fill::kData;
    }
    if (n == 0) return Fill::kEof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (WaitFor(fd_, POLLIN, deadline_, options_.cancel_fd) != Wait::kReady) {
        error_ = AttemptError::kTimeout;
        return Fill::kError;
      }
      continue;
    }
    error_ = SocketErrorKind(errno);
    return Fill::kError;
  }
  error_ = AttemptError::kTimeout;
  return Fill::kError;
}

void AnswerReader::Compact() {
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (64 << 10)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

std::optional<AttemptResult> AnswerReader::FailFromFill(Fill fill) {
  if (fill == Fill::kError) return Failed(error_);
  // EOF: before any byte of an answer it is an empty reply; after some,
  // the answer was cut short.
  return Failed(any_byte_ ? AttemptError::kMalformed
                          : AttemptError::kEmptyReply);
}

std::optional<AttemptResult> AnswerReader::ReadHead(size_t* head_size,
                                                    bool any_answer) {
  constexpr std::string_view kPrefix = "HTTP/";
  size_t scanned = 0;
  // Bounded: each round adds bytes, and the head is capped.
  while (true) {
    const std::string_view text(buf_.data() + pos_, available());
    const size_t n = std::min(text.size(), kPrefix.size());
    if (text.substr(0, n) != kPrefix.substr(0, n)) {
      return Failed(AttemptError::kMalformed);
    }
    const size_t from = scanned > 3 ? scanned - 3 : 0;
    for (size_t i = text.find('\n', from); i != std::string_view::npos;
         i = text.find('\n', i + 1)) {
      // A blank line ends the head: "\n\n" or "\n\r\n".
      if (i + 1 < text.size() && text[i + 1] == '\n') {
        *head_size = i + 2;
        return std::nullopt;
      }
      if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
        *head_size = i + 3;
        return std::nullopt;
      }
    }
    scanned = text.size();
    if (text.size() > options_.max_head_bytes) {
      return Failed(AttemptError::kMalformed);
    }
    const Fill fill = FillMore();
    if (fill != Fill::kData) {
      if (fill == Fill::kEof && any_answer) {
        return Failed(AttemptError::kMalformed);
      }
      return FailFromFill(fill);
    }
  }
}

bool IsTokenChar(char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// True when the comma-separated list `value` has `token` (case-insensitive).
bool HasToken(std::string_view value, std::string_view token) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    if (EqualsIgnoreCase(TrimOws(value.substr(start, end - start)), token)) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

// The last coding of a Transfer-Encoding list.
std::string_view LastToken(std::string_view value) {
  const size_t comma = value.rfind(',');
  return TrimOws(comma == std::string_view::npos ? value
                                                 : value.substr(comma + 1));
}

std::optional<AttemptResult> AnswerReader::ParseHead(std::string_view text,
                                                     Head* head) {
  const auto malformed = Failed(AttemptError::kMalformed);
  size_t eol = text.find('\n');
  std::string_view line = text.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // "HTTP/1.1 200 OK": version, status, optional reason.
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[6] != '.' ||
      line[5] < '0' || line[5] > '9' || line[7] < '0' || line[7] > '9' ||
      line[8] != ' ') {
    return malformed;
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return malformed;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100 || (line.size() > 12 && line[12] != ' ')) return malformed;
  head->status = status;
  const bool http11 = line[5] > '1' || (line[5] == '1' && line[7] >= '1');
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool has_transfer_encoding = false;
  // Bounded by the head's size (max_head_bytes).
  while (eol != std::string_view::npos && eol + 1 < text.size()) {
    const size_t start = eol + 1;
    eol = text.find('\n', start);
    line = text.substr(start,
                       eol == std::string_view::npos ? text.npos : eol - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    // Obsolete line folding continues the previous value: ignored.
    if (line.front() == ' ' || line.front() == '\t') continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return malformed;
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(c)) return malformed;
    }
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Content-Length")) {
      uint64_t length = 0;
      auto [ptr, ec] =
          std::from_chars(value.data(), value.data() + value.size(), length);
      if (value.empty() || ec != std::errc() ||
          ptr != value.data() + value.size() ||
          (head->content_length && *head->content_length != length)) {
        return malformed;
      }
      head->content_length = length;
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      has_transfer_encoding = true;
      head->chunked = EqualsIgnoreCase(LastToken(value), "chunked");
    } else if (EqualsIgnoreCase(name, "Connection")) {
      conn_close = conn_close || HasToken(value, "close");
      conn_keep_alive = conn_keep_alive || HasToken(value, "keep-alive");
    }
  }
  head->keep_alive = http11 ? !conn_close : (conn_keep_alive && !conn_close);
  if (has_transfer_encoding) {
    // RFC 9112 6.1: Transfer-Encoding overrides Content-Length; a message
    // with both must not be reused. Without chunked last, read to close.
    if (head->content_length) head->keep_alive = false;
    head->content_length.reset();
    head->delimited_by_close = !head->chunked;
  } else if (!head->content_length) {
    head->delimited_by_close = true;
  }
  if (status < 200 || status == 204 || status == 304) {
    head->chunked = false;
    head->delimited_by_close = false;
    head->content_length = 0;
  }
  if (head->delimited_by_close) head->keep_alive = false;
  return std::nullopt;
}

std::optional<AttemptResult> AnswerReader::ReadLine(size_t max,
                                                    std::string_view* line) {
  // Bounded: each round adds bytes, and the line is capped.
  while (true) {
    const std::string_view text(buf_.data() + pos_, available());
    const size_t eol = text.find('\n');
    if (eol != std::string_view::npos) {
      *line = text.substr(0, eol);
      if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
      pos_ += eol + 1;
      return std::nullopt;
    }
    if (text.size() > max) return Failed(AttemptError::kMalformed);
    const Fill fill = FillMore();
    if (fill == Fill::kEof) return Failed(AttemptError::kMalformed);
    if (fill != Fill::kData) return FailFromFill(fill);
  }
}

std::optional<AttemptResult> AnswerReader::Skip(uint64_t n) {
  // Bounded: each round consumes received bytes or fails.
  while (n > 0) {
    if (available() == 0) {
      Compact();
      const Fill fill = FillMore();
      if (fill == Fill::kEof) return Failed(AttemptError::kMalformed);
      if (fill != Fill::kData) return FailFromFill(fill);
    }
    const size_t take = static_cast<size_t>(
        std::min<uint64_t>(n, static_cast<uint64_t>(available())));
    pos_ += take;
    n -= take;
  }
  Compact();
  return std::nullopt;
}

AttemptResult AnswerReader::Read(bool* keep) {
  *keep = false;
  Head head;
  for (int interim = 0;; ++interim) {
    if (interim > kMaxInterimAnswers) return Failed(AttemptError::kMalformed);
    size_t head_size = 0;
    if (auto failed = ReadHead(&head_size, interim > 0)) return *failed;
    head = Head{};
    if (auto failed =
            ParseHead(std::string_view(buf_.data() + pos_, head_size), &head)) {
      return *failed;
    }
    pos_ += head_size;
    if (head.status >= 200 || head.status == 101) break;
  }
  const AttemptResult answer{AttemptError::kNone, head.status};
  const uint64_t limit = options_.max_drained_body_bytes;
  if (head.status == 101) return answer;  // Not HTTP any more: close.
  if (head.content_length) {
    if (*head.content_length > limit) return answer;
    if (auto failed = Skip(*head.content_length)) return *failed;
  } else if (head.chunked) {
    uint64_t drained = 0;
    // Bounded: each chunk adds to `drained`, which is capped.
    while (true) {
      std::string_view line;
      if (auto failed = ReadLine(kMaxChunkLineBytes, &line)) return *failed;
      line = line.substr(0, line.find(';'));
      line = TrimOws(line);
      uint64_t size = 0;
      auto [ptr, ec] =
          std::from_chars(line.data(), line.data() + line.size(), size, 16);
      if (line.empty() || ec != std::errc() ||
          ptr != line.data() + line.size()) {
        return Failed(AttemptError::kMalformed);
      }
      if (size == 0) break;
      drained += size;
      if (drained > limit) return answer;
      if (auto failed = Skip(size)) return *failed;
      if (auto failed = ReadLine(2, &line)) return *failed;
      if (!line.empty()) return Failed(AttemptError::kMalformed);
    }
    // Trailer fields, then the blank line.
    size_t trailer = 0;
    while (true) {
      std::string_view line;
      if (auto failed = ReadLine(options_.max_head_bytes, &line)) {
        return *failed;
      }
      if (line.empty()) break;
      trailer += line.size() + 2;
      if (trailer > options_.max_head_bytes) {
        return Failed(AttemptError::kMalformed);
      }
    }
  } else if (head.delimited_by_close) {
    uint64_t drained = available();
    pos_ = buf_.size();
    Compact();
    // Bounded: each round drains bytes, which are capped.
    while (drained <= limit) {
      const Fill fill = FillMore();
      if (fill == Fill::kEof) return answer;
      if (fill == Fill::kError) return Failed(error_);
      drained += available();
      pos_ = buf_.size();
      Compact();
    }
    return answer;
  }
  // Stray bytes after a complete answer: the connection's framing is
  // unknown from here on, so it is not reused.
  *keep = head.keep_alive && available() == 0;
  return answer;
}

}  // namespace

HttpClient::HttpClient(AddressCache& addresses, HttpClientOptions options,
                       HttpClientCounters* counters)
    : addresses_(addresses), options_(options), counters_(counters) {}

HttpClient::~HttpClient() {
  for (auto& [key, idle] : idle_) close(idle.fd);
}

int HttpClient::TakeIdle(const std::string& key) {
  const auto it = idle_.find(key);
  if (it == idle_.end()) return -1;
  const Idle idle = it->second;
  idle_.erase(it);
  if (SteadyClock::now() - idle.since > options_.max_idle) {
    close(idle.fd);
    return -1;
  }
  // An open, quiet connection has nothing to read. EOF, a pending error or
  // unexpected bytes mean the server closed (or broke) it while idle.
  char c;
  const ssize_t n = recv(idle.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return idle.fd;
  close(idle.fd);
  if (counters_) ++counters_->stale_connections;
  return -1;
}

void HttpClient::PutIdle(const std::string& key, int fd) {
  if (idle_.size() >= options_.max_idle_connections && !idle_.count(key)) {
    auto oldest = idle_.begin();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->second.since < oldest->second.since) oldest = it;
    }
    close(oldest->second.fd);
    idle_.erase(oldest);
  }
  auto [it, inserted] = idle_.try_emplace(key, Idle{fd, SteadyClock::now()});
  if (!inserted) {
    close(it->second.fd);
    it->second = Idle{fd, SteadyClock::now()};
  }
}

AttemptResult HttpClient::Send(const HttpRequest& request, Deadline deadline) {
  const Result<HttpUrl> url = ParseHttpUrl(request.target);
  if (!url.ok()) return Failed(AttemptError::kRefused);
  const Result<AddressList> addresses =
      addresses_.Resolve(url->host, url->port);
  if (!addresses.ok()) return Failed(AttemptError::kRefused);
  BuildHead(request, *url, &head_);
  const std::string key = url->host + "|" + std::to_string(url->port);
  // At most two rounds: the second only after a reused connection failed
  // before any byte of the request was written.
  for (int round = 0; round < 2; ++round) {
    int fd = round == 0 ? TakeIdle(key) : -1;
    const bool reused = fd >= 0;
    if (reused) {
      if (counters_) ++counters_->connections_reused;
    } else {
      const Connected c = Connect(**addresses, deadline, options_.cancel_fd);
      if (c.fd < 0) return Failed(c.error);
      fd = c.fd;
      if (counters_) ++counters_->connections_opened;
    }
    const WriteOutcome written =
        WriteAll(fd, head_, request.body, deadline, options_.cancel_fd);
    if (written.error != AttemptError::kNone) {
      close(fd);
      if (reused && written.nothing_written) {
        if (counters_) ++counters_->stale_connections;
        continue;
      }
      return Failed(written.error);
    }
    bool keep = false;
    AnswerReader reader(fd, buf_, deadline, options_);
    const AttemptResult result = reader.Read(&keep);
    if (keep) {
      PutIdle(key, fd);
    } else {
      close(fd);
    }
    if (buf_.capacity() > (256 << 10)) std::string().swap(buf_);
    return result;
  }
  return Failed(AttemptError::kReset);
}

}  // namespace hooksim
