#include "sim/http/http_answer_parser.h"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace hooksim {
namespace {

constexpr int kMaxInterimAnswers = 16;
constexpr size_t kMaxChunkLineBytes = 4096;
constexpr std::string_view kPrefix = "HTTP/";

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

}  // namespace

HttpAnswerParser::HttpAnswerParser(HttpAnswerParserOptions options)
    : options_(options) {}

void HttpAnswerParser::Reset() {
  state_ = State::kNeedMore;
  phase_ = Phase::kHead;
  result_ = AttemptResult{};
  keep_ = false;
  head_keep_alive_ = false;
  any_byte_ = false;
  interim_ = 0;
  remaining_ = 0;
  drained_ = 0;
  trailer_bytes_ = 0;
  head_.clear();
  line_.clear();
  if (head_.capacity() > options_.max_head_bytes) std::string().swap(head_);
}

HttpAnswerParser::State HttpAnswerParser::Feed(std::string_view bytes) {
  if (!bytes.empty()) any_byte_ = true;
  // Bounded: every round consumes bytes or ends the answer.
  while (state_ == State::kNeedMore && !bytes.empty()) {
    switch (phase_) {
      case Phase::kHead:
        FeedHead(bytes);
        break;
      case Phase::kBody:
      case Phase::kChunkData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(
            remaining_, static_cast<uint64_t>(bytes.size())));
        bytes.remove_prefix(take);
        remaining_ -= take;
        if (remaining_ == 0) {
          if (phase_ == Phase::kBody) {
            Finish(head_keep_alive_);
          } else {
            phase_ = Phase::kChunkEnd;
          }
        }
        break;
      }
      case Phase::kChunkSize:
        FeedLine(bytes, kMaxChunkLineBytes);
        break;
      case Phase::kChunkEnd:
        FeedLine(bytes, 2);
        break;
      case Phase::kTrailer:
        FeedLine(bytes, options_.max_head_bytes);
        break;
      case Phase::kUntilClose:
        drained_ += bytes.size();
        bytes = {};
        if (drained_ > options_.max_drained_body_bytes) Finish(false);
        break;
    }
  }
  // Stray bytes after a complete answer: the connection's framing is
  // unknown from here on, so it is not reused.
  if (state_ == State::kDone && !bytes.empty()) keep_ = false;
  return state_;
}

HttpAnswerParser::State HttpAnswerParser::OnEof() {
  if (state_ != State::kNeedMore) return state_;
  if (phase_ == Phase::kUntilClose) {
    Finish(false);
  } else if (phase_ == Phase::kHead && !any_byte_) {
    Fail(AttemptError::kEmptyReply);
  } else {
    Fail(AttemptError::kMalformed);  // Cut short.
  }
  return state_;
}

void HttpAnswerParser::FeedHead(std::string_view& bytes) {
  const size_t old = head_.size();
  const size_t room =
      options_.max_head_bytes + 1 - std::min(old, options_.max_head_bytes);
  head_.append(bytes.substr(0, room));
  const std::string_view text = head_;
  const size_t n = std::min(text.size(), kPrefix.size());
  if (text.substr(0, n) != kPrefix.substr(0, n)) {
    Fail(AttemptError::kMalformed);
    return;
  }
  size_t end = 0;
  for (size_t i = text.find('\n', old > 3 ? old - 3 : 0);
       i != std::string_view::npos; i = text.find('\n', i + 1)) {
    // A blank line ends the head: "\n\n" or "\n\r\n".
    if (i + 1 < text.size() && text[i + 1] == '\n') {
      end = i + 2;
      break;
    }
    if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
      end = i + 3;
      break;
    }
  }
  if (end == 0) {
    if (head_.size() > options_.max_head_bytes) {
      Fail(AttemptError::kMalformed);
      return;
    }
    bytes = {};  // All appended.
    return;
  }
  bytes.remove_prefix(end - old);
  head_.resize(end);
  Head head;
  if (!ParseHead(head_, &head)) {
    Fail(AttemptError::kMalformed);
    return;
  }
  head_.clear();
  if (head.status < 200 && head.status != 101) {
    if (++interim_ > kMaxInterimAnswers) Fail(AttemptError::kMalformed);
    return;  // An interim answer: the real one follows.
  }
  result_ = AttemptResult{AttemptError::kNone, head.status};
  result_.retry_after_ms = head.retry_after_ms;
  StartBody(head);
}

void HttpAnswerParser::StartBody(const Head& head) {
  head_keep_alive_ = head.keep_alive;
  const uint64_t limit = options_.max_drained_body_bytes;
  if (head.status == 101) {
    Finish(false);  // Not HTTP any more: close.
  } else if (head.has_length) {
    if (head.content_length > limit) {
      Finish(false);
    } else if (head.content_length == 0) {
      Finish(head_keep_alive_);
    } else {
      remaining_ = head.content_length;
      phase_ = Phase::kBody;
    }
  } else if (head.chunked) {
    phase_ = Phase::kChunkSize;
  } else {
    phase_ = Phase::kUntilClose;
  }
}

void HttpAnswerParser::FeedLine(std::string_view& bytes, size_t max) {
  const size_t eol = bytes.find('\n');
  if (eol == std::string_view::npos) {
    line_.append(bytes.substr(0, max + 1));
    bytes = {};
    if (line_.size() > max) Fail(AttemptError::kMalformed);
    return;
  }
  line_.append(bytes.substr(0, eol));
  bytes.remove_prefix(eol + 1);
  std::string_view line = line_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  OnLine(line);
  line_.clear();
}

void HttpAnswerParser::OnLine(std::string_view line) {
  switch (phase_) {
    case Phase::kChunkSize: {
      line = TrimOws(line.substr(0, line.find(';')));
      uint64_t size = 0;
      auto [ptr, ec] =
          std::from_chars(line.data(), line.data() + line.size(), size, 16);
      if (line.empty() || ec != std::errc() ||
          ptr != line.data() + line.size()) {
        Fail(AttemptError::kMalformed);
      } else if (size == 0) {
        phase_ = Phase::kTrailer;
      } else {
        drained_ += size;
        if (drained_ > options_.max_drained_body_bytes) {
          Finish(false);
        } else {
          remaining_ = size;
          phase_ = Phase::kChunkData;
        }
      }
      return;
    }
    case Phase::kChunkEnd:
      if (!line.empty()) {
        Fail(AttemptError::kMalformed);
      } else {
        phase_ = Phase::kChunkSize;
      }
      return;
    case Phase::kTrailer:
      if (line.empty()) {
        Finish(head_keep_alive_);
        return;
      }
      trailer_bytes_ += line.size() + 2;
      if (trailer_bytes_ > options_.max_head_bytes) {
        Fail(AttemptError::kMalformed);
      }
      return;
    default:
      return;
  }
}

bool HttpAnswerParser::ParseHead(std::string_view text, Head* head) const {
  size_t eol = text.find('\n');
  std::string_view line = text.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // "HTTP/1.1 200 OK": version, status, optional reason.
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[6] != '.' ||
      line[5] < '0' || line[5] > '9' || line[7] < '0' || line[7] > '9' ||
      line[8] != ' ') {
    return false;
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100 || (line.size() > 12 && line[12] != ' ')) return false;
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
    if (colon == std::string_view::npos || colon == 0) return false;
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(c)) return false;
    }
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Content-Length")) {
      uint64_t length = 0;
      auto [ptr, ec] =
          std::from_chars(value.data(), value.data() + value.size(), length);
      if (value.empty() || ec != std::errc() ||
          ptr != value.data() + value.size() ||
          (head->has_length && head->content_length != length)) {
        return false;
      }
      head->has_length = true;
      head->content_length = length;
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      has_transfer_encoding = true;
      head->chunked = EqualsIgnoreCase(LastToken(value), "chunked");
    } else if (EqualsIgnoreCase(name, "Retry-After")) {
      // Dates against the wall clock: the parser only runs over real HTTP.
      head->retry_after_ms =
          ParseRetryAfter(value, static_cast<int64_t>(std::time(nullptr)));
    } else if (EqualsIgnoreCase(name, "Connection")) {
      conn_close = conn_close || HasToken(value, "close");
      conn_keep_alive = conn_keep_alive || HasToken(value, "keep-alive");
    }
  }
  head->keep_alive = http11 ? !conn_close : (conn_keep_alive && !conn_close);
  if (has_transfer_encoding) {
    // RFC 9112 6.1: Transfer-Encoding overrides Content-Length; a message
    // with both must not be reused. Without chunked last, read to close.
    if (head->has_length) head->keep_alive = false;
    head->has_length = false;
    head->delimited_by_close = !head->chunked;
  } else if (!head->has_length) {
    head->delimited_by_close = true;
  }
  if (status < 200 || status == 204 || status == 304) {
    head->chunked = false;
    head->delimited_by_close = false;
    head->has_length = true;
    head->content_length = 0;
  }
  if (head->delimited_by_close) head->keep_alive = false;
  return true;
}

void HttpAnswerParser::Finish(bool keep) {
  state_ = State::kDone;
  keep_ = keep;
}

void HttpAnswerParser::Fail(AttemptError error) {
  state_ = State::kFailed;
  result_ = AttemptResult{error, 0};
  keep_ = false;
}

}  // namespace hooksim
