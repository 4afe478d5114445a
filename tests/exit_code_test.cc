// The one mapping from Status codes and signals to exit codes
// (sim/cli/exit_code.h), and the values the README's exit-code table lists.
#include "sim/cli/exit_code.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace hooksim {
namespace {

TEST(ExitCodeTest, ValuesAreTheDocumentedOnes) {
  EXPECT_EQ(ToInt(ExitCode::kOk), 0);
  EXPECT_EQ(ToInt(ExitCode::kFailed), 1);
  EXPECT_EQ(ToInt(ExitCode::kUsage), 2);
  EXPECT_EQ(ToInt(ExitCode::kInterrupted), 130);
  EXPECT_EQ(ToInt(ExitCode::kTerminated), 143);
}

TEST(ExitCodeTest, EachStatusCodeMapsToItsExitCode) {
  struct Case {
    Status status;
    ExitCode expected;
  };
  const Case cases[] = {
      {Status::Ok(), ExitCode::kOk},
      {Status::InvalidArgument("bad flag"), ExitCode::kUsage},
      {Status::NotFound("no state database"), ExitCode::kUsage},
      {Status::IoError("cannot write"), ExitCode::kUsage},
      {Status::Unavailable("port in use"), ExitCode::kUsage},
      {Status::FailedPrecondition("newer schema"), ExitCode::kUsage},
      {Status::DeadlineExceeded("step limit"), ExitCode::kFailed},
      {Status::Internal("broken invariant"), ExitCode::kFailed},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ExitCodeFor(c.status), c.expected)
        << StatusCodeName(c.status.code());
  }
}

TEST(ExitCodeTest, SignalsMapTo128PlusTheirNumber) {
  EXPECT_EQ(ExitCodeForSignal(SIGINT), ExitCode::kInterrupted);
  EXPECT_EQ(ToInt(ExitCodeForSignal(SIGINT)), 128 + SIGINT);
  EXPECT_EQ(ExitCodeForSignal(SIGTERM), ExitCode::kTerminated);
  EXPECT_EQ(ToInt(ExitCodeForSignal(SIGTERM)), 128 + SIGTERM);
  EXPECT_EQ(ExitCodeForSignal(SIGHUP), ExitCode::kFailed);
}

// The README's exit-code table lists exactly the codes of ExitCode.
TEST(ExitCodeTest, ReadmeTableListsTheSameCodes) {
  std::ifstream in(std::string(HOOKSIM_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const size_t start = readme.find("### Exit codes");
  ASSERT_NE(start, std::string::npos);
  const size_t end = readme.find("\n## ", start);
  std::istringstream section(readme.substr(start, end - start));
  const std::regex row(R"(^\| (\d+) \|)");
  std::set<int> listed;
  for (std::string line; std::getline(section, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) listed.insert(std::stoi(m[1]));
  }
  const std::set<int> expected = {
      ToInt(ExitCode::kOk), ToInt(ExitCode::kFailed), ToInt(ExitCode::kUsage),
      ToInt(ExitCode::kInterrupted), ToInt(ExitCode::kTerminated)};
  EXPECT_EQ(listed, expected);
}

}  // namespace
}  // namespace hooksim
