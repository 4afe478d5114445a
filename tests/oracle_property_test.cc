// Cross-checks two independent computations of the same thing: for many
// random deterministic behaviours, policies and outage windows, the attempt
// count and outcome the engine produces in the virtual world must fall in
// the range the attempt oracle derives from the behaviour alone.
#include <gtest/gtest.h>

#include <string>

#include "sim/judge/attempt_oracle.h"
#include "sim/judge/verifier.h"
#include "sim/world/runner.h"

namespace hooksim {
namespace {

std::string RandomAnswer(Random& rng) {
  static const char* kAnswers[] = {"200", "201", "204", "302", "404", "410",
                                   "429", "500", "503", "\"hang\"",
                                   "\"reset\"", "\"empty\"", "\"garbage\""};
  return kAnswers[rng.UniformInt(0, 12)];
}

std::string RandomScenario(Random& rng) {
  std::string behavior = "{";
  if (rng.Bernoulli(0.3)) {
    const std::string answer = RandomAnswer(rng);
    // A fixed answer: a status code, or a fault name (a quoted string).
    behavior += (answer[0] == '"' ? "\"fault\": " : "\"status\": ") + answer;
  } else {
    behavior += "\"sequence\": [";
    const int n = static_cast<int>(rng.UniformInt(1, 7));
    for (int i = 0; i < n; ++i) behavior += (i ? ", " : "") + RandomAnswer(rng);
    behavior += std::string("], \"then\": \"") +
                (rng.Bernoulli(0.5) ? "cycle" : "repeat_last") + "\"";
  }
  if (rng.Bernoulli(0.3)) {
    behavior += ", \"latency\": {\"fixed_ms\": " +
                std::to_string(rng.UniformInt(0, 15000)) + "}";
  }
  if (rng.Bernoulli(0.5)) {
    const int64_t from = rng.UniformInt(0, 3 * 3600) * 1000;
    const int64_t to = from + rng.UniformInt(1, 4 * 3600) * 1000;
    behavior += ", \"outages\": [{\"from_ms\": " + std::to_string(from) +
                ", \"to_ms\": " + std::to_string(to) + ", \"status\": 503}]";
  }
  behavior += "}";
  std::string retry = "{\"jitter\": " +
                      std::to_string(rng.UniformInt(0, 5) / 10.0) +
                      ", \"timeout_ms\": " +
                      std::to_string(rng.UniformInt(1, 20) * 1000) + "}";
  return R"({"name": "prop", "seed": )" + std::to_string(rng.Next() >> 12) +
         R"(, "events": {"count": 8, "interval_ms": )" +
         std::to_string(rng.UniformInt(0, 1800) * 1000) +
         R"(}, "receivers": {"r": {"behavior": )" + behavior +
         R"(}}, "retry": )" + retry + "}";
}

TEST(OraclePropertyTest, EngineAgreesWithTheOracleOnRandomBehaviours) {
  Random rng(20261128);
  int derived = 0;
  for (int round = 0; round < 300; ++round) {
    const std::string text = RandomScenario(rng);
    Result<Scenario> scenario = ParseScenarioText(text);
    ASSERT_TRUE(scenario.ok()) << text << "\n" << scenario.error().ToString();
    Result<std::unique_ptr<RunResult>> run = RunScenario(*scenario, {});
    ASSERT_TRUE(run.ok()) << text;
    const BehaviorSpec& behavior = scenario->receivers[0].behavior;
    for (const Delivery& d : (*run)->engine->deliveries()) {
      const TimePoint first =
          TimePoint{} + scenario->events.interval * static_cast<int64_t>(d.event);
      std::optional<DerivedAttempts> want =
          DeriveAttempts(behavior, scenario->retry, first);
      ASSERT_TRUE(want.has_value()) << text;
      ++derived;
      EXPECT_TRUE(want->attempts.Contains(d.attempts))
          << text << "\nevent " << d.event << ": oracle "
          << want->attempts.ToString() << ", engine " << d.attempts;
      if (want->outcome == OutcomeExpectation::kDelivered) {
        EXPECT_EQ(d.state, DeliveryState::kDelivered) << text;
      } else if (want->outcome == OutcomeExpectation::kGaveUp) {
        EXPECT_EQ(d.state, DeliveryState::kGaveUp) << text;
      }
    }
    // And the whole run verifies: expectations are derived the same way.
    const Verdict v = Verify((*run)->Record());
    EXPECT_TRUE(v.passed()) << text;
  }
  EXPECT_EQ(derived, 300 * 8);
}

}  // namespace
}  // namespace hooksim
