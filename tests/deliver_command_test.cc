#include "sim/cli/deliver_command.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/cli/cli.h"
#include "sim/cli/exit_code.h"
#include "tests/loopback_servers.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using testing::HttplibServer;
using testing::RefusedPort;

using testing::Cli;
using testing::CliResult;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t i = text.find(needle); i != std::string::npos;
       i = text.find(needle, i + 1)) {
    ++n;
  }
  return n;
}

TEST(DeliverCommandTest, HelpNamesEveryFlag) {
  CliResult r = Cli({"help", "deliver"});
  EXPECT_EQ(r.code, 0);
  for (const char* flag :
       {"--url", "--count", "--seed", "--retry-schedule-ms", "--timeout-ms",
        "--jitter", "--concurrency", "--interval-ms", "130"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(Cli({"deliver", "--help"}).code, 0);
  EXPECT_NE(Cli({"--help"}).out.find("deliver --url URL"), std::string::npos);
}

TEST(DeliverCommandTest, BadFlagsAreUsageErrorsNamingFlagAndValue) {
  const std::string url = "http://127.0.0.1:1/hook";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"deliver", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
       "--secret: only with --url"},
      {{"deliver", "--url", url, "--secret", "whsec_!!"}, "--secret: "},
      {{"deliver", "--url", url, "--secret", "abc"}, "--secret: "},
      {{"deliver", "--url", url, "--resume"}, "--resume: not with --url"},
      {{"deliver", "--url", url, "--state", "x.db"}, "--state: not with --url"},
      {{"deliver", "--resume", "--count", "2"}, "--resume: delivers what is"},
      {{"deliver", "--count", "2", "--generate", "2"},
       "--count and --generate: give one"},
      {{"deliver", "--generate", "0"}, "--generate: expected an integer"},
      {{"deliver", "--interval-ms", "5"}, "--interval-ms: only with --url"},
      {{"deliver", "--url", "https://example.com/"},
       "--url: unsupported scheme \"https\""},
      {{"deliver", "--url", "example.com/hook"}, "--url: expected an http://"},
      {{"deliver", "--url", "http://a:0/"}, "--url: expected a port"},
      {{"deliver", "--url", url, "--count", "0"},
       "--count: expected an integer 1..100000, got \"0\""},
      {{"deliver", "--url", url, "--count", "100001"}, "got \"100001\""},
      {{"deliver", "--url", url, "--count", "-1"}, "--count: expected"},
      {{"deliver", "--url", url, "--count", "3x"}, "got \"3x\""},
      {{"deliver", "--url", url, "--seed", "-5"}, "--seed: expected"},
      {{"deliver", "--url", url, "--retry-schedule-ms", "10,x"},
       "--retry-schedule-ms: expected 1 to 5 comma-separated delays"},
      {{"deliver", "--url", url, "--retry-schedule-ms", "10,,20"},
       "got \"10,,20\""},
      {{"deliver", "--url", url, "--retry-schedule-ms", ""},
       "--retry-schedule-ms: expected"},
      {{"deliver", "--url", url, "--retry-schedule-ms", "-10"},
       "--retry-schedule-ms: expected"},
      {{"deliver", "--url", url, "--retry-schedule-ms", "1,2,3,4,5,6"},
       "--retry-schedule-ms: at most 5 delays"},
      {{"deliver", "--url", url, "--timeout-ms", "0"},
       "--timeout-ms: expected an integer 1..3600000, got \"0\""},
      {{"deliver", "--url", url, "--timeout-ms", "1.5"}, "--timeout-ms"},
      {{"deliver", "--url", url, "--jitter", "1.5"},
       "--jitter: expected a fraction 0..1, got \"1.5\""},
      {{"deliver", "--url", url, "--jitter", "-0.1"}, "--jitter"},
      {{"deliver", "--url", url, "--concurrency", "0"}, "--concurrency"},
      {{"deliver", "--url", url, "--interval-ms", "abc"},
       "--interval-ms: expected"},
      {{"deliver", "--url", url, "stray"}, "unexpected argument \"stray\""},
      {{"deliver", "--url", url, "--bogus"}, "bogus"},
  };
  for (const Case& c : cases) {
    const CliResult r = Cli(c.args);
    EXPECT_EQ(r.code, 2) << c.message << "\n" << r.out;
    EXPECT_NE(r.err.find(c.message), std::string::npos)
        << "want: " << c.message << "\ngot: " << r.err;
  }
}

TEST(DeliverCommandTest, ParsesFlagsIntoOptions) {
  const Result<DeliverOptions> o = ParseArgs(
      kDeliverFlags,
      {"--url", "http://localhost:8080/h", "--count", "7", "--seed",
       "18446744073709551615", "--retry-schedule-ms", "10,20", "--timeout-ms",
       "250", "--jitter", "0.5", "--concurrency", "3", "--interval-ms", "15",
       "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"});
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_EQ(o->secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  EXPECT_FALSE(o->state.has_value());
  EXPECT_FALSE(o->resume);
  EXPECT_EQ(o->count, 7);
  EXPECT_EQ(o->seed, 18446744073709551615ULL);
  EXPECT_EQ(o->schedule, (std::vector<Duration>{Millis(10), Millis(20)}));
  EXPECT_EQ(o->timeout, Millis(250));
  EXPECT_EQ(o->jitter, 0.5);
  EXPECT_EQ(o->concurrency, 3);
  EXPECT_EQ(o->interval, Millis(15));
}

TEST(DeliverCommandTest, DeliversToALoopbackServerAndRetriesFailures) {
  HttplibServer server;
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> bodies;  // By delivery.
  server.server().Post("/hook", [&](const auto& req, auto& res) {
    std::lock_guard<std::mutex> lock(mu);
    auto& seen = bodies[req.get_header_value("X-Hooksim-Delivery")];
    seen.push_back(req.body);
    res.status = seen.size() == 1 ? 503 : 200;  // 503 first, then 200.
  });
  server.Start();
  const CliResult r =
      Cli({"deliver", "--url", server.url(), "--count", "3", "--seed", "5",
           "--retry-schedule-ms", "5", "--jitter", "0", "--concurrency", "2",
           "--interval-ms", "1"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("delivering 3 release events to " + server.url() +
                       " (seed 5)"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(Count(r.out, "attempt 1/6  503 after"), 3u) << r.out;
  EXPECT_EQ(Count(r.out, "-> retry at +"), 3u) << r.out;
  EXPECT_EQ(Count(r.out, "attempt 2/6  200 after"), 3u) << r.out;
  EXPECT_EQ(Count(r.out, "-> delivered"), 3u) << r.out;
  EXPECT_EQ(Count(r.out, "  attempts=2  delivered  last=200"), 3u) << r.out;
  EXPECT_NE(r.out.find("3 deliveries: 3 delivered, 0 gave_up; 6 attempts in "),
            std::string::npos)
      << r.out;
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(bodies.size(), 3u);
  for (const auto& [id, seen] : bodies) {
    ASSERT_EQ(seen.size(), 2u) << id;
    EXPECT_EQ(seen[0], seen[1]) << "the same body on every attempt";
    const nlohmann::json body = nlohmann::json::parse(seen[0]);
    EXPECT_EQ(body["event"], "release");
    EXPECT_TRUE(body["data"].is_object());
  }
}

TEST(DeliverCommandTest, EventFileBodiesAreSentByteForByte) {
  HttplibServer server;
  std::mutex mu;
  std::vector<std::string> bodies;
  std::vector<std::string> types;
  server.server().Post("/hook", [&](const auto& req, auto& res) {
    std::lock_guard<std::mutex> lock(mu);
    bodies.push_back(req.body);
    types.push_back(req.get_header_value("X-Hooksim-Event"));
    res.status = 200;
  });
  server.Start();
  char path[] = "/tmp/hooksim_deliver_events_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string lines =
      "{\"event\":\"release\", \"data\":{\"n\":1}}\n"
      "{\"event\":\"other\",\"data\":{ }}\n";
  ASSERT_EQ(write(fd, lines.data(), lines.size()),
            static_cast<ssize_t>(lines.size()));
  close(fd);
  const CliResult r = Cli({"deliver", "--url", server.url(), "--event-file",
                           path, "--concurrency", "1", "--interval-ms", "1"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("delivering 2 events to "), std::string::npos) << r.out;
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(bodies.size(), 2u);
    EXPECT_EQ(bodies[0], "{\"event\":\"release\", \"data\":{\"n\":1}}");
    EXPECT_EQ(bodies[1], "{\"event\":\"other\",\"data\":{ }}");
    EXPECT_EQ(types[1], "other");
  }
  const CliResult both = Cli({"deliver", "--url", server.url(), "--event-file",
                              path, "--count", "2"});
  EXPECT_EQ(both.code, 2);
  EXPECT_NE(both.err.find("--event-file and --count"), std::string::npos)
      << both.err;
  std::remove(path);
  const CliResult missing =
      Cli({"deliver", "--url", server.url(), "--event-file", path});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("--event-file: "), std::string::npos)
      << missing.err;
  EXPECT_NE(missing.err.find("cannot open the file"), std::string::npos)
      << missing.err;
}

TEST(DeliverCommandTest, GivesUpAfterSixAttemptsAgainstARefusedPort) {
  RefusedPort port;
  const CliResult r = Cli({"deliver", "--url", port.url(),
                           "--retry-schedule-ms", "1,2,3", "--jitter", "0"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(Count(r.out, "refused after"), 6u) << r.out;
  EXPECT_NE(r.out.find("attempt 6/6  refused after"), std::string::npos);
  EXPECT_NE(r.out.find("-> gave_up"), std::string::npos);
  EXPECT_NE(r.out.find("attempts=6  gave_up  last=refused"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 delivery: 0 delivered, 1 gave_up; 6 attempts"),
            std::string::npos)
      << r.out;
}

TEST(DeliverCommandTest, SigintStopsCleanlyAndReportsPendingDeliveries) {
  HttplibServer server;
  std::mutex mu;
  std::condition_variable cv;
  int requests = 0;
  server.server().Post("/hook", [&](const auto&, auto& res) {
    std::lock_guard<std::mutex> lock(mu);
    ++requests;
    cv.notify_all();
    res.status = 503;
  });
  server.Start();
  // Once both first attempts were answered, Ctrl-C; the re-attempts are an
  // hour away, so only the interrupt can end the run.
  std::thread interrupter([&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, testing::kMaxWait, [&] { return requests >= 2; });
    lock.unlock();
    kill(getpid(), SIGINT);
  });
  const CliResult r = Cli({"deliver", "--url", server.url(), "--count", "2",
                           "--retry-schedule-ms", "3600000"});
  interrupter.join();
  EXPECT_EQ(r.code, ToInt(ExitCode::kInterrupted)) << r.out << r.err;
  EXPECT_EQ(Count(r.out, "  pending  last="), 2u) << r.out;
  EXPECT_NE(r.out.find("2 deliveries: 0 delivered, 0 gave_up, 2 pending"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("interrupted: 2 deliveries still pending"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace hooksim
