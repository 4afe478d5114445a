#include "sim/scenario/scenario.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "tests/test_util.h"

namespace hooksim {
namespace {

constexpr const char* kMinimal = R"({
  "name": "x",
  "receivers": {"r": {"behavior": {"status": 200}}}
})";

Status ParseError(const std::string& text) {
  Result<Scenario> s = ParseScenarioText(text);
  EXPECT_FALSE(s.ok()) << "expected an error for: " << text;
  return s.ok() ? Status{} : s.error();
}

TEST(ScenarioTest, MinimalScenarioGetsDefaults) {
  Result<Scenario> s = ParseScenarioText(kMinimal);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->name, "x");
  EXPECT_EQ(s->seed, 1u);
  EXPECT_EQ(s->events.count, 1);
  ASSERT_EQ(s->hooks.size(), 1u);  // One hook per receiver by default.
  EXPECT_EQ(s->hooks[0].id, "r");
  EXPECT_EQ(s->hooks[0].receiver, "r");
  EXPECT_EQ(s->retry.max_attempts(), 6);
  EXPECT_TRUE(s->expect.all_payloads_schema_valid);
}

TEST(ScenarioTest, FullScenarioParses) {
  Result<Scenario> s = ParseScenarioText(R"({
    "name": "full", "description": "d", "seed": 99,
    "events": {"count": 7, "apps": 2, "interval_ms": 1000,
               "mix": {"deploy": 0.5, "promotion": 0.25, "rollback": 0.25}},
    "receivers": {"a": {"behavior": {"status": 500}}, "b": {}},
    "hooks": [{"id": "h1", "receiver": "a"}, {"receiver": "b", "paused": true},
              {"id": "dead", "url": "http://127.0.0.1:9/"}],
    "retry": {"max_reattempts": 3, "schedule_ms": [10, 20], "jitter": 0,
              "timeout_ms": 500},
    "expect": {"receivers": {"a": {"attempts": {"min": 1, "max": 4},
                                   "outcome": "gave_up",
                                   "delivered_ratio": 0}},
               "all_payloads_schema_valid": true}
  })");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->seed, 99u);
  EXPECT_EQ(s->events.count, 7);
  EXPECT_EQ(s->events.interval, Millis(1000));
  EXPECT_DOUBLE_EQ(s->events.generator.mix.promotion, 0.25);
  ASSERT_EQ(s->hooks.size(), 3u);
  EXPECT_EQ(s->hooks[1].id, "hook-2");
  EXPECT_TRUE(s->hooks[1].paused);
  EXPECT_EQ(s->retry.max_reattempts, 3);
  EXPECT_EQ(s->retry.timeout, Millis(500));
  ASSERT_EQ(s->expect.receivers.size(), 1u);
  EXPECT_EQ(s->expect.receivers[0].attempts->ToString(), "1..4");
  EXPECT_EQ(s->expect.receivers[0].outcome, OutcomeExpectation::kGaveUp);
  // 7 events x 3 hooks (the paused hook's deliveries are held).
  EXPECT_EQ(s->DeliveryCount(), 21u);
}

TEST(ScenarioTest, ExplicitPayloadsAreSentAsGiven) {
  Result<Scenario> s = ParseScenarioText(R"({
    "name": "p", "receivers": {"r": {}},
    "events": {"payloads": [{"event": "release", "data": {}}, "not json"]}
  })");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_EQ(s->events.payloads.size(), 2u);
  EXPECT_EQ(s->events.payloads[0], R"({"data":{},"event":"release"})");
  EXPECT_EQ(s->events.payloads[1], "not json");
}

TEST(ScenarioTest, BadJsonNamesThePosition) {
  Status e = ParseError(R"({"name": "x",, })");
  EXPECT_NE(e.message().find("not valid JSON"), std::string::npos);
  EXPECT_NE(e.message().find("line 1"), std::string::npos) << e.message();
}

TEST(ScenarioTest, UnknownKeyIsAnError) {
  Status e = ParseError(R"({"name": "x", "receivers": {"r": {}}, "sede": 3})");
  EXPECT_EQ(e.path(), "/sede");
  EXPECT_NE(e.message().find("unknown key"), std::string::npos);

  e = ParseError(R"({"name": "x", "receivers": {"r": {"behaviour": {}}}})");
  EXPECT_EQ(e.path(), "/receivers/r/behaviour");
}

TEST(ScenarioTest, WrongTypeNamesWhatWasExpectedAndFound) {
  Status e = ParseError(
      R"({"name": "x", "receivers": {"r": {}}, "events": {"count": "ten"}})");
  EXPECT_EQ(e.path(), "/events/count");
  EXPECT_NE(e.message().find("expected an integer"), std::string::npos);
  EXPECT_NE(e.message().find("string \"ten\""), std::string::npos);

  e = ParseError(R"({"name": 5, "receivers": {"r": {}}})");
  EXPECT_EQ(e.path(), "/name");

  e = ParseError(R"([1, 2])");
  EXPECT_EQ(e.path(), "/");
}

TEST(ScenarioTest, NegativeCountIsRejected) {
  Status e = ParseError(
      R"({"name": "x", "receivers": {"r": {}}, "events": {"count": -3}})");
  EXPECT_EQ(e.path(), "/events/count");
  EXPECT_NE(e.message().find("got number -3"), std::string::npos);
}

TEST(ScenarioTest, MixMustSumToOne) {
  Status e = ParseError(R"({"name": "x", "receivers": {"r": {}},
      "events": {"mix": {"deploy": 0.5, "promotion": 0.2, "rollback": 0.2}}})");
  EXPECT_EQ(e.path(), "/events/mix");
  EXPECT_NE(e.message().find("sum to 0.9"), std::string::npos) << e.message();
}

TEST(ScenarioTest, WeightsMustSumToOne) {
  Status e = ParseError(R"({"name": "x", "receivers": {"r": {"behavior":
      {"weighted": {"200": 0.5, "500": 0.4}}}}})");
  EXPECT_EQ(e.path().rfind("/receivers/r/behavior/weighted", 0), 0u)
      << e.path();
}

TEST(ScenarioTest, HookToAnUndefinedReceiver) {
  Status e = ParseError(R"({"name": "x", "receivers": {"r": {}},
      "hooks": [{"id": "h", "receiver": "nope"}]})");
  EXPECT_EQ(e.path(), "/hooks/0/receiver");
  EXPECT_NE(e.message().find("no receiver named \"nope\""), std::string::npos);
}

TEST(ScenarioTest, OtherStructuralErrors) {
  EXPECT_EQ(ParseError(R"({"name": "x"})").path(), "/receivers");
  EXPECT_EQ(ParseError(R"({"receivers": {"r": {}}})").path(), "/name");
  EXPECT_EQ(ParseError(R"({"name": "x", "receivers": {"r": {}},
      "hooks": [{"id": "a", "receiver": "r"}, {"id": "a", "receiver": "r"}]})")
                .path(),
            "/hooks/1/id");
  EXPECT_EQ(ParseError(R"({"name": "x", "receivers": {"r": {}},
      "hooks": [{"id": "a", "url": "ftp://x"}]})")
                .path(),
            "/hooks/0/url");
  EXPECT_EQ(ParseError(R"({"name": "x", "receivers": {"r": {}},
      "retry": {"timeout_ms": 0}})")
                .path(),
            "/retry/timeout_ms");
  EXPECT_EQ(ParseError(R"({"name": "x", "receivers": {"r": {}},
      "retry": {"schedule_ms": [5, -1]}})")
                .path(),
            "/retry/schedule_ms/1");
  EXPECT_EQ(ParseError(R"({"name": "x", "receivers": {"r": {}},
      "expect": {"receivers": {"zz": {"attempts": 2}}}})")
                .path(),
            "/expect/receivers/zz");
  EXPECT_EQ(ParseError(R"({"name": "x", "receivers": {"r": {}},
      "expect": {"receivers": {"r": {"attempts": 9}}}})")
                .path(),
            "/expect/receivers/r/attempts");
  EXPECT_EQ(ParseError(R"({"name": "x", "receivers": {"r": {}},
      "expect": {"receivers": {"r": {"attempts": {"min": 4, "max": 2}}}}})")
                .path(),
            "/expect/receivers/r/attempts");
  EXPECT_EQ(ParseError(R"({"name": "x", "receivers": {"r": {}},
      "expect": {"receivers": {"r": {"outcome": "maybe"}}}})")
                .path(),
            "/expect/receivers/r/outcome");
  EXPECT_EQ(ParseError(R"({"name": "x", "receivers": {"r": {}},
      "events": {"count": 2000000}})")
                .path(),
            "/events/count");
}

TEST(ScenarioTest, TooManyDeliveriesIsRejectedBeforeRunning) {
  Status e = ParseError(R"({"name": "x", "events": {"count": 1000000},
      "receivers": {"a": {}, "b": {}, "c": {}, "d": {}, "e": {}, "f": {}}})");
  EXPECT_EQ(e.path(), "/events");
  EXPECT_NE(e.message().find("6000000 deliveries"), std::string::npos)
      << e.message();
}

TEST(ScenarioTest, LoadFileNamesTheFile) {
  const std::string path = ::testing::TempDir() + "/bad_scenario.json";
  {
    std::ofstream f(path);
    f << R"({"name": "x", "receivers": {"r": {"behavior": {"status": 700}}}})";
  }
  Result<Scenario> s = LoadScenarioFile(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().file(), path);
  EXPECT_EQ(s.error().path(), "/receivers/r/behavior/status");
  EXPECT_EQ(s.error().ToString().rfind(path + ": /receivers/r/behavior/status: ", 0), 0u)
      << s.error().ToString();
  std::remove(path.c_str());

  Result<Scenario> missing = LoadScenarioFile("/nonexistent/x.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().ToString().find("cannot open"), std::string::npos);
}

TEST(ScenarioTest, EveryBundledScenarioParses) {
  for (const char* name :
       {"always-200", "503-twice-then-200", "always-500",
        "redirect-302-is-failure", "404-and-410-retried", "hang-past-timeout",
        "connection-reset", "random-500s-30pct", "two-hour-outage",
        "mixed-fleet", "promotions-and-rollbacks", "spec-example-payload"}) {
    Result<Scenario> s = LoadScenarioFile(
        testing::SourcePath(std::string("scenarios/") + name + ".json"));
    EXPECT_TRUE(s.ok()) << name << ": " << s.error().ToString();
  }
}

TEST(ScenarioTest, GarbageNeverCrashes) {
  const char* inputs[] = {"", "null", "0", "\"s\"", "[]", "{}",
                          "{\"name\":\"x\",\"receivers\":[]}",
                          "{\"name\":\"x\",\"receivers\":{\"r\":5}}",
                          "{\"name\":\"x\",\"receivers\":{\"r\":{}},\"hooks\":5}",
                          "{\"name\":\"x\",\"receivers\":{\"r\":{}},\"hooks\":[5]}",
                          "{\"name\":\"x\",\"receivers\":{\"r\":{}},\"events\":[]}",
                          "{\"name\":\"x\",\"receivers\":{\"r\":{}},\"expect\":{\"receivers\":[]}}",
                          "{\"name\":\"x\",\"receivers\":{\"r\":{}},\"seed\":-1}",
                          "{\"name\":\"x\",\"receivers\":{\"r\":{}},\"events\":{\"count\":1e300}}",
                          "\xff\xfe\x00"};
  for (const char* in : inputs) {
    Result<Scenario> s = ParseScenarioText(in);
    ASSERT_FALSE(s.ok()) << in;
    EXPECT_FALSE(s.error().message().empty()) << in;
  }
}

}  // namespace
}  // namespace hooksim

namespace hooksim {
namespace {

std::string WithTimeline(const std::string& hooks,
                         const std::string& timeline) {
  return R"({"name": "t", "receivers": {"r": {}},
             "hooks": )" +
         hooks + R"(, "timeline": )" + timeline + "}";
}

constexpr const char* kTwoHooks =
    R"([{"id": "a", "receiver": "r"}, {"id": "b", "receiver": "r",
        "paused": true}])";

TEST(ScenarioTimelineTest, ParsesStepsSecretsAndTheUnixStart) {
  Result<Scenario> s = ParseScenarioText(R"({
    "name": "t", "start_unix_s": 1614265330, "receivers": {"r": {}},
    "hooks": [{"id": "a", "receiver": "r",
               "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
              {"id": "b", "receiver": "r", "paused": true}],
    "timeline": [{"at_ms": 1000, "pause": "a"}, {"at_ms": 1000, "resume": "b"},
                 {"at_ms": 60000, "resume": "a"}]})");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->start_unix_s, 1614265330);
  EXPECT_EQ(s->hooks[0].secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_EQ(s->timeline.size(), 3u);
  EXPECT_EQ(s->timeline[0].at, Millis(1000));
  EXPECT_TRUE(s->timeline[0].pause);
  EXPECT_EQ(s->timeline[1].hook_index, 1u);
  EXPECT_FALSE(s->timeline[1].pause);
  EXPECT_TRUE(s->EverPaused(0));
  EXPECT_TRUE(s->EverPaused(1));
  EXPECT_EQ(s->DeliveryCount(), 2u);  // 1 event x 2 hooks.
}

TEST(ScenarioTimelineTest, DefaultsWithoutTimeline) {
  Result<Scenario> s = ParseScenarioText(kMinimal);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->start_unix_s, kDefaultStartUnixSeconds);
  EXPECT_TRUE(s->timeline.empty());
  EXPECT_FALSE(s->EverPaused(0));
}

TEST(ScenarioTimelineTest, BadStepsNameTheirPointer) {
  struct Case {
    std::string timeline, path, words;
  };
  const Case cases[] = {
      {R"([{"at_ms": 5, "pause": "zz"}])", "/timeline/0/pause",
       "no hook with id \"zz\""},
      {R"([{"at_ms": 5, "pause": "a"}, {"at_ms": 4, "resume": "a"}])",
       "/timeline/1/at_ms", "time order"},
      {R"([{"at_ms": 5, "pause": "b"}])", "/timeline/0/pause",
       "already paused"},
      {R"([{"at_ms": 5, "resume": "a"}])", "/timeline/0/resume",
       "already active"},
      {R"([{"at_ms": 5, "pause": "a", "resume": "b"}])", "/timeline/0",
       "exactly one of"},
      {R"([{"pause": "a"}])", "/timeline/0/at_ms", ""},
      {R"([{"at_ms": 5, "pause": "a", "hook": "a"}])", "/timeline/0/hook", ""},
      {R"({"at_ms": 5})", "/timeline", "expected an array"},
  };
  for (const Case& c : cases) {
    const Status e = ParseError(WithTimeline(kTwoHooks, c.timeline));
    EXPECT_EQ(e.path(), c.path) << c.timeline << ": " << e.ToString();
    EXPECT_NE(e.message().find(c.words), std::string::npos)
        << c.timeline << ": " << e.message();
  }
}

TEST(ScenarioTimelineTest, BadSecretNamesTheHook) {
  const Status e = ParseError(R"({"name": "t", "receivers": {"r": {}},
      "hooks": [{"receiver": "r"}, {"receiver": "r", "secret": "sekrit"}]})");
  EXPECT_EQ(e.path(), "/hooks/1/secret");
  EXPECT_NE(e.message().find("whsec_"), std::string::npos) << e.message();
  const Status range = ParseError(R"({"name": "t", "receivers": {"r": {}},
      "start_unix_s": -1})");
  EXPECT_EQ(range.path(), "/start_unix_s");
}

}  // namespace
}  // namespace hooksim
