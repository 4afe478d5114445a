// The typed flag layer (sim/cli/flags.h): values land in the options
// struct, errors name the flag and the value, renamed flags name their
// replacement, and shared groups mean the same in every command.
#include "sim/cli/flags.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "sim/cli/bench_command.h"
#include "sim/cli/conform_command.h"
#include "sim/cli/deliver_command.h"
#include "sim/cli/worker_command.h"

namespace hooksim {
namespace {

struct Options {
  int64_t count = 1;
  std::optional<int64_t> limit;
  Duration wait = Millis(5);
  Duration budget = std::chrono::seconds(1);
  std::optional<Duration> span;
  double fraction = 0.5;
  bool trace = false;
  std::optional<std::string> report;
  std::string name = "x";
  uint64_t seed = 1;
  std::vector<std::string> inputs;
  std::vector<Duration> schedule = {Millis(1)};
  Duration timeout = Millis(10);
  double jitter = 0.2;
  Contract contract;
};

FlagSet Declare(Options* o) {
  FlagSet flags("demo", "usage: hooksim demo\n");
  flags.Integer("count,n", "how many", 1, 10, &o->count);
  flags.Integer("limit", "at most", 0, 5, &o->limit);
  flags.Millis("wait-ms", "wait", 0, 1000, &o->wait);
  flags.Seconds("budget-s", "budget", 1, 60, &o->budget);
  flags.PositiveSeconds("span-s", "span", 10, &o->span);
  flags.Number("fraction", "part", 0, false, 1, "a fraction 0..1",
               &o->fraction);
  flags.Switch("trace", "trace", &o->trace);
  flags.File("report", "report file", &o->report);
  flags.Text("name", "name", &o->name).Default("x");
  AddSeedFlag(flags, "seed", &o->seed);
  const RetryTargets retry{&o->schedule, &o->timeout, &o->jitter,
                           &o->contract.max_reattempts};
  AddContractFlag(flags, "contract", &o->contract, retry);
  AddRetryFlags(flags, retry);
  flags.Renamed("old", "count");
  flags.Positionals(&o->inputs);
  return flags;
}

Status CheckNothing(const FlagSet&, Options&) { return Status::Ok(); }
const CommandFlags<Options> kDemo{Declare, CheckNothing};

TEST(FlagsTest, ValuesLandTypedInTheOptions) {
  Result<Options> o = ParseArgs(
      kDemo, {"-n", "7", "--limit=0", "--wait-ms", "250", "--budget-s", "3",
              "--span-s", "2.5", "--fraction", "1", "--trace", "--report",
              "r.json", "--name", "", "--seed", "18446744073709551615", "a",
              "b", "--retry-schedule-ms", "0,5", "--timeout-ms", "7",
              "--jitter", "0"});
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_EQ(o->count, 7);
  EXPECT_EQ(o->limit, 0);
  EXPECT_EQ(o->wait, Millis(250));
  EXPECT_EQ(o->budget, std::chrono::seconds(3));
  EXPECT_EQ(o->span, Millis(2500));
  EXPECT_EQ(o->fraction, 1.0);
  EXPECT_TRUE(o->trace);
  EXPECT_EQ(o->report, "r.json");
  EXPECT_EQ(o->name, "");
  EXPECT_EQ(o->seed, 18446744073709551615ULL);
  EXPECT_EQ(o->inputs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o->schedule, (std::vector<Duration>{Millis(0), Millis(5)}));
  EXPECT_EQ(o->timeout, Millis(7));
  EXPECT_EQ(o->jitter, 0.0);
  // Absent flags keep the struct's defaults.
  Result<Options> d = ParseArgs(kDemo, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->count, 1);
  EXPECT_FALSE(d->limit.has_value());
  EXPECT_EQ(d->name, "x");
  EXPECT_FALSE(d->trace);
}

TEST(FlagsTest, BadValuesNameTheFlagAndTheValue) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--count", "0"}, "--count: expected an integer 1..10, got \"0\""},
      {{"--count", "11"}, "--count: expected an integer 1..10, got \"11\""},
      {{"--count", "-1"}, "--count: expected an integer 1..10, got \"-1\""},
      {{"--count", "+3"}, "--count: expected an integer 1..10, got \"+3\""},
      {{"--count", "3.0"}, "--count: expected an integer 1..10, got \"3.0\""},
      {{"--count", " 3"}, "--count: expected an integer 1..10, got \" 3\""},
      {{"--wait-ms", "1001"}, "--wait-ms: expected an integer 0..1000"},
      {{"--span-s", "0"}, "--span-s: expected seconds in (0, 10], got \"0\""},
      {{"--span-s", "inf"}, "--span-s: expected seconds in (0, 10]"},
      {{"--fraction", "1.5"}, "--fraction: expected a fraction 0..1"},
      {{"--fraction", "-0"}, "--fraction: expected a fraction 0..1"},
      {{"--fraction", "nan"}, "--fraction: expected a fraction 0..1"},
      {{"--report", ""}, "--report: expected a file name, got \"\""},
      {{"--seed", "18446744073709551616"},
       "--seed: expected an integer 0..18446744073709551615"},
      {{"--retry-schedule-ms", "1,,2"}, "--retry-schedule-ms: expected 1 to 5"},
      {{"--retry-schedule-ms", "1,2,3,4,5,6"},
       "--retry-schedule-ms: at most 5 delays"},
      {{"--timeout-ms", "0"}, "--timeout-ms: expected an integer 1..3600000"},
      {{"--jitter", "2"}, "--jitter: expected a fraction 0..1, got \"2\""},
      {{"--contract", "no-such-profile"}, "--contract: "},
      {{"--bogus"}, "bogus"},
      {{"--count"}, "count"},
  };
  for (const auto& [args, needle] : cases) {
    Result<Options> o = ParseArgs(kDemo, args);
    ASSERT_FALSE(o.ok()) << args[0];
    EXPECT_NE(o.error().message().find(needle), std::string::npos)
        << "want: " << needle << "\ngot: " << o.error().message();
  }
}

TEST(FlagsTest, RenamedFlagNamesItsReplacementWhateverFollows) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--old", "3"}, {"--old"}, {"--old=3"}}) {
    Result<Options> o = ParseArgs(kDemo, args);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.error().message(), "--old was renamed: use --count");
  }
}

// The contract, declared before the retry flags, sets their defaults, and
// the flags override it; its attempts bound the schedule's length.
TEST(FlagsTest, ContractSetsTheRetryDefaultsInDeclarationOrder) {
  Result<Options> c = ParseArgs(kDemo, {"--contract", "divshot"});
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->schedule, DivshotContract().retry_schedule);
  EXPECT_EQ(c->timeout, DivshotContract().timeout);
  // Given after --contract on the command line or before it: the same.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--contract", "divshot", "--timeout-ms", "9"},
        {"--timeout-ms", "9", "--contract", "divshot"}}) {
    Result<Options> o = ParseArgs(kDemo, args);
    ASSERT_TRUE(o.ok()) << o.error().message();
    EXPECT_EQ(o->timeout, Millis(9));
    EXPECT_EQ(o->schedule, DivshotContract().retry_schedule);
  }
}

TEST(FlagsTest, HelpAndUsageErrorsGoThroughOnePath) {
  Options o;
  FlagSet flags = Declare(&o);
  std::ostringstream out, err;
  EXPECT_EQ(ParseCommandLine(flags, {"--help"}, [] { return Status(); }, out,
                             err),
            0);
  EXPECT_NE(out.str().find("usage: hooksim demo"), std::string::npos);
  EXPECT_NE(out.str().find("--wait-ms"), std::string::npos);
  EXPECT_NE(out.str().find("--name TEXT (=x)"), std::string::npos);
  EXPECT_EQ(out.str().find("--old"), std::string::npos);  // Not offered.
  std::ostringstream out2, err2;
  FlagSet again = Declare(&o);
  EXPECT_EQ(ParseCommandLine(again, {"--count", "0"},
                             [] { return Status(); }, out2, err2),
            2);
  EXPECT_EQ(err2.str(),
            "hooksim demo: --count: expected an integer 1..10, got \"0\"\n"
            "try: hooksim demo --help\n");
  EXPECT_EQ(out2.str(), "");
  std::ostringstream out3, err3;
  FlagSet third = Declare(&o);
  EXPECT_EQ(ParseCommandLine(third, {},
                             [] { return Status(Status::InvalidArgument("rule broken")); },
                             out3, err3),
            2);
  EXPECT_EQ(err3.str(), "hooksim demo: rule broken\ntry: hooksim demo --help\n");
  FlagSet given = Declare(&o);
  ASSERT_TRUE(given.Parse({"-n", "2"}).ok());
  EXPECT_TRUE(given.Given("count"));
  EXPECT_FALSE(given.Given("name"));
}

// The shared groups: the same flag means the same in every command.
TEST(FlagsTest, SharedGroupsParseTheSameInEveryCommand) {
  Result<DeliverOptions> deliver = ParseArgs(
      kDeliverFlags, {"--url", "http://127.0.0.1:9/h", "--seed", "5",
                      "--timeout-ms", "300", "--jitter", "0.1",
                      "--retry-schedule-ms", "2,4", "--concurrency", "3"});
  ASSERT_TRUE(deliver.ok()) << deliver.error().message();
  Result<BenchCommandOptions> bench =
      ParseArgs(kBenchFlags, {"--seed", "5", "--timeout-ms", "300", "--jitter",
                              "0.1", "--retry-schedule-ms", "2,4",
                              "--concurrency", "3"});
  ASSERT_TRUE(bench.ok()) << bench.error().message();
  EXPECT_EQ(deliver->seed, bench->bench.seed);
  EXPECT_EQ(deliver->timeout, bench->bench.timeout);
  EXPECT_EQ(deliver->jitter, bench->bench.jitter);
  EXPECT_EQ(deliver->schedule, bench->bench.schedule);
  EXPECT_EQ(deliver->concurrency, bench->bench.concurrency);
  // The same bad value, the same message.
  for (const char* flag : {"--concurrency", "--timeout-ms", "--jitter"}) {
    Result<DeliverOptions> d = ParseArgs(kDeliverFlags, {flag, "x"});
    Result<BenchCommandOptions> b = ParseArgs(kBenchFlags, {flag, "x"});
    ASSERT_FALSE(d.ok());
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(d.error().message(), b.error().message()) << flag;
  }
  Result<ConformOptions> conform = ParseArgs(
      kConformFlags, {"--sender-cmd", "true", "--report-json", ""});
  ASSERT_FALSE(conform.ok());
  EXPECT_EQ(conform.error().message(),
            "--report-json: expected a file name, got \"\"");
}

}  // namespace
}  // namespace hooksim
