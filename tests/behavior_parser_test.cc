#include "mock-receivers/behavior_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hooksim {
namespace {

using nlohmann::json;

constexpr char kPrefix[] = "/receivers/flaky/behavior";

BehaviorSpec ParseOk(const json& j) {
  Result<BehaviorSpec> r = ParseBehavior(j, kPrefix);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? *r : BehaviorSpec{};
}

// Expects an error at kPrefix + `path` with exactly `message`.
void ExpectError(const json& j, const std::string& path,
                 const std::string& message) {
  Result<BehaviorSpec> r = ParseBehavior(j, kPrefix);
  ASSERT_FALSE(r.ok()) << "accepted " << j.dump();
  EXPECT_EQ(r.error().path(), kPrefix + path) << j.dump();
  EXPECT_EQ(r.error().message(), message) << j.dump();
}

TEST(BehaviorParserTest, EmptyObjectAnswers200) {
  BehaviorSpec spec = ParseOk(json::object());
  const auto* fixed = std::get_if<FixedAnswer>(&spec.answers);
  ASSERT_NE(fixed, nullptr);
  EXPECT_EQ(fixed->answer, (Answer{200, Fault::kNone}));
  ASSERT_TRUE(std::holds_alternative<LatencyFixed>(spec.latency));
  EXPECT_EQ(std::get<LatencyFixed>(spec.latency).value, Duration(0));
  EXPECT_TRUE(spec.outages.empty());
}

TEST(BehaviorParserTest, Status) {
  BehaviorSpec spec = ParseOk(json::parse(R"({"status": 503})"));
  EXPECT_EQ(std::get<FixedAnswer>(spec.answers).answer,
            (Answer{503, Fault::kNone}));
}

TEST(BehaviorParserTest, Fault) {
  for (const char* name : {"hang", "reset", "empty", "garbage", "dribble"}) {
    BehaviorSpec spec = ParseOk(json{{"fault", name}});
    EXPECT_EQ(std::get<FixedAnswer>(spec.answers).answer.fault,
              ParseFault(name).value());
  }
}

// The dribble fault is accepted wherever a fault is, answers 200, counts as
// a success, and survives the round trip through BehaviorToJson.
TEST(BehaviorParserTest, DribbleIsAFaultEverywhere) {
  BehaviorSpec fixed = ParseOk(
      json::parse(R"({"fault": "dribble", "latency": {"fixed_ms": 300}})"));
  const Answer dribble = std::get<FixedAnswer>(fixed.answers).answer;
  EXPECT_EQ(dribble, (Answer{200, Fault::kDribble}));
  EXPECT_TRUE(dribble.IsSuccess());
  EXPECT_EQ(DescribeAnswer(dribble), "dribble");

  BehaviorSpec seq = ParseOk(json::parse(R"({"sequence": [503, "dribble"]})"));
  EXPECT_EQ(std::get<SequenceAnswer>(seq.answers).answers[1].fault,
            Fault::kDribble);
  BehaviorSpec weighted =
      ParseOk(json::parse(R"({"weighted": {"dribble": 0.5, "500": 0.5}})"));
  bool found = false;
  for (const auto& [answer, weight] :
       std::get<WeightedAnswer>(weighted.answers).choices) {
    found = found || answer.fault == Fault::kDribble;
  }
  EXPECT_TRUE(found);
  BehaviorSpec outage = ParseOk(json::parse(
      R"({"outages": [{"from_ms": 0, "to_ms": 5, "fault": "dribble"}]})"));
  EXPECT_EQ(outage.outages[0].answer.fault, Fault::kDribble);

  for (const BehaviorSpec& spec : {fixed, seq, weighted, outage}) {
    Result<BehaviorSpec> again = ParseBehavior(BehaviorToJson(spec), "");
    ASSERT_TRUE(again.ok()) << again.error().ToString();
    EXPECT_EQ(BehaviorToJson(*again), BehaviorToJson(spec));
  }
}

TEST(BehaviorParserTest, SequenceWithDefaults) {
  BehaviorSpec spec = ParseOk(json::parse(R"({"sequence": [503, "reset", 200]})"));
  const auto& seq = std::get<SequenceAnswer>(spec.answers);
  EXPECT_EQ(seq.answers,
            (std::vector<Answer>{{503, Fault::kNone},
                                 {200, Fault::kReset},
                                 {200, Fault::kNone}}));
  EXPECT_EQ(seq.per, SequenceScope::kDelivery);
  EXPECT_EQ(seq.then, SequenceEnd::kRepeatLast);
}

TEST(BehaviorParserTest, SequencePerReceiverCycle) {
  BehaviorSpec spec = ParseOk(json::parse(
      R"({"sequence": [500], "per": "receiver", "then": "cycle"})"));
  const auto& seq = std::get<SequenceAnswer>(spec.answers);
  EXPECT_EQ(seq.per, SequenceScope::kReceiver);
  EXPECT_EQ(seq.then, SequenceEnd::kCycle);
}

TEST(BehaviorParserTest, WeightedSortedByKey) {
  BehaviorSpec spec = ParseOk(
      json::parse(R"({"weighted": {"reset": 0.1, "500": 0.2, "200": 0.7}})"));
  const auto& choices = std::get<WeightedAnswer>(spec.answers).choices;
  ASSERT_EQ(choices.size(), 3u);
  EXPECT_EQ(choices[0].first, (Answer{200, Fault::kNone}));
  EXPECT_DOUBLE_EQ(choices[0].second, 0.7);
  EXPECT_EQ(choices[1].first, (Answer{500, Fault::kNone}));
  EXPECT_EQ(choices[2].first, (Answer{200, Fault::kReset}));
  EXPECT_DOUBLE_EQ(choices[2].second, 0.1);
}

TEST(BehaviorParserTest, WeightedSumWithinTolerance) {
  ParseOk(json::parse(R"({"weighted": {"200": 0.3333333, "500": 0.6666667}})"));
  ParseOk(json::parse(R"({"weighted": {"200": 1}})"));
}

TEST(BehaviorParserTest, Latencies) {
  BehaviorSpec fixed = ParseOk(json::parse(R"({"latency": {"fixed_ms": 50}})"));
  EXPECT_EQ(std::get<LatencyFixed>(fixed.latency).value, Millis(50));

  BehaviorSpec fraction =
      ParseOk(json::parse(R"({"latency": {"fixed_ms": 0.25}})"));
  EXPECT_EQ(std::get<LatencyFixed>(fraction.latency).value, Duration(250));

  BehaviorSpec uniform =
      ParseOk(json::parse(R"({"latency": {"uniform_ms": [10, 200]}})"));
  EXPECT_EQ(std::get<LatencyUniform>(uniform.latency).lo, Millis(10));
  EXPECT_EQ(std::get<LatencyUniform>(uniform.latency).hi, Millis(200));

  BehaviorSpec lognormal = ParseOk(json::parse(
      R"({"latency": {"lognormal": {"median_ms": 50, "sigma": 0.8, "cap_ms": 2000}}})"));
  const auto& ln = std::get<LatencyLogNormal>(lognormal.latency);
  EXPECT_EQ(ln.median, Millis(50));
  EXPECT_DOUBLE_EQ(ln.sigma, 0.8);
  EXPECT_EQ(ln.cap, Millis(2000));

  BehaviorSpec default_sigma = ParseOk(json::parse(
      R"({"latency": {"lognormal": {"median_ms": 50, "cap_ms": 50}}})"));
  EXPECT_DOUBLE_EQ(std::get<LatencyLogNormal>(default_sigma.latency).sigma,
                   0.5);
}

TEST(BehaviorParserTest, Outages) {
  BehaviorSpec spec = ParseOk(json::parse(R"({"outages": [
      {"from_ms": 0, "to_ms": 7200000, "status": 502},
      {"from_ms": 10, "to_ms": 20, "fault": "reset"},
      {"from_ms": 30, "to_ms": 40}]})"));
  ASSERT_EQ(spec.outages.size(), 3u);
  EXPECT_EQ(spec.outages[0].from, AtMillis(0));
  EXPECT_EQ(spec.outages[0].to, AtMillis(7'200'000));
  EXPECT_EQ(spec.outages[0].answer, (Answer{502, Fault::kNone}));
  EXPECT_EQ(spec.outages[1].answer.fault, Fault::kReset);
  EXPECT_EQ(spec.outages[2].answer, (Answer{503, Fault::kNone}));
}

TEST(BehaviorParserTest, ErrorUnknownKey) {
  ExpectError(json::parse(R"({"status": 200, "stauts": 500})"), "/stauts",
              "unknown key \"stauts\"; expected one of status, fault, "
              "sequence, per, then, weighted, latency, outages, "
              "verify_signature, headers, body");
  ExpectError(json::parse(R"({"latency": {"fixed": 5}})"), "/latency/fixed",
              "unknown key \"fixed\"; expected one of fixed_ms, uniform_ms, "
              "lognormal");
  ExpectError(json::parse(R"({"outages": [{"from_ms": 0, "to_ms": 5, "a/b": 1}]})"),
              "/outages/0/a~1b",
              "unknown key \"a/b\"; expected one of from_ms, to_ms, status, "
              "fault, headers, body");
}

TEST(BehaviorParserTest, ErrorWrongTypes) {
  ExpectError(json::array({200}), "", "expected a behaviour object; got an "
                                      "array of 1 item");
  ExpectError(json(nullptr), "", "expected a behaviour object; got null");
  ExpectError(json::parse(R"({"status": "200"})"), "/status",
              "expected a status code 100..599; got \"200\"");
  ExpectError(json::parse(R"({"status": 200.5})"), "/status",
              "expected a status code 100..599; got 200.5");
  ExpectError(json::parse(R"({"fault": true})"), "/fault",
              "expected one of hang, reset, empty, garbage, dribble; got true");
  ExpectError(
      json::parse(R"({"fault": "none"})"), "/fault",
      "expected one of hang, reset, empty, garbage, dribble; got \"none\"");
  ExpectError(json::parse(R"({"sequence": {"a": 1}})"), "/sequence",
              "expected a non-empty array of status codes 100..599 or fault "
              "names; got an object");
  ExpectError(json::parse(R"({"sequence": [200], "per": "request"})"), "/per",
              "expected \"delivery\" or \"receiver\"; got \"request\"");
  ExpectError(json::parse(R"({"sequence": [200], "then": 1})"), "/then",
              "expected \"repeat_last\" or \"cycle\"; got 1");
  // A list is the form whose items are answer objects with a weight.
  ExpectError(json::parse(R"({"weighted": [0.5, 0.5]})"), "/weighted/0",
              "expected an answer object with \"weight\" and \"status\" or "
              "\"fault\"; got 0.5");
  ExpectError(json::parse(R"({"weighted": "200"})"), "/weighted",
              "expected an object of answer: probability, or a list of answer "
              "objects with \"weight\"; got \"200\"");
  ExpectError(json::parse(R"({"weighted": {"200": "0.5", "500": 0.5}})"),
              "/weighted/200",
              "expected a probability in [0, 1]; got \"0.5\"");
  ExpectError(json::parse(R"({"latency": 50})"), "/latency",
              "expected an object with exactly one of fixed_ms, uniform_ms, "
              "lognormal; got 50");
  ExpectError(json::parse(R"({"latency": {"uniform_ms": [10]}})"),
              "/latency/uniform_ms",
              "expected [lo_ms, hi_ms]; got an array of 1 item");
  ExpectError(json::parse(R"({"outages": {"from_ms": 0}})"), "/outages",
              "expected an array of outage windows; got an object");
  ExpectError(json::parse(R"({"outages": [5]})"), "/outages/0",
              "expected an object with from_ms, to_ms and status or fault; "
              "got 5");
}

TEST(BehaviorParserTest, ErrorStatusOutOfRange) {
  ExpectError(json::parse(R"({"status": 700})"), "/status",
              "expected a status code 100..599; got 700");
  ExpectError(json::parse(R"({"status": 99})"), "/status",
              "expected a status code 100..599; got 99");
  ExpectError(json::parse(R"({"sequence": [503, 503, 700]})"), "/sequence/2",
              "expected a status code 100..599 or one of hang, reset, empty, "
              "garbage, dribble; got 700");
  ExpectError(json::parse(R"({"sequence": ["reset", "explode"]})"),
              "/sequence/1",
              "expected a status code 100..599 or one of hang, reset, empty, "
              "garbage, dribble; got \"explode\"");
  ExpectError(json::parse(R"({"weighted": {"700": 1}})"), "/weighted/700",
              "expected a key that is a status code 100..599 or one of hang, "
              "reset, empty, garbage, dribble; got \"700\"");
  ExpectError(json::parse(R"({"outages": [{"from_ms": 0, "to_ms": 5, "status": 42}]})"),
              "/outages/0/status", "expected a status code 100..599; got 42");
}

TEST(BehaviorParserTest, ErrorEmptyAndTooLongSequence) {
  ExpectError(json::parse(R"({"sequence": []})"), "/sequence",
              "expected a non-empty array of status codes 100..599 or fault "
              "names; got an empty array");
  json long_seq = {{"sequence", json(std::vector<int>(10'001, 200))}};
  ExpectError(long_seq, "/sequence", "expected at most 10000 items; got 10001");
  ParseOk(json{{"sequence", json(std::vector<int>(10'000, 200))}});
}

TEST(BehaviorParserTest, ErrorWeightsNotSummingToOne) {
  ExpectError(json::parse(R"({"weighted": {"200": 0.7, "500": 0.2}})"),
              "/weighted", "expected probabilities summing to 1; got 0.9");
  ExpectError(json::parse(R"({"weighted": {"200": 1.5}})"), "/weighted/200",
              "expected a probability in [0, 1]; got 1.5");
  ExpectError(json::parse(R"({"weighted": {}})"), "/weighted",
              "expected at least one answer: probability; got an empty "
              "object");
}

TEST(BehaviorParserTest, ErrorOutageFromNotBeforeTo) {
  ExpectError(
      json::parse(R"({"outages": [{"from_ms": 0, "to_ms": 10}, {"from_ms": 500, "to_ms": 500}]})"),
      "/outages/1/to_ms", "expected to_ms > from_ms (500); got 500");
  ExpectError(json::parse(R"({"outages": [{"to_ms": 10}]})"),
              "/outages/0/from_ms",
              "missing required field \"from_ms\"; expected a number of "
              "milliseconds in [0, 2592000000] (30 days)");
  ExpectError(
      json::parse(R"({"outages": [{"from_ms": 0, "to_ms": 10, "status": 503, "fault": "reset"}]})"),
      "/outages/0/fault",
      "\"status\" and \"fault\" are both given; expected at most one of them");
  json many = json::array();
  for (int i = 0; i < 1001; ++i) many.push_back({{"from_ms", i}, {"to_ms", i + 1}});
  ExpectError(json{{"outages", many}}, "/outages",
              "expected at most 1000 outage windows; got 1001");
}

TEST(BehaviorParserTest, ErrorBadMillis) {
  const std::string kMs =
      "expected a number of milliseconds in [0, 2592000000] (30 days); got ";
  ExpectError(json::parse(R"({"latency": {"fixed_ms": -5}})"),
              "/latency/fixed_ms", kMs + "-5");
  ExpectError(json::parse(R"({"latency": {"fixed_ms": 2592000001}})"),
              "/latency/fixed_ms", kMs + "2592000001");
  ExpectError(json::parse(R"({"latency": {"fixed_ms": 18446744073709551615}})"),
              "/latency/fixed_ms", kMs + "18446744073709551615");
  ExpectError(json::parse(R"({"latency": {"uniform_ms": [10, -1]}})"),
              "/latency/uniform_ms/1", kMs + "-1");
  ExpectError(json::parse(R"({"latency": {"uniform_ms": [200, 10]}})"),
              "/latency/uniform_ms/1", "expected hi_ms >= lo_ms (200); got 10");
  ExpectError(json::parse(R"({"outages": [{"from_ms": -1, "to_ms": 10}]})"),
              "/outages/0/from_ms", kMs + "-1");
  ExpectError(
      json::parse(R"({"latency": {"lognormal": {"median_ms": 50, "sigma": 11, "cap_ms": 100}}})"),
      "/latency/lognormal/sigma", "expected a number in [0, 10]; got 11");
  ExpectError(
      json::parse(R"({"latency": {"lognormal": {"median_ms": 50, "cap_ms": 10}}})"),
      "/latency/lognormal/cap_ms", "expected cap_ms >= median_ms (50); got 10");
  ExpectError(json::parse(R"({"latency": {"lognormal": {"median_ms": 50}}})"),
              "/latency/lognormal/cap_ms",
              "missing required field \"cap_ms\"; expected a number of "
              "milliseconds in [0, 2592000000] (30 days)");
  ExpectError(json::parse(R"({"latency": {}})"), "/latency",
              "expected exactly one of fixed_ms, uniform_ms, lognormal; got "
              "an empty object");
  ExpectError(json::parse(R"({"latency": {"fixed_ms": 1, "uniform_ms": [1, 2]}})"),
              "/latency/uniform_ms",
              "\"fixed_ms\" and \"uniform_ms\" are both given; expected "
              "exactly one of fixed_ms, uniform_ms, lognormal");
}

TEST(BehaviorParserTest, ErrorTwoAnswerSources) {
  ExpectError(json::parse(R"({"status": 200, "sequence": [503, 200]})"),
              "/sequence",
              "\"status\" and \"sequence\" are both given; expected exactly "
              "one answer source (status, fault, sequence or weighted)");
  ExpectError(json::parse(R"({"fault": "hang", "weighted": {"200": 1}})"),
              "/weighted",
              "\"fault\" and \"weighted\" are both given; expected exactly "
              "one answer source (status, fault, sequence or weighted)");
  ExpectError(json::parse(R"({"status": 200, "per": "receiver"})"), "/per",
              "\"per\" applies only to \"sequence\"; expected a \"sequence\" "
              "beside it");
}

TEST(BehaviorParserTest, EmptyPathPrefixAndLongStringsCut) {
  Result<BehaviorSpec> r = ParseBehavior(json::parse(R"({"fault": 1})"), "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().path(), "/fault");
  r = ParseBehavior(json{{"fault", std::string(200, 'x')}}, "");
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.error().message().size(), 150u);
}

TEST(BehaviorParserTest, NeverThrowsOnOddValues) {
  const std::vector<json> odd = {
      json::parse(R"("x")"), json(3.5), json(true), json::binary({1, 2}),
      json{{"sequence", {nullptr, json::object()}}},
      json{{"weighted", {{"", 1}}}},
      json{{"weighted", {{"200", nullptr}}}},
      json{{"latency", {{"lognormal", json::array()}}}},
      json{{"latency", {{"uniform_ms", {"a", "b"}}}}},
      json{{"outages", {{{"from_ms", "0"}, {"to_ms", 1}}}}},
      json{{"fault", std::string("\xff\xfe", 2)}},
      json{{std::string("\xff", 1), 1}},
  };
  for (const json& j : odd) {
    Result<BehaviorSpec> r = ParseBehavior(j, "/x");
    EXPECT_FALSE(r.ok());
    if (!r.ok()) {
      EXPECT_EQ(r.error().path().rfind("/x", 0), 0u) << r.error().ToString();
    }
  }
}

void ExpectRoundTrip(const json& source) {
  BehaviorSpec spec = ParseOk(source);
  const json written = BehaviorToJson(spec);
  BehaviorSpec again = ParseOk(written);
  EXPECT_EQ(BehaviorToJson(again), written) << source.dump();
  EXPECT_EQ(again.answers.index(), spec.answers.index());
  EXPECT_EQ(again.latency.index(), spec.latency.index());
  ASSERT_EQ(again.outages.size(), spec.outages.size());
  for (size_t i = 0; i < spec.outages.size(); ++i) {
    EXPECT_EQ(again.outages[i].from, spec.outages[i].from);
    EXPECT_EQ(again.outages[i].to, spec.outages[i].to);
    EXPECT_EQ(again.outages[i].answer, spec.outages[i].answer);
  }
}

TEST(BehaviorParserTest, RoundTrip) {
  ExpectRoundTrip(json::object());
  ExpectRoundTrip(json::parse(R"({"status": 404})"));
  ExpectRoundTrip(json::parse(R"({"fault": "garbage"})"));
  ExpectRoundTrip(json::parse(
      R"({"sequence": [503, "hang", 200], "per": "receiver", "then": "cycle"})"));
  ExpectRoundTrip(json::parse(
      R"({"weighted": {"200": 0.7, "500": 0.2, "reset": 0.1},
          "latency": {"lognormal": {"median_ms": 50.5, "sigma": 0.3, "cap_ms": 2000}}})"));
  ExpectRoundTrip(json::parse(
      R"({"latency": {"uniform_ms": [0.001, 200]},
          "outages": [{"from_ms": 0, "to_ms": 7200000, "fault": "reset"},
                      {"from_ms": 7200000, "to_ms": 7200001}]})"));
}

TEST(BehaviorParserTest, ToJsonShape) {
  BehaviorSpec spec;
  spec.answers = SequenceAnswer{{{503, Fault::kNone}, {200, Fault::kNone}},
                                SequenceScope::kDelivery,
                                SequenceEnd::kRepeatLast};
  spec.latency = LatencyFixed{Millis(50)};
  spec.outages = {{AtMillis(0), AtMillis(100), {503, Fault::kNone}}};
  EXPECT_EQ(BehaviorToJson(spec), json::parse(R"({
      "sequence": [503, 200], "per": "delivery", "then": "repeat_last",
      "latency": {"fixed_ms": 50},
      "outages": [{"from_ms": 0, "to_ms": 100, "status": 503}]})"));
  EXPECT_EQ(BehaviorToJson(BehaviorSpec{}), json::parse(R"({"status": 200})"));
}

}  // namespace
}  // namespace hooksim

namespace hooksim {
namespace {

TEST(BehaviorParserTest, VerifySignatureKeepsTheSecretAndItsKey) {
  Result<BehaviorSpec> spec =
      ParseBehavior(json::parse(R"({"status": 200, "verify_signature":
                      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})"),
                    "/receivers/r/behavior");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->verify_secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  EXPECT_EQ(spec->verify_key.size(), 24u);
  const json back = BehaviorToJson(*spec);
  EXPECT_EQ(back.at("verify_signature"),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  Result<BehaviorSpec> again = ParseBehavior(back, "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->verify_key, spec->verify_key);
}

TEST(BehaviorParserTest, VerifySignatureRejectsBadSecretsWithTheirPointer) {
  for (const char* text :
       {R"({"verify_signature": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})",
        R"({"verify_signature": "whsec_not base64!"})",
        R"({"verify_signature": "whsec_"})"}) {
    Result<BehaviorSpec> spec =
        ParseBehavior(json::parse(text), "/receivers/r/behavior");
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.error().path(), "/receivers/r/behavior/verify_signature");
    EXPECT_NE(spec.error().message().find("secret"), std::string::npos)
        << spec.error().message();
  }
  Result<BehaviorSpec> spec =
      ParseBehavior(json::parse(R"({"verify_signature": 5})"), "");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().path(), "/verify_signature");
}

}  // namespace
}  // namespace hooksim
