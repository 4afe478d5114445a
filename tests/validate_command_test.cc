#include "sim/cli/validate_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "sim/contract/release_events.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

// One pretty-printed document over several lines, starting on line 2.
const std::string kPretty = std::string("\n") + testing::kSpecExamplePayload;

struct CommandRun {
  int code;
  std::string out;
  std::string err;
};

CommandRun Validate(const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  const int code = RunValidate(in, "hooks.json", out, err);
  return {code, out.str(), err.str()};
}

std::string Compact() { return nlohmann::json::parse(kPretty).dump(); }

TEST(ValidateCommandTest, PrettyPrintedDocumentIsOnePayload) {
  const CommandRun run = Validate(kPretty);
  EXPECT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_EQ(run.out, "1 payload: 1 valid, 0 invalid\n");
  EXPECT_EQ(run.err, "");
}

TEST(ValidateCommandTest, InvalidPrettyDocumentReportsItsStartLine) {
  std::string input = kPretty;
  input.replace(input.find("\"version\":12"), 12, "\"version\":\"12\"");
  const CommandRun run = Validate(input);
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out,
            "hooks.json:2: C4 /data/release/version: expected integer >= 1, "
            "got string \"12\"\n"
            "1 payload: 0 valid, 1 invalid\n");
}

TEST(ValidateCommandTest, JsonLinesWithOneBadLine) {
  std::string bad = Compact();
  bad.replace(bad.find("\"version\":12"), 12, "\"version\":\"12\"");
  const std::string input =
      Compact() + "\n\n" + Compact() + "\r\n" + bad + "\n" + Compact();
  const CommandRun run = Validate(input);
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out,
            "hooks.json:4: C4 /data/release/version: expected integer >= 1, "
            "got string \"12\"\n"
            "4 payloads: 3 valid, 1 invalid\n");
}

TEST(ValidateCommandTest, BrokenPrettyDocumentIsOneParseError) {
  std::string input = kPretty;
  input.replace(input.find("\"version\":12,"), 13, "\"version\":12");
  const CommandRun run = Validate(input);
  EXPECT_EQ(run.code, 1);
  // One issue, at the line the document starts on, with the parser's
  // position counted in lines of the input.
  EXPECT_EQ(run.out.rfind("hooks.json:2: C3 /: not JSON: parse error at "
                          "line 12, column",
                          0),
            0u)
      << run.out;
  EXPECT_NE(run.out.find("\n1 payload: 0 valid, 1 invalid\n"),
            std::string::npos)
      << run.out;
}

TEST(ValidateCommandTest, NotJsonLineIsReportedAtTheRoot) {
  const CommandRun run = Validate(Compact() + "\nnot json\n");
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.out.find("hooks.json:2: C3 /: not JSON: "), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("2 payloads: 1 valid, 1 invalid\n"),
            std::string::npos);
}

TEST(ValidateCommandTest, EmptyOrBlankInputIsNoPayload) {
  for (const char* input : {"", "\n\n  \t\r\n"}) {
    const CommandRun run = Validate(input);
    EXPECT_EQ(run.code, 2);
    EXPECT_EQ(run.out, "");
    EXPECT_NE(run.err.find("no payload"), std::string::npos) << run.err;
  }
}

TEST(ValidateCommandTest, OversizedInputIsRefused) {
  const std::string input(kMaxValidateInputBytes + 1, ' ');
  const CommandRun run = Validate(input);
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("64 MiB"), std::string::npos) << run.err;
}

TEST(ValidateCommandTest, GeneratedEventsValidate) {
  std::ostringstream events;
  ASSERT_EQ(RunEvents(300, 99, ReleaseEventOptions{}, events), 0);
  const CommandRun run = Validate(events.str());
  EXPECT_EQ(run.code, 0) << run.out;
  EXPECT_EQ(run.out, "300 payloads: 300 valid, 0 invalid\n");
}

TEST(ValidateCommandTest, RunEventsIsDeterministicAndBounded) {
  std::ostringstream a;
  std::ostringstream b;
  ASSERT_EQ(RunEvents(50, 5, ReleaseEventOptions{}, a), 0);
  ASSERT_EQ(RunEvents(50, 5, ReleaseEventOptions{}, b), 0);
  EXPECT_EQ(a.str(), b.str());
  size_t lines = 0;
  for (char c : a.str()) lines += c == '\n';
  EXPECT_EQ(lines, 50u);

  std::ostringstream none;
  EXPECT_EQ(RunEvents(-1, 5, ReleaseEventOptions{}, none), 2);
  EXPECT_EQ(RunEvents(kMaxEventCount + 1, 5, ReleaseEventOptions{}, none), 2);
  ReleaseEventOptions bad;
  bad.apps = 0;
  EXPECT_EQ(RunEvents(1, 5, bad, none), 2);
  EXPECT_EQ(none.str(), "");
}

}  // namespace
}  // namespace hooksim
