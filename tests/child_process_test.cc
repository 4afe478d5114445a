// ChildProcess: exit codes, captured output, environment, and stopping a
// command (and what it started in the background) for sure.
#include "sim/os/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

namespace hooksim {
namespace {

// Polls until the child ends; generous: the commands here end at once.
ChildOutcome RunToEnd(ChildProcess& child) {
  for (int i = 0; i < 600 && !child.Poll(Millis(100)); ++i) {
  }
  EXPECT_TRUE(child.ended());
  return child.outcome();
}

std::unique_ptr<ChildProcess> Start(const std::string& command,
                                    ChildOptions options = {}) {
  options.command = command;
  Result<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(options);
  EXPECT_TRUE(child.ok()) << (child.ok() ? "" : child.error().message());
  return child.ok() ? std::move(*child) : nullptr;
}

TEST(ChildProcessTest, CapturesExitCodeOutputAndEnvironment) {
  ChildOptions options;
  options.env = {{"HOOKSIM_TEST_VALUE", "hello there"}};
  auto child =
      Start("echo \"out:$HOOKSIM_TEST_VALUE\"; echo err >&2; exit 3", options);
  ASSERT_NE(child, nullptr);
  const ChildOutcome o = RunToEnd(*child);
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(o.signal, 0);
  EXPECT_FALSE(o.stopped);
  EXPECT_EQ(o.stdout_text, "out:hello there\n");
  EXPECT_EQ(o.stderr_text, "err\n");
  EXPECT_EQ(o.Describe(), "exited with 3");
}

TEST(ChildProcessTest, StdinStreamFeedsTheChildUntilClosed) {
  ChildOptions options;
  options.stdin_stream = true;
  auto child = Start("wc -l", options);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->stdin_open());
  EXPECT_EQ(child->WriteStdin("a\nb\n"), 4u);
  EXPECT_EQ(child->WriteStdin("c\n"), 2u);
  child->CloseStdin();
  EXPECT_FALSE(child->stdin_open());
  EXPECT_EQ(child->WriteStdin("d\n"), 0u);  // Closed: nothing more goes.
  const ChildOutcome o = RunToEnd(*child);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.stdout_text, "3\n");
}

TEST(ChildProcessTest, StdinOfAChildThatHasGoneIsClosedNotASignal) {
  ChildOptions options;
  options.stdin_stream = true;
  auto child = Start("exit 0", options);
  ASSERT_NE(child, nullptr);
  RunToEnd(*child);
  // The reader has gone: the write fails as a value (no SIGPIPE).
  const std::string line(1000, 'x');
  for (int i = 0; i < 1000 && child->stdin_open(); ++i) {
    child->WriteStdin(line);
  }
  EXPECT_FALSE(child->stdin_open());
}

TEST(ChildProcessTest, WithoutStdinStreamTheChildReadsNothing) {
  auto child = Start("cat");
  ASSERT_NE(child, nullptr);
  EXPECT_FALSE(child->stdin_open());
  EXPECT_EQ(child->WriteStdin("x"), 0u);
  const ChildOutcome o = RunToEnd(*child);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.stdout_text, "");
}

TEST(ChildProcessTest, UnknownCommandExits127) {
  auto child = Start("hooksim-no-such-command-xyz");
  ASSERT_NE(child, nullptr);
  const ChildOutcome o = RunToEnd(*child);
  EXPECT_EQ(o.exit_code, 127);
  EXPECT_NE(o.stderr_text.find("not found"), std::string::npos);
}

TEST(ChildProcessTest, OutputIsCappedAndTheCutNoted) {
  ChildOptions options;
  options.max_output_bytes = 1000;
  auto child = Start("head -c 300000 /dev/zero | tr '\\0' x", options);
  ASSERT_NE(child, nullptr);
  const ChildOutcome o = RunToEnd(*child);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.stdout_text, std::string(1000, 'x'));
  EXPECT_TRUE(o.stdout_truncated);
  EXPECT_FALSE(o.stderr_truncated);
}

TEST(ChildProcessTest, StopEndsTheWholeGroupIncludingBackgroundChildren) {
  // The shell starts a background sleeper and itself ignores SIGTERM, so
  // only SIGKILL after the grace period ends it.
  auto child = Start("trap '' TERM; sleep 300 & sleep 300; wait");
  ASSERT_NE(child, nullptr);
  EXPECT_FALSE(child->Poll(Millis(200)));
  child->Stop(Millis(300));
  EXPECT_TRUE(child->ended());
  const ChildOutcome o = child->outcome();
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.signal, 9);
  EXPECT_TRUE(child->KillGroup());
  EXPECT_FALSE(child->GroupAlive());
}

TEST(ChildProcessTest, KillGroupEndsWhatAnExitedShellLeftBehind) {
  BecomeSubreaper();
  auto child = Start("sleep 300 >/dev/null 2>&1 & exit 0");
  ASSERT_NE(child, nullptr);
  const ChildOutcome o = RunToEnd(*child);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_TRUE(child->GroupAlive());  // The sleeper.
  EXPECT_TRUE(child->KillGroup());
  EXPECT_FALSE(child->GroupAlive());
}

TEST(ChildProcessTest, DestructorLeavesNothingBehind) {
  BecomeSubreaper();  // So the sleeper's zombie is ours to reap.
  pid_t group = 0;
  {
    auto child = Start("sleep 300");
    ASSERT_NE(child, nullptr);
    group = child->pid();
  }
  // kill(-group, 0) fails with ESRCH once nothing has the group id (the
  // sleeper was our child and is reaped, so not even a zombie is left).
  EXPECT_NE(kill(-group, 0), 0);
}

}  // namespace
}  // namespace hooksim
