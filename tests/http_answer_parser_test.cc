#include "sim/http/http_answer_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace hooksim {
namespace {

using State = HttpAnswerParser::State;

// Feeds all of `bytes` in pieces of `piece` bytes (0: all at once), then
// EOF when `eof`; returns the final state.
State FeedInPieces(HttpAnswerParser& parser, std::string_view bytes,
                   size_t piece, bool eof = false) {
  State state = State::kNeedMore;
  if (piece == 0) piece = bytes.size() + 1;
  for (size_t at = 0; at < bytes.size(); at += piece) {
    state = parser.Feed(bytes.substr(at, piece));
  }
  if (eof && state == State::kNeedMore) state = parser.OnEof();
  return state;
}

struct Case {
  std::string bytes;
  bool eof;
  State state;
  int status;          // When done.
  AttemptError error;  // When failed.
  bool keep;
};

TEST(HttpAnswerParserTest, SameVerdictWhateverThePieces) {
  const std::vector<Case> cases = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, State::kDone,
       200, AttemptError::kNone, true},
      {"HTTP/1.1 204 No Content\r\n\r\n", false, State::kDone, 204,
       AttemptError::kNone, true},
      {"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", false,
       State::kDone, 302, AttemptError::kNone, true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3;x=y\r\nabc\r\n0\r\nTrailer: 1\r\n\r\n",
       false, State::kDone, 200, AttemptError::kNone, true},
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
       "Content-Length: 0\r\n\r\n",
       false, State::kDone, 201, AttemptError::kNone, true},
      {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
       false, State::kDone, 200, AttemptError::kNone, false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, State::kDone, 200,
       AttemptError::kNone, false},
      {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
       false, State::kDone, 200, AttemptError::kNone, true},
      // Delimited by close: done at EOF, never kept.
      {"HTTP/1.1 200 OK\r\n\r\nbody", true, State::kDone, 200,
       AttemptError::kNone, false},
      // Stray bytes after a complete answer: not kept.
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nX", false, State::kDone,
       200, AttemptError::kNone, false},
      {"", true, State::kFailed, 0, AttemptError::kEmptyReply, false},
      {"garbage", false, State::kFailed, 0, AttemptError::kMalformed, false},
      {"HTTP/1.1 2x0 OK\r\n\r\n", false, State::kFailed, 0,
       AttemptError::kMalformed, false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       false, State::kFailed, 0, AttemptError::kMalformed, false},
      {"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", false, State::kFailed, 0,
       AttemptError::kMalformed, false},
      // Cut short: in the head, in the body, in a chunk.
      {"HTTP/1.1 200 O", true, State::kFailed, 0, AttemptError::kMalformed,
       false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", true, State::kFailed,
       0, AttemptError::kMalformed, false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true,
       State::kFailed, 0, AttemptError::kMalformed, false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false,
       State::kFailed, 0, AttemptError::kMalformed, false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXYZ", false,
       State::kFailed, 0, AttemptError::kMalformed, false},
  };
  for (const Case& c : cases) {
    for (size_t piece : {0, 1, 2, 7}) {
      HttpAnswerParser parser;
      const State state = FeedInPieces(parser, c.bytes, piece, c.eof);
      SCOPED_TRACE(c.bytes + " in pieces of " + std::to_string(piece));
      ASSERT_EQ(state, c.state);
      if (state == State::kDone) {
        EXPECT_EQ(parser.result().error, AttemptError::kNone);
        EXPECT_EQ(parser.result().status, c.status);
        EXPECT_EQ(parser.keep_alive(), c.keep);
      } else {
        EXPECT_EQ(parser.result().error, c.error);
        EXPECT_FALSE(parser.keep_alive());
      }
    }
  }
}

TEST(HttpAnswerParserTest, NeedsMoreUntilTheAnswerIsComplete) {
  HttpAnswerParser parser;
  EXPECT_EQ(parser.Feed("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"),
            State::kNeedMore);
  EXPECT_EQ(parser.Feed("c"), State::kNeedMore);
  EXPECT_EQ(parser.Feed("d"), State::kDone);
  EXPECT_EQ(parser.result().status, 200);
  EXPECT_TRUE(parser.keep_alive());
  // Over: the same verdict from now on.
  EXPECT_EQ(parser.OnEof(), State::kDone);
  // Reset starts a new answer.
  parser.Reset();
  EXPECT_EQ(parser.state(), State::kNeedMore);
  EXPECT_EQ(parser.OnEof(), State::kFailed);
  EXPECT_EQ(parser.result().error, AttemptError::kEmptyReply);
}

TEST(HttpAnswerParserTest, HeadOverItsCapIsMalformedWithoutBufferingMore) {
  HttpAnswerParser parser(HttpAnswerParserOptions{.max_head_bytes = 100});
  const std::string head =
      "HTTP/1.1 200 OK\r\nX-Long: " + std::string(200, 'a') + "\r\n\r\n";
  EXPECT_EQ(FeedInPieces(parser, head, 10), State::kFailed);
  EXPECT_EQ(parser.result().error, AttemptError::kMalformed);
  HttpAnswerParser at_once(HttpAnswerParserOptions{.max_head_bytes = 100});
  EXPECT_EQ(at_once.Feed(head), State::kFailed);
  EXPECT_EQ(at_once.result().error, AttemptError::kMalformed);
}

TEST(HttpAnswerParserTest, BodyOverTheDrainCapEndsTheAnswerAndTheConnection) {
  const HttpAnswerParserOptions options{.max_drained_body_bytes = 1000};
  // Content-Length over the cap: done at once, before any body byte.
  HttpAnswerParser by_length(options);
  EXPECT_EQ(by_length.Feed("HTTP/1.1 200 OK\r\nContent-Length: "
                           "100000000\r\n\r\n"),
            State::kDone);
  EXPECT_EQ(by_length.result().status, 200);
  EXPECT_FALSE(by_length.keep_alive());
  // Chunked: done when the announced chunks pass the cap.
  HttpAnswerParser chunked(options);
  EXPECT_EQ(chunked.Feed("HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "200\r\n" +
                         std::string(0x200, 'x') + "\r\n"),
            State::kNeedMore);
  EXPECT_EQ(chunked.Feed("300\r\n"), State::kDone);
  EXPECT_EQ(chunked.result().status, 500);
  EXPECT_FALSE(chunked.keep_alive());
  // Delimited by close: done once more than the cap was drained.
  HttpAnswerParser by_close(options);
  EXPECT_EQ(by_close.Feed("HTTP/1.1 200 OK\r\n\r\n"), State::kNeedMore);
  State state = State::kNeedMore;
  int pieces = 0;
  while (state == State::kNeedMore && pieces < 100) {
    state = by_close.Feed(std::string(100, 'y'));
    ++pieces;
  }
  EXPECT_EQ(state, State::kDone);
  EXPECT_EQ(pieces, 11);
  EXPECT_FALSE(by_close.keep_alive());
}

TEST(HttpAnswerParserTest, ChunkLineAndInterimAnswersAreCapped) {
  HttpAnswerParser long_line;
  EXPECT_EQ(long_line.Feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                           "\r\n\r\n" +
                           std::string(5000, '0')),
            State::kFailed);
  EXPECT_EQ(long_line.result().error, AttemptError::kMalformed);
  HttpAnswerParser interim;
  std::string many;
  for (int i = 0; i < 17; ++i) many += "HTTP/1.1 100 Continue\r\n\r\n";
  EXPECT_EQ(interim.Feed(many), State::kFailed);
  EXPECT_EQ(interim.result().error, AttemptError::kMalformed);
  HttpAnswerParser sixteen;
  std::string ok;
  for (int i = 0; i < 16; ++i) ok += "HTTP/1.1 100 Continue\r\n\r\n";
  ok += "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(sixteen.Feed(ok), State::kDone);
  EXPECT_EQ(sixteen.result().status, 200);
}

TEST(HttpAnswerParserTest, SwitchingProtocolsEndsTheExchange) {
  HttpAnswerParser parser;
  EXPECT_EQ(parser.Feed("HTTP/1.1 101 Switching Protocols\r\n\r\n"),
            State::kDone);
  EXPECT_EQ(parser.result().status, 101);
  EXPECT_FALSE(parser.keep_alive());
}

}  // namespace
}  // namespace hooksim
