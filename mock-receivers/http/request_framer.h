// Reads the framing of one HTTP/1.1 request (its head, and its body when
// chunked) before cpp-httplib sees it, and refuses what cpp-httplib 0.11
// would get wrong or let through (RFC 9112 section 6.3, request smuggling,
// unbounded heads and chunked bodies).
//
// The head and the chunked framing are parsed by Boost.Beast's
// http::request_parser (header-only, on plain buffers; no Asio I/O); the
// rules of this file are checked on the fields it parsed:
//   400 (bad request, close): a head Beast cannot parse; both
//       Content-Length and Transfer-Encoding; Content-Length given twice
//       (even with the same value) or not a plain decimal; a
//       Transfer-Encoding other than exactly "chunked" (one field, one
//       coding: "xchunked", "gzip, chunked", "chunked, chunked" are all
//       refused); malformed chunk framing;
//   431 (close): a head over max_head_bytes, or more than max_headers
//       header fields;
//   413 (close): a body over max_body_bytes: a Content-Length over it at
//       once (no body byte is read), a chunked body as soon as the chunk
//       sizes announced pass it (the body is never buffered past it).
// A request that passes is handed on as bytes for cpp-httplib to parse:
//   - with Content-Length: as it came (cpp-httplib reads the body);
//   - chunked: the body decoded and re-framed with Content-Length (the
//     Transfer-Encoding and Expect fields dropped, chunk trailers dropped),
//     so cpp-httplib never reads chunked framing;
//   - with no body framing at all: "Content-Length: 0" added after the
//     request line (RFC 9112 6.3: such a request has no body; cpp-httplib
//     0.11 refuses a POST without Content-Length).
// A method cpp-httplib does not route is reported (kMethodNotAllowed).
//
// Thread: an object serves one request on one thread; not thread-safe.
#ifndef HOOKSIM_MOCK_RECEIVERS_HTTP_REQUEST_FRAMER_H_
#define HOOKSIM_MOCK_RECEIVERS_HTTP_REQUEST_FRAMER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hooksim {

struct RequestFramerLimits {
  size_t max_head_bytes = 64 << 10;  // Request line and header fields.
  size_t max_headers = 100;          // Header fields.
  size_t max_body_bytes = 8 << 20;   // Decoded body bytes.
  // Also read a Content-Length body (the event core's mode): kReady then
  // means the whole request is here, its body in body(). Otherwise
  // kReady comes after the head of such a request (cpp-httplib reads the
  // body).
  bool whole_body = false;
};

enum class FramerState {
  kNeedMore,          // Feed more bytes.
  kReady,             // TakeRequest() holds the request for cpp-httplib.
  kBadRequest,        // 400 and close.
  kHeadTooLarge,      // 431 and close (head bytes or header count).
  kBodyTooLarge,      // 413 and close.
  kMethodNotAllowed,  // 405 and close: a method cpp-httplib does not route.
};

// The status answered for a refusal state (400, 431, 413, 405); 0 for
// kNeedMore and kReady.
int FramerStatus(FramerState state);

class RequestFramer {
 public:
  explicit RequestFramer(RequestFramerLimits limits);
  ~RequestFramer();
  RequestFramer(const RequestFramer&) = delete;
  RequestFramer& operator=(const RequestFramer&) = delete;

  // Ready for the next request of the connection, as a new framer with
  // the same limits would be (state kNeedMore, nothing fed), but keeping
  // the memory its buffers grew to. Call TakeRest first to keep the bytes
  // that followed the request.
  void Reset();

  // Appends `bytes` (read from the connection, in order) and parses as far
  // as they go. Once the state is not kNeedMore, further calls change
  // nothing and return it.
  FramerState Feed(std::string_view bytes);
  FramerState state() const { return state_; }
  // Why the request was refused, for the answer's body ("both
  // Content-Length and Transfer-Encoding"); "" unless refused.
  const std::string& reason() const { return reason_; }
  // The head is complete, a body is to be read here (chunked, or any with
  // whole_body) and the client asked for "Expect: 100-continue": it waits
  // for an interim 100 before sending the body (send it once, then keep
  // feeding).
  bool wants_continue() const;
  void ContinueSent();
  // The request's method and target ("" before the head is parsed).
  const std::string& method() const { return method_; }
  const std::string& target() const { return target_; }
  // The bytes of the request seen so far, head first (at most `max`): what
  // is known of a refused request.
  std::string SeenBytes(size_t max) const {
    std::string out = head_.substr(0, max);
    out.append(buffer_, 0, max - out.size());
    return out;
  }
  // The whole head has been parsed (the body may still be coming).
  bool head_done() const { return head_done_; }
  // After kReady with whole_body: the parsed request. Header fields in
  // the order they came; views live as long as the framer and until
  // TakeRequest/TakeRest.
  template <typename Fn>  // Fn(std::string_view name, std::string_view value)
  void ForEachHeader(Fn fn) const {
    for (size_t i = 0; i < FieldCount(); ++i) fn(FieldName(i), FieldValue(i));
  }
  size_t FieldCount() const;
  std::string_view FieldName(size_t i) const;
  std::string_view FieldValue(size_t i) const;
  // The decoded body (whole_body or chunked).
  std::string& body();
  // The HTTP version as Beast gives it: 10 for HTTP/1.0, 11 for HTTP/1.1.
  unsigned version() const;
  // The body came chunked (cpp-httplib is handed it re-framed with
  // Content-Length, without Transfer-Encoding, Expect and Trailer).
  bool chunked() const { return chunked_; }
  // A POST, PUT or PATCH without body framing (cpp-httplib is handed it
  // with "Content-Length: 0" added).
  bool adds_zero_length() const { return add_zero_length_; }
  // After kReady: the bytes fed after the request (the start of the next
  // one). Call once, instead of TakeRequest.
  std::string TakeRest();
  // Bytes were fed after the request (kReady): a next one has begun.
  bool has_rest() const { return !buffer_.empty(); }
  // After kReady: the bytes to hand to cpp-httplib (the request, then any
  // bytes fed after it: the start of a next request or, with
  // Content-Length, the part of the body fed so far). Call once.
  std::string TakeRequest();

 private:
  struct Parser;
  FramerState Refuse(FramerState state, std::string reason);
  FramerState CheckHead();
  FramerState ParseBody();

  const RequestFramerLimits limits_;
  std::unique_ptr<Parser> parser_;
  FramerState state_ = FramerState::kNeedMore;
  std::string reason_;
  std::string buffer_;     // Fed and not consumed by the parser.
  std::string head_;       // The head as it came (once parsed).
  std::string method_;
  std::string target_;
  bool chunked_ = false;
  bool expect_continue_ = false;
  bool continue_sent_ = false;
  bool add_zero_length_ = false;
  bool head_done_ = false;
  bool body_here_ = false;  // The body is read here (chunked or whole_body).
  mutable std::vector<std::pair<std::string_view, std::string_view>> fields_;
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_HTTP_REQUEST_FRAMER_H_
