// `hooksim bench`: flag parsing and small end-to-end runs over loopback
// HTTP, checking the figures' counts (never their speed).
#include "sim/cli/bench_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/loopback_servers.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using ::hooksim::testing::Cli;
using ::hooksim::testing::CliResult;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/bench_test_" + std::to_string(getpid()) +
         "_" + name;
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// `hooksim bench ARGS...` is exit 2 with `needle` in its message.
void ExpectUsageError(const std::vector<std::string>& bench_args,
                      const std::string& needle) {
  std::vector<std::string> args = {"bench"};
  args.insert(args.end(), bench_args.begin(), bench_args.end());
  const CliResult r = Cli(args);
  EXPECT_EQ(r.code, 2) << bench_args[0];
  EXPECT_NE(r.err.find(needle), std::string::npos)
      << bench_args[0] << ": " << r.err;
  EXPECT_TRUE(r.out.empty()) << bench_args[0];
}

TEST(BenchFlagsTest, DefaultsAndValues) {
  Result<BenchCommandOptions> d = ParseArgs(kBenchFlags, {});
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->bench.count.has_value());
  EXPECT_FALSE(d->bench.duration.has_value());
  EXPECT_EQ(d->bench.receivers, 1);
  EXPECT_EQ(d->bench.concurrency, 16);
  EXPECT_EQ(d->bench.io_threads, 1);
  EXPECT_EQ(d->bench.failure_rate, 0);
  EXPECT_EQ(d->bench.schedule.front(), Millis(1));
  EXPECT_FALSE(d->report_json.has_value());

  std::vector<std::string> f = {
      "--duration-s",        "2.5", "--receivers",  "3",   "--concurrency",
      "8",                   "--payload-bytes",     "2048", "--failure-rate",
      "0.3",                 "--retry-schedule-ms", "0,5", "--timeout-ms",
      "250",                 "--seed",              "7",   "--report-json",
      "figures.json"};
  Result<BenchCommandOptions> o = ParseArgs(kBenchFlags, f);
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_EQ(*o->bench.duration, Millis(2500));
  EXPECT_EQ(o->bench.receivers, 3);
  EXPECT_EQ(o->bench.concurrency, 8);
  EXPECT_EQ(o->bench.payload_bytes, 2048);
  EXPECT_DOUBLE_EQ(o->bench.failure_rate, 0.3);
  EXPECT_FALSE(o->bench.target);
  EXPECT_EQ(o->report_json, "figures.json");
  EXPECT_EQ(o->bench.schedule, (std::vector<Duration>{Millis(0), Millis(5)}));
  EXPECT_EQ(o->bench.timeout, Millis(250));
  EXPECT_EQ(o->bench.seed, 7u);
  // An external target decides its own answers: no --failure-rate with it.
  f.push_back("--target");
  f.push_back("http://127.0.0.1:9/hook");
  Result<BenchCommandOptions> both = ParseArgs(kBenchFlags, f);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message().find("--failure-rate"), std::string::npos);
  Result<BenchCommandOptions> targeted =
      ParseArgs(kBenchFlags, {"--count", "5", "--target", "http://127.0.0.1:9/hook"});
  ASSERT_TRUE(targeted.ok()) << targeted.error().message();
  EXPECT_EQ(*targeted->bench.target, "http://127.0.0.1:9/hook");
  EXPECT_EQ(targeted->bench.count, 5);
}

// The former names (--events, --duration, --connections, --json) are usage
// errors that name the new flag, whatever follows them.
TEST(BenchFlagsTest, RenamedFlagsNameTheNewOne) {
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{"--events", "10"}, "--events was renamed: use --count"},
      {{"--duration", "1"}, "--duration was renamed: use --duration-s"},
      {{"--connections", "4"},
       "--connections was renamed: use --concurrency"},
      {{"--json", "f.json"}, "--json was renamed: use --report-json FILE"},
      {{"--json"}, "--json was renamed: use --report-json FILE"},
      {{"--json=f.json"}, "--json was renamed: use --report-json FILE"},
  };
  for (const Case& c : cases) ExpectUsageError(c.args, c.needle);
}

TEST(BenchFlagsTest, BadValuesNameTheFlagAndValue) {
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{"--concurrency", "0"},
       "--concurrency: expected an integer 1..1024, "
       "got \"0\""},
      {{"--concurrency", "1025"}, "\"1025\""},
      {{"--io-threads", "65"}, "--io-threads: expected an integer 0..64"},
      {{"--io-threads", "-1"}, "--io-threads"},
      {{"--count", "-3"}, "--count"},
      {{"--count", "10", "--duration-s", "1"}, "--count and --duration-s"},
      {{"--duration-s", "0"}, "--duration-s"},
      {{"--duration-s", "nan"}, "\"nan\""},
      {{"--receivers", "65"}, "--receivers"},
      {{"--receivers", "8", "--concurrency", "1000"},
       "--receivers x --concurrency: at most 4096"},
      {{"--report-json", ""}, "--report-json: expected a file name"},
      {{"--payload-bytes", "1x"}, "--payload-bytes"},
      {{"--failure-rate", "1.5"},
       "--failure-rate: expected a fraction 0..1, "
       "got \"1.5\""},
      {{"--target", "ftp://x/"}, "--target"},
      {{"--retry-schedule-ms", "1,,2"}, "--retry-schedule-ms"},
      {{"--timeout-ms", "0"}, "--timeout-ms"},
      {{"--seed", "-1"}, "--seed"},
      {{"--no-such-flag"}, "no-such-flag"},
      {{"stray"}, "hooksim bench"},
  };
  for (const Case& c : cases) ExpectUsageError(c.args, c.needle);
}

TEST(BenchFlagsTest, HelpListsTheFlags) {
  const CliResult r = Cli({"bench", "--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* flag :
       {"--count", "--duration-s", "--receivers", "--concurrency", "--io-threads",
        "--payload-bytes", "--failure-rate", "--target", "--report-json",
        "--report-html", "--seed", "--retry-schedule-ms", "--timeout-ms",
        "--jitter"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
  // The former names are not offered.
  for (const char* gone :
       {"--events", "--connections", "--json ", "--duration "}) {
    EXPECT_EQ(r.out.find(gone), std::string::npos) << gone;
  }
  EXPECT_EQ(Cli({"help", "bench"}).out, r.out);
}

TEST(BenchRunTest, DeliversEveryEventToEveryReceiver) {
  const std::string json = TempPath("plain.json");
  const CliResult r =
      Cli({"bench", "--count", "200", "--receivers", "2", "--concurrency", "4",
           "--payload-bytes", "1500", "--report-json", json});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("deliveries/s"), std::string::npos) << r.out;
  const nlohmann::json j = ReadJson(json);
  std::remove(json.c_str());
  EXPECT_EQ(j["events"], 200);
  EXPECT_EQ(j["deliveries"], 400);  // events x receivers.
  EXPECT_EQ(j["delivered"], 400);
  EXPECT_EQ(j["gave_up"], 0);
  EXPECT_EQ(j["pending"], 0);
  EXPECT_EQ(j["attempts"], 400);
  EXPECT_EQ(j["retries"], 0);
  EXPECT_EQ(j["outcomes"]["http_200"], 400);
  EXPECT_TRUE(j["errors"].empty());
  // The receivers saw every attempt, padded bodies included, and every
  // body passed the schema check.
  EXPECT_EQ(j["receiver_requests"], 400);
  EXPECT_EQ(j["receiver_schema_failures"], 0);
  EXPECT_GE(j["payload_bytes_mean"].get<int>(), 1500);
  EXPECT_EQ(j["latency_ms"]["count"], 400);
  EXPECT_EQ(j["attempt_latency_ms"]["count"], 400);
  EXPECT_LE(j["latency_ms"]["p50"].get<double>(),
            j["latency_ms"]["p99"].get<double>());
  EXPECT_LE(j["latency_ms"]["p99"].get<double>(),
            j["latency_ms"]["max"].get<double>());
  EXPECT_GT(j["deliveries_per_s"].get<double>(), 0);
  EXPECT_GT(j["peak_rss_bytes"].get<uint64_t>(), 0u);
  EXPECT_GE(j["machine"]["cores"].get<int>(), 1);
}

// The same run with no I/O thread (the loop thread polls) and with two:
// every delivery made, each once, and the JSON says which.
TEST(BenchRunTest, EveryIoThreadCountDeliversEverything) {
  for (const char* io_threads : {"0", "2"}) {
    const std::string json = TempPath(std::string("io") + io_threads + ".json");
    const CliResult r =
        Cli({"bench", "--count", "150", "--concurrency", "4", "--io-threads",
             io_threads, "--report-json", json});
    ASSERT_EQ(r.code, 0) << io_threads << ": " << r.err;
    const nlohmann::json j = ReadJson(json);
    std::remove(json.c_str());
    EXPECT_EQ(j["io_threads"], std::stoi(io_threads));
    EXPECT_EQ(j["delivered"], 150) << io_threads;
    EXPECT_EQ(j["attempts"], 150) << io_threads;
    EXPECT_EQ(j["receiver_requests"], 150) << io_threads;
    EXPECT_EQ(j["attempt_latency_ms"]["count"], 150) << io_threads;
  }
}

TEST(BenchRunTest, FailureRateCountsRetries) {
  const std::string json = TempPath("flaky.json");
  const CliResult r =
      Cli({"bench", "--count", "200", "--failure-rate", "0.3",
           "--retry-schedule-ms", "0", "--concurrency", "4", "--report-json", json});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = ReadJson(json);
  std::remove(json.c_str());
  const int attempts = j["attempts"];
  const int delivered = j["delivered"];
  const int gave_up = j["gave_up"];
  EXPECT_EQ(delivered + gave_up, 200);
  // Six 500s in a row: 0.3^6 per delivery, so almost never.
  EXPECT_LT(gave_up, 5);
  EXPECT_EQ(j["pending"], 0);
  // Every attempt is a 200 (one per delivered delivery) or a 500.
  EXPECT_EQ(j["outcomes"]["http_200"], delivered);
  EXPECT_EQ(j["errors"]["http_500"], attempts - delivered);
  EXPECT_EQ(j["retries"], attempts - 200);
  // About 0.3/0.7 retries per delivery: 86 expected; far from 0 and 1000.
  EXPECT_GT(j["retries"].get<int>(), 30);
  EXPECT_LT(j["retries"].get<int>(), 200);
  EXPECT_EQ(j["receiver_requests"], attempts);
}

TEST(BenchRunTest, AlwaysFailingReceiversGiveUpAfterSixAttempts) {
  const std::string json = TempPath("down.json");
  const CliResult r = Cli({"bench", "--count", "50", "--failure-rate", "1",
                           "--retry-schedule-ms", "0", "--report-json", json});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = ReadJson(json);
  std::remove(json.c_str());
  EXPECT_EQ(j["gave_up"], 50);
  EXPECT_EQ(j["attempts"], 300);
  EXPECT_EQ(j["retries"], 250);
  EXPECT_EQ(j["errors"]["http_500"], 300);
}

TEST(BenchRunTest, UnreachableTargetCountsRefusals) {
  const ::hooksim::testing::RefusedPort refused;
  const CliResult r = Cli({"bench", "--count", "3", "--target", refused.url(),
                           "--retry-schedule-ms", "0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("refused=18"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 gave_up"), std::string::npos) << r.out;
}

TEST(BenchRunTest, UnwritableJsonIsAnError) {
  const CliResult r = Cli(
      {"bench", "--count", "1", "--report-json",
       "/nonexistent-dir/x/figures.json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--report-json: cannot write"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace hooksim
