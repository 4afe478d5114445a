#include "mock-receivers/http/request_framer.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <new>
#include <optional>
#include <tuple>
#include <utility>

#include "sim/contract/http_types.h"

namespace hooksim {

namespace http = boost::beast::http;

namespace {

// The memory a request's header fields are carved from, as in Beast's
// http_server_fast example (fields_alloc.hpp): Beast's basic_fields
// allocates each field, and the fields of a webhook request fit in
// kBytes, so a request needs no heap allocation for them. Past kBytes,
// the heap. Bump allocation; everything is released together when the
// parser goes (Reset, or the framer's end).
class FieldArena {
 public:
  static constexpr size_t kBytes = 2048;

  void* Allocate(size_t n, size_t align) {
    const size_t at = (used_ + align - 1) & ~(align - 1);
    if (at + n > kBytes) return ::operator new(n);
    used_ = at + n;
    ++live_;
    return bytes_ + at;
  }
  void Deallocate(void* p) {
    // Compared as addresses: `p` may be a heap block, unrelated to bytes_.
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    const auto begin = reinterpret_cast<std::uintptr_t>(bytes_);
    if (at < begin || at >= begin + kBytes) {
      ::operator delete(p);
      return;
    }
    if (--live_ == 0) used_ = 0;  // Every field released: start again.
  }

 private:
  alignas(std::max_align_t) char bytes_[kBytes];
  size_t used_ = 0;
  size_t live_ = 0;  // Allocations in bytes_ not yet released.
};

template <typename T>
struct ArenaAllocator {
  using value_type = T;
  FieldArena* arena;

  explicit ArenaAllocator(FieldArena* a) noexcept : arena(a) {}
  template <typename U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept  // NOLINT
      : arena(other.arena) {}
  T* allocate(size_t n) {
    return static_cast<T*>(arena->Allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, size_t) noexcept { arena->Deallocate(p); }
  template <typename U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena == other.arena;
  }
  template <typename U>
  bool operator!=(const ArenaAllocator<U>& other) const noexcept {
    return arena != other.arena;
  }
};

}  // namespace

struct RequestFramer::Parser {
  using Fields = ArenaAllocator<char>;
  // A body string at most this large is kept for the next request of the
  // connection (a larger one's memory goes back at once): most webhook
  // bodies fit, and 10,000 idle keep-alive connections hold at most
  // 60 MB with the arena.
  static constexpr size_t kKeptBodyBytes = 4 << 10;
  FieldArena arena;
  std::optional<http::request_parser<http::string_body, Fields>> parser;

  // A new Beast parser for the next request (its fields in the arena),
  // with the framer's limits; the body's string keeps its memory.
  void Start(const RequestFramerLimits& limits) {
    std::string body;
    if (parser && parser->get().body().capacity() <= kKeptBodyBytes) {
      body = std::move(parser->get().body());
      body.clear();
    }
    parser.reset();
    parser.emplace(std::piecewise_construct, std::make_tuple(),
                   std::make_tuple(Fields(&arena)));
    parser->get().body() = std::move(body);
    parser->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(limits.max_head_bytes, UINT32_MAX)));
    parser->body_limit(limits.max_body_bytes);
    parser->eager(false);  // Stop after the head: it is checked first.
  }
};

namespace {

// The methods cpp-httplib routes (HEAD goes with GET).
constexpr std::string_view kRoutedMethods[] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

std::string_view Sv(boost::beast::string_view v) {
  return std::string_view(v.data(), v.size());
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// A 1..19 digit decimal (no sign, no list, no spaces inside).
bool ParseDecimal(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

std::string Quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value.substr(0, 40)) {
    const unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  if (value.size() > 40) out += "...";
  return out + "\"";
}

// The head without the fields named in `drop` (continuation lines of a
// dropped field go with it), with `extra` (one "Name: value\r\n" line)
// added before the blank line that ends it.
std::string RewriteHead(std::string_view head,
                        std::initializer_list<std::string_view> drop,
                        std::string_view extra) {
  std::string out;
  out.reserve(head.size() + extra.size());
  bool first = true;
  bool dropping = false;
  while (!head.empty()) {
    const size_t nl = head.find('\n');
    const std::string_view line =
        head.substr(0, nl == std::string_view::npos ? head.size() : nl + 1);
    head.remove_prefix(line.size());
    std::string_view bare = line;
    while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) {
      bare.remove_suffix(1);
    }
    if (first) {
      first = false;
      out += line;
      continue;
    }
    if (bare.empty()) {  // The blank line ending the head.
      out += extra;
      out += line;
      break;
    }
    if (bare.front() == ' ' || bare.front() == '\t') {  // obs-fold.
      if (!dropping) out += line;
      continue;
    }
    const std::string_view name = Trim(bare.substr(0, bare.find(':')));
    dropping = false;
    for (std::string_view d : drop) dropping = dropping || EqualsIgnoreCase(name, d);
    if (!dropping) out += line;
  }
  return out;
}

}  // namespace

int FramerStatus(FramerState state) {
  switch (state) {
    case FramerState::kBadRequest:
      return 400;
    case FramerState::kHeadTooLarge:
      return 431;
    case FramerState::kBodyTooLarge:
      return 413;
    case FramerState::kMethodNotAllowed:
      return 405;
    case FramerState::kNeedMore:
    case FramerState::kReady:
      return 0;
  }
  return 0;
}

RequestFramer::RequestFramer(RequestFramerLimits limits)
    : limits_(limits), parser_(std::make_unique<Parser>()) {
  parser_->Start(limits_);
}

RequestFramer::~RequestFramer() = default;

void RequestFramer::Reset() {
  parser_->Start(limits_);
  state_ = FramerState::kNeedMore;
  reason_.clear();
  buffer_.clear();
  head_.clear();
  method_.clear();
  target_.clear();
  chunked_ = false;
  expect_continue_ = false;
  continue_sent_ = false;
  add_zero_length_ = false;
  head_done_ = false;
  body_here_ = false;
  fields_.clear();
}

FramerState RequestFramer::Refuse(FramerState state, std::string reason) {
  state_ = state;
  reason_ = std::move(reason);
  buffer_.clear();
  buffer_.shrink_to_fit();
  return state_;
}

bool RequestFramer::wants_continue() const {
  return state_ == FramerState::kNeedMore && body_here_ && expect_continue_ &&
         !continue_sent_;
}

void RequestFramer::ContinueSent() { continue_sent_ = true; }

FramerState RequestFramer::Feed(std::string_view bytes) {
  if (state_ != FramerState::kNeedMore) return state_;
  buffer_.append(bytes);
  auto& p = *parser_->parser;
  if (!p.is_header_done()) {
    boost::beast::error_code ec;
    // Beast may consume part of an incomplete head (the request line, whole
    // fields): what it consumed is kept in head_ and not fed again.
    const size_t n = p.put(boost::asio::buffer(buffer_), ec);
    head_.append(buffer_, 0, n);
    buffer_.erase(0, n);
    if (ec == http::error::need_more) {
      if (head_.size() + buffer_.size() > limits_.max_head_bytes) {
        return Refuse(FramerState::kHeadTooLarge,
                      "request head larger than " +
                          std::to_string(limits_.max_head_bytes) + " bytes");
      }
      return state_;
    }
    if (ec == http::error::header_limit) {
      return Refuse(FramerState::kHeadTooLarge,
                    "request head larger than " +
                        std::to_string(limits_.max_head_bytes) + " bytes");
    }
    if (ec == http::error::bad_content_length ||
        ec == http::error::bad_transfer_encoding) {
      // Beast refuses Content-Length with chunked, repeated Content-Length
      // and repeated chunked: all framing conflicts (RFC 9112 6.3).
      return Refuse(FramerState::kBadRequest,
                    "conflicting or invalid body framing (" + ec.message() +
                        "): Content-Length and Transfer-Encoding must not "
                        "both be present, and each at most once");
    }
    if (ec == http::error::body_limit) {  // A Content-Length over it.
      return Refuse(FramerState::kBodyTooLarge,
                    "request body larger than " +
                        std::to_string(limits_.max_body_bytes) + " bytes");
    }
    if (ec) return Refuse(FramerState::kBadRequest, "bad request: " + ec.message());
    if (!p.is_header_done()) return state_;
    // Beast applies header_limit to each put's input, not to the head
    // consumed over several: the whole head is measured here.
    if (head_.size() > limits_.max_head_bytes) {
      return Refuse(FramerState::kHeadTooLarge,
                    "request head larger than " +
                        std::to_string(limits_.max_head_bytes) + " bytes");
    }
    if (const FramerState s = CheckHead(); s != FramerState::kNeedMore) {
      return s;
    }
  }
  return ParseBody();
}

FramerState RequestFramer::CheckHead() {
  const auto& msg = parser_->parser->get();
  method_ = std::string(Sv(msg.method_string()));
  target_ = std::string(Sv(msg.target()));
  const size_t fields = static_cast<size_t>(std::distance(msg.begin(), msg.end()));
  if (fields > limits_.max_headers) {
    return Refuse(FramerState::kHeadTooLarge,
                  "more than " + std::to_string(limits_.max_headers) +
                      " header fields (" + std::to_string(fields) + ")");
  }
  int lengths = 0;
  int encodings = 0;
  uint64_t length = 0;
  std::string_view encoding;
  for (const auto& f : msg) {
    if (f.name() == http::field::content_length) {
      ++lengths;
      if (!ParseDecimal(Trim(Sv(f.value())), &length)) {
        return Refuse(FramerState::kBadRequest,
                      "Content-Length must be a decimal number, got " +
                          Quoted(Sv(f.value())));
      }
    } else if (f.name() == http::field::transfer_encoding) {
      ++encodings;
      encoding = Trim(Sv(f.value()));
    } else if (f.name() == http::field::expect) {
      expect_continue_ = EqualsIgnoreCase(Trim(Sv(f.value())), "100-continue");
    }
  }
  if (lengths > 0 && encodings > 0) {
    return Refuse(FramerState::kBadRequest,
                  "both Content-Length and Transfer-Encoding (RFC 9112 6.3)");
  }
  if (lengths > 1) {
    return Refuse(FramerState::kBadRequest,
                  "Content-Length given " + std::to_string(lengths) + " times");
  }
  if (encodings > 1 || (encodings == 1 && !EqualsIgnoreCase(encoding, "chunked"))) {
    return Refuse(FramerState::kBadRequest,
                  "Transfer-Encoding must be exactly \"chunked\", got " +
                      (encodings > 1 ? std::to_string(encodings) + " fields"
                                     : Quoted(encoding)));
  }
  bool routed = false;
  for (std::string_view m : kRoutedMethods) routed = routed || m == method_;
  if (!routed) {
    return Refuse(FramerState::kMethodNotAllowed,
                  "method " + Quoted(method_) + " not allowed");
  }
  if (lengths == 1 && length > limits_.max_body_bytes) {
    return Refuse(FramerState::kBodyTooLarge,
                  "request body larger than " +
                      std::to_string(limits_.max_body_bytes) + " bytes");
  }
  head_done_ = true;
  if (encodings == 1) {
    chunked_ = true;
    body_here_ = true;
    parser_->parser->eager(true);
    return FramerState::kNeedMore;
  }
  // RFC 9112 6.3: no Content-Length and no Transfer-Encoding: no body.
  add_zero_length_ = lengths == 0 && (method_ == "POST" || method_ == "PUT" ||
                                      method_ == "PATCH");
  if (limits_.whole_body && lengths == 1 && length > 0) {
    body_here_ = true;
    parser_->parser->eager(true);
    return FramerState::kNeedMore;
  }
  return state_ = FramerState::kReady;
}

FramerState RequestFramer::ParseBody() {
  auto& p = *parser_->parser;
  size_t used = 0;
  // Bounded: each pass consumes bytes or stops.
  while (used < buffer_.size() && !p.is_done()) {
    boost::beast::error_code ec;
    const size_t n =
        p.put(boost::asio::buffer(buffer_.data() + used, buffer_.size() - used),
              ec);
    used += n;
    if (ec == http::error::need_more) break;
    if (ec == http::error::body_limit) {
      return Refuse(FramerState::kBodyTooLarge,
                    "request body larger than " +
                        std::to_string(limits_.max_body_bytes) + " bytes");
    }
    if (ec) {
      return Refuse(FramerState::kBadRequest,
                    "bad chunked body: " + ec.message());
    }
    if (n == 0) break;
  }
  buffer_.erase(0, used);
  if (p.is_done()) return state_ = FramerState::kReady;
  // What is left is an incomplete chunk-size or trailer line.
  if (buffer_.size() > limits_.max_head_bytes) {
    return Refuse(FramerState::kBadRequest,
                  "chunk size or trailer line longer than " +
                      std::to_string(limits_.max_head_bytes) + " bytes");
  }
  return state_;
}

std::string RequestFramer::TakeRequest() {
  std::string out;
  if (state_ != FramerState::kReady) return out;
  if (chunked_) {
    std::string& body = parser_->parser->get().body();
    out = RewriteHead(head_, {"Transfer-Encoding", "Expect", "Trailer"},
                      "Content-Length: " + std::to_string(body.size()) + "\r\n");
    out += body;
    body.clear();
    body.shrink_to_fit();
  } else if (add_zero_length_) {
    out = RewriteHead(head_, {}, "Content-Length: 0\r\n");
  } else if (body_here_ && continue_sent_) {
    // The interim 100 was sent here: cpp-httplib must not send another.
    out = RewriteHead(head_, {"Expect"}, "");
    out += parser_->parser->get().body();
  } else {
    out = std::move(head_);
    // A Content-Length body read here (whole_body) goes along as it came.
    if (body_here_) out += parser_->parser->get().body();
  }
  out += buffer_;
  head_.clear();
  buffer_.clear();
  return out;
}

size_t RequestFramer::FieldCount() const {
  if (fields_.empty() && head_done_) {
    const auto& msg = parser_->parser->get();
    fields_.reserve(static_cast<size_t>(std::distance(msg.begin(), msg.end())));
    for (const auto& f : msg) {
      fields_.emplace_back(Sv(f.name_string()), Sv(f.value()));
    }
  }
  return fields_.size();
}

std::string_view RequestFramer::FieldName(size_t i) const {
  return fields_[i].first;
}

std::string_view RequestFramer::FieldValue(size_t i) const {
  return fields_[i].second;
}

std::string& RequestFramer::body() { return parser_->parser->get().body(); }

unsigned RequestFramer::version() const {
  return parser_->parser->get().version();
}

std::string RequestFramer::TakeRest() {
  if (buffer_.empty()) return {};  // Keeps the buffer's memory (Reset).
  std::string out = std::move(buffer_);
  buffer_.clear();
  return out;
}

}  // namespace hooksim
