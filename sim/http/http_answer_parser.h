// An incremental parser for one HTTP/1.x answer, fed the bytes a sender
// reads from its connection in whatever pieces they arrive. Pure: no I/O,
// no clock. Used by the event-driven
// HttpTransport, so both apply the same rules.
//
// Feed() takes the next bytes; OnEof() says the server closed. Both return
// the state: kNeedMore (read more), kDone (result() has the status,
// keep_alive() says whether the connection may carry another request) or
// kFailed (result().error says why). Once done or failed, the answer is
// over: further calls return the same state.
//
// What it reads: the status line and headers (at most max_head_bytes;
// 1xx interim answers other than 101 are skipped, at most 16 of them), then
// the body, which is counted and discarded, never stored: chunked (chunk
// lines of at most 4096 bytes, trailers of at most max_head_bytes),
// Content-Length, or until the server closes. A 101 answer ends the
// exchange (the connection is not HTTP any more and is not kept).
//
// Memory: only the head being parsed and the current chunk line are kept,
// so what a receiver sends cannot make the sender buffer more than
// max_head_bytes. A body larger than max_drained_body_bytes is not read to
// its end: the answer is done as soon as its size is known to exceed the
// cap (Content-Length) or once that many bytes were drained (chunked or
// delimited by close); the status counts (the receiver has answered) and
// keep_alive() is false, so the connection is closed.
//
// Errors (result().error when kFailed):
//   kEmptyReply  EOF before any byte of an answer;
//   kMalformed   bytes that are not an HTTP/1.x answer (checked from the
//                first five bytes on, so garbage fails at once), a status
//                line or header that does not parse, conflicting
//                Content-Lengths, a head, chunk line or trailer over its
//                cap, too many interim answers, or EOF in the middle of an
//                answer.
//
// Keep-alive: HTTP/1.1 without "Connection: close", or HTTP/1.0 with
// "Connection: keep-alive", with framing known (Content-Length or chunked;
// not both with Transfer-Encoding) and no stray bytes after the answer in
// the piece that completed it.
//
// Thread: one parser per exchange in progress, used by one thread at a time.
#ifndef HOOKSIM_SIM_HTTP_HTTP_ANSWER_PARSER_H_
#define HOOKSIM_SIM_HTTP_HTTP_ANSWER_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/contract/http_types.h"

namespace hooksim {

struct HttpAnswerParserOptions {
  size_t max_head_bytes = 64 << 10;         // Status line + headers.
  size_t max_drained_body_bytes = 1 << 20;  // Bodies read to their end.
};

class HttpAnswerParser {
 public:
  enum class State { kNeedMore, kDone, kFailed };

  explicit HttpAnswerParser(HttpAnswerParserOptions options = {});

  // Starts a new answer (keeps the buffers' capacity).
  void Reset();

  State Feed(std::string_view bytes);
  State OnEof();

  State state() const { return state_; }
  // The status (kDone) or the error (kFailed).
  AttemptResult result() const { return result_; }
  bool keep_alive() const { return state_ == State::kDone && keep_; }
  // True once any byte of an answer was fed.
  bool any_byte() const { return any_byte_; }

 private:
  enum class Phase {
    kHead,
    kBody,        // remaining_ bytes of a Content-Length body.
    kChunkSize,   // A chunk-size line.
    kChunkData,   // remaining_ bytes of chunk data.
    kChunkEnd,    // The CRLF after chunk data.
    kTrailer,     // Trailer lines up to the blank line.
    kUntilClose,  // A body delimited by the server's close.
  };
  struct Head {
    int status = 0;
    bool keep_alive = false;
    bool chunked = false;
    bool delimited_by_close = false;
    bool has_length = false;
    uint64_t content_length = 0;
    int64_t retry_after_ms = kNoRetryAfter;  // AttemptResult's.
  };

  // Each consumes from `bytes` and may change phase_ or finish.
  void FeedHead(std::string_view& bytes);
  void FeedLine(std::string_view& bytes, size_t max);
  void OnLine(std::string_view line);
  // Parses head_ into *head; false when it is malformed.
  bool ParseHead(std::string_view text, Head* head) const;
  void StartBody(const Head& head);
  void Finish(bool keep);
  void Fail(AttemptError error);

  HttpAnswerParserOptions options_;
  State state_ = State::kNeedMore;
  Phase phase_ = Phase::kHead;
  AttemptResult result_;
  bool keep_ = false;
  bool head_keep_alive_ = false;
  bool any_byte_ = false;
  int interim_ = 0;
  uint64_t remaining_ = 0;
  uint64_t drained_ = 0;
  size_t trailer_bytes_ = 0;
  std::string head_;  // The head being read.
  std::string line_;  // The chunk line being read.
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_HTTP_HTTP_ANSWER_PARSER_H_
