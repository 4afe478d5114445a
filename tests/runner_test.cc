// The runner and the verifier together: bundled scenarios pass, runs are
// deterministic, and a sender that breaks a rule is caught from both sides.
#include "sim/world/runner.h"

#include <gtest/gtest.h>

#include <string>

#include "sim/contract/webhook_signature.h"
#include "sim/judge/verifier.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

Scenario Load(const std::string& relative) {
  Result<Scenario> s = LoadScenarioFile(testing::SourcePath(relative));
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().ToString());
  return s.ok() ? std::move(s).value() : Scenario{};
}

std::unique_ptr<RunResult> RunIt(const Scenario& s, RunOptions options = {}) {
  Result<std::unique_ptr<RunResult>> r = RunScenario(s, options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? std::move(r).value() : nullptr;
}

const RuleResult& RuleOf(const Verdict& v, const std::string& rule) {
  for (const RuleResult& r : v.rules) {
    if (r.id() == rule) return r;
  }
  ADD_FAILURE() << "no rule " << rule;
  static RuleResult none;
  return none;
}

std::string Failures(const Verdict& v) {
  std::string out;
  for (const RuleResult& r : v.rules) {
    for (const Finding& f : r.examples) {
      out += std::string(r.id()) + " " + f.side + " " + f.subject + ": expected " +
             f.expected + "; got " + f.actual + "\n";
    }
  }
  return out;
}

class BundledScenarioTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BundledScenarioTest, PassesEveryRule) {
  Scenario s = Load(std::string("scenarios/") + GetParam() + ".json");
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  EXPECT_TRUE(v.passed()) << Failures(v);
  EXPECT_EQ(v.deliveries, s.DeliveryCount());
  EXPECT_EQ(v.delivered + v.gave_up + v.held, v.deliveries);
  for (const RuleResult& r : v.rules) {
    if (r.id() == "C4" || r.id() == "expect") continue;
    EXPECT_GT(r.checked, 0u) << r.id() << " checked nothing";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, BundledScenarioTest,
    ::testing::Values("always-200", "503-twice-then-200", "always-500",
                      "redirect-302-is-failure", "404-and-410-retried",
                      "hang-past-timeout", "connection-reset",
                      "random-500s-30pct", "two-hour-outage", "mixed-fleet",
                      "promotions-and-rollbacks", "spec-example-payload",
                      "pause-resume-signed"));

// The retry-count rules, per bundled scenario, from the engine's own
// record of each delivery.
TEST(RunnerTest, RetryCountsOfTheBundledScenarios) {
  struct Want {
    const char* file;
    const char* hook;
    int attempts;
    DeliveryState state;
  };
  const Want wants[] = {
      {"always-200", "ok", 1, DeliveryState::kDelivered},
      {"503-twice-then-200", "flaky", 3, DeliveryState::kDelivered},
      {"always-500", "broken", 6, DeliveryState::kGaveUp},
      {"redirect-302-is-failure", "always-redirect", 6, DeliveryState::kGaveUp},
      {"redirect-302-is-failure", "redirect-once", 2, DeliveryState::kDelivered},
      {"404-and-410-retried", "not-found", 6, DeliveryState::kGaveUp},
      {"404-and-410-retried", "gone-then-back", 4, DeliveryState::kDelivered},
      {"hang-past-timeout", "hangs-twice", 3, DeliveryState::kDelivered},
      {"hang-past-timeout", "too-slow", 6, DeliveryState::kGaveUp},
      {"connection-reset", "resets-once", 2, DeliveryState::kDelivered},
      {"two-hour-outage", "down-2h", 5, DeliveryState::kDelivered},
      {"mixed-fleet", "decommissioned", 6, DeliveryState::kGaveUp},
      {"mixed-fleet", "deploy-bot", 4, DeliveryState::kDelivered},
  };
  for (const Want& w : wants) {
    Scenario s = Load(std::string("scenarios/") + w.file + ".json");
    auto run = RunIt(s);
    ASSERT_NE(run, nullptr);
    int checked = 0;
    for (const Delivery& d : run->engine->deliveries()) {
      if (run->engine->hooks()[d.hook].id != w.hook) continue;
      // The outage scenario's later events arrive after part of the outage
      // has passed; only its first event is pinned here.
      if (std::string(w.file) == "two-hour-outage" && d.event != 0) continue;
      ++checked;
      EXPECT_EQ(d.attempts, w.attempts) << w.file << " " << w.hook;
      EXPECT_EQ(d.state, w.state) << w.file << " " << w.hook;
    }
    EXPECT_GT(checked, 0) << w.file << " " << w.hook;
  }
}

TEST(RunnerTest, SameSeedSameFingerprint) {
  Scenario s = Load("scenarios/random-500s-30pct.json");
  auto a = RunIt(s);
  auto b = RunIt(s);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->Fingerprint(), b->Fingerprint());
  EXPECT_EQ(a->engine->attempts().size(), b->engine->attempts().size());
}

TEST(RunnerTest, DifferentSeedChangesTheWeightedLog) {
  Scenario s = Load("scenarios/random-500s-30pct.json");
  RunOptions other;
  other.seed = s.seed + 1;
  auto a = RunIt(s);
  auto b = RunIt(s, other);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->Fingerprint(), b->Fingerprint());
  EXPECT_EQ(b->seed, s.seed + 1);
}

TEST(RunnerTest, TraceHasOneLinePerAttempt) {
  Scenario s = Load("scenarios/503-twice-then-200.json");
  std::vector<std::string> lines;
  RunOptions options;
  options.trace = [&](const std::string& line) { lines.push_back(line); };
  auto run = RunIt(s, options);
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(lines.size(), run->engine->attempts().size());
  EXPECT_NE(lines[0].find("attempt 1/6  503"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("-> retry at +00:00:0"), std::string::npos)
      << lines[0];
  bool delivered = false;
  for (const auto& l : lines) delivered |= l.find("-> delivered") != std::string::npos;
  EXPECT_TRUE(delivered);
}

TEST(RunnerTest, TooFewRetriesBreaksC6FromBothSides) {
  Scenario s = Load("examples/failing/too-few-retries.json");
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  EXPECT_FALSE(v.passed());
  const RuleResult& c6 = RuleOf(v, "C6");
  EXPECT_EQ(c6.failed, 6u);  // 3 deliveries x (sender + receiver).
  bool sender = false, receiver = false;
  for (const Finding& f : c6.examples) {
    sender |= f.side == "sender";
    receiver |= f.side == "receiver";
    if (f.side == "sender") {
      EXPECT_NE(f.actual.find("4 attempts: the sender stopped after 500"),
                std::string::npos)
          << f.actual;
    }
  }
  EXPECT_TRUE(sender);
  EXPECT_TRUE(receiver);
  EXPECT_TRUE(RuleOf(v, "expect").passed());  // Its outcome is gave_up.
}

TEST(RunnerTest, AWrongExpectationFailsOnlyTheExpectation) {
  Scenario s = Load("examples/failing/wrong-expectation.json");
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  EXPECT_FALSE(v.passed());
  EXPECT_EQ(RuleOf(v, "expect").failed, 2u);
  for (const char* rule : {"C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"}) {
    EXPECT_TRUE(RuleOf(v, rule).passed()) << rule;
  }
}

// A sender wrapper that misbehaves in a chosen way, to prove the verifier
// catches it.
class BadSender : public Transport {
 public:
  enum class Fault {
    kPutOnRetry,
    kTextPlain,
    kBodyChangesOnRetry,
    kSwallowOneDelivery,  // Never sends one delivery; pretends it got 500s.
  };
  BadSender(Transport& inner, Fault fault) : inner_(inner), fault_(fault) {}

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override {
    if (fault_ == Fault::kSwallowOneDelivery) {
      const std::string id(request.FindHeader(kDeliveryIdHeader).value_or(""));
      if (swallowed_.empty()) swallowed_ = id;
      if (id == swallowed_) {
        done_later_.push_back(std::move(done));
        inner_.Send(HttpRequest{"POST", "http://nowhere.invalid/", {}, ""},
                    timeout, [this](AttemptResult) {
                      auto d = std::move(done_later_.front());
                      done_later_.erase(done_later_.begin());
                      d(AttemptResult{AttemptError::kNone, 500});
                    });
        return;
      }
    }
    auto copy = std::make_shared<Copy>();
    copy->body = std::string(request.body);
    copy->method = std::string(request.method);
    for (const Header& h : request.headers) {
      copy->names.emplace_back(h.name);
      copy->values.emplace_back(h.value);
    }
    const bool retry = request.FindHeader(kAttemptHeader) != "1";
    if (retry && fault_ == Fault::kPutOnRetry) copy->method = "PUT";
    if (retry && fault_ == Fault::kBodyChangesOnRetry) copy->body += " ";
    for (size_t i = 0; i < copy->names.size(); ++i) {
      if (fault_ == Fault::kTextPlain && copy->names[i] == "Content-Type") {
        copy->values[i] = "text/plain";
      }
    }
    for (size_t i = 0; i < copy->names.size(); ++i) {
      copy->headers.push_back(Header{copy->names[i], copy->values[i]});
    }
    HttpRequest out{copy->method, request.target, copy->headers, copy->body};
    inner_.Send(out, timeout, [copy, done = std::move(done)](AttemptResult r) {
      done(r);
    });
  }

 private:
  struct Copy {
    std::string method, body;
    std::vector<std::string> names, values;
    std::vector<Header> headers;
  };
  Transport& inner_;
  Fault fault_;
  std::string swallowed_;
  std::vector<std::function<void(AttemptResult)>> done_later_;
};

Verdict RunWithBadSender(BadSender::Fault fault) {
  Scenario s = Load("scenarios/503-twice-then-200.json");
  RunOptions options;
  options.wrap_sender = [fault](Transport& inner) {
    return std::make_unique<BadSender>(inner, fault);
  };
  auto run = RunIt(s, options);
  return run ? Verify(run->Record()) : Verdict{};
}

bool FailedOnBothSides(const RuleResult& r) {
  bool sender = false, receiver = false;
  for (const Finding& f : r.examples) {
    sender |= f.side == "sender";
    receiver |= f.side == "receiver";
  }
  return sender && receiver;
}

TEST(RunnerTest, VerifierCatchesAMethodChange) {
  const Verdict v = RunWithBadSender(BadSender::Fault::kPutOnRetry);
  EXPECT_FALSE(RuleOf(v, "C1").passed());
  EXPECT_TRUE(FailedOnBothSides(RuleOf(v, "C1")));
  EXPECT_TRUE(RuleOf(v, "C2").passed());
}

TEST(RunnerTest, VerifierCatchesAWrongContentType) {
  const Verdict v = RunWithBadSender(BadSender::Fault::kTextPlain);
  EXPECT_FALSE(RuleOf(v, "C2").passed());
  EXPECT_TRUE(FailedOnBothSides(RuleOf(v, "C2")));
}

TEST(RunnerTest, VerifierCatchesABodyThatChangesOnRetry) {
  const Verdict v = RunWithBadSender(BadSender::Fault::kBodyChangesOnRetry);
  EXPECT_FALSE(RuleOf(v, "C7").passed());
  EXPECT_TRUE(FailedOnBothSides(RuleOf(v, "C7")));
}

TEST(RunnerTest, VerifierCatchesADeliveryThatNeverArrives) {
  const Verdict v = RunWithBadSender(BadSender::Fault::kSwallowOneDelivery);
  const RuleResult& c8 = RuleOf(v, "C8");
  EXPECT_FALSE(c8.passed());
  bool never_arrived = false;
  for (const Finding& f : c8.examples) {
    never_arrived |= f.actual == "it never arrived";
  }
  EXPECT_TRUE(never_arrived) << Failures(v);
  // The sender's side shows it too: the wire recorder saw the stand-in
  // requests without a delivery id, and none of that delivery's attempts.
  EXPECT_FALSE(RuleOf(v, "C7").passed());
}

TEST(RunnerTest, PausedHookReceivesNothing) {
  Scenario s = Load("scenarios/spec-example-payload.json");
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  for (const auto& r : run->receivers) {
    r->WithJournal([&](const Journal& j) {
      if (r->name() == "muted") EXPECT_EQ(j.total_requests(), 0u);
      if (r->name() == "sinatra") EXPECT_EQ(j.total_requests(), 1u);
    });
  }
}

TEST(RunnerTest, InvalidPayloadsFailC3AndC4UnlessExpected) {
  Result<Scenario> s = ParseScenarioText(R"({
    "name": "bad-payloads", "receivers": {"r": {}},
    "events": {"payloads": ["not json",
       {"event": "release", "data": {"app": {"name": "a", "id": "1"}}}]}
  })");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  auto run = RunIt(*s);
  ASSERT_NE(run, nullptr);
  Verdict v = Verify(run->Record());
  EXPECT_FALSE(RuleOf(v, "C3").passed());
  EXPECT_FALSE(RuleOf(v, "C4").passed());
  EXPECT_TRUE(FailedOnBothSides(RuleOf(v, "C3")));

  s->expect.all_payloads_schema_valid = false;
  run = RunIt(*s);
  v = Verify(run->Record());
  EXPECT_TRUE(v.passed()) << Failures(v);

  // Expecting invalid payloads when all are valid is itself a failure.
  Scenario good = Load("scenarios/always-200.json");
  good.expect.all_payloads_schema_valid = false;
  run = RunIt(good);
  v = Verify(run->Record());
  EXPECT_FALSE(RuleOf(v, "expect").passed());
}

}  // namespace
}  // namespace hooksim

namespace hooksim {
namespace {

// Replays a copy of the first request it saw for the "pausable" hook
// whenever another hook's re-attempt goes out: those happen while
// "pausable" is paused (pause-resume-signed.json), so a copy arrives at a
// paused hook's receiver.
class ReplayingSender : public Transport {
 public:
  explicit ReplayingSender(Transport& inner) : inner_(inner) {}

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override {
    const std::string target(request.target);
    const std::string attempt(request.FindHeader(kAttemptHeader).value_or(""));
    if (target.find("flaky-verifier") != std::string::npos && body_.empty()) {
      target_ = target;
      body_ = std::string(request.body);
      for (const Header& h : request.headers) {
        header_text_.emplace_back(std::string(h.name), std::string(h.value));
      }
    } else if (!body_.empty() && attempt == "2" && replays_ < 1) {
      ++replays_;
      headers_.clear();
      for (const auto& [n, v] : header_text_) headers_.push_back(Header{n, v});
      inner_.Send(HttpRequest{"POST", target_, headers_, body_}, timeout,
                  [](AttemptResult) {});
    }
    inner_.Send(request, timeout, std::move(done));
  }

 private:
  Transport& inner_;
  std::string target_, body_;
  std::vector<std::pair<std::string, std::string>> header_text_;
  std::vector<Header> headers_;
  int replays_ = 0;
};

TEST(PauseVerifierTest, HeldDeliveriesGoOutAfterResumeAndNotBefore) {
  Scenario s = Load("scenarios/pause-resume-signed.json");
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  EXPECT_TRUE(v.passed()) << Failures(v);
  int pausable = 0;
  for (const Delivery& d : run->engine->deliveries()) {
    if (run->engine->hooks()[d.hook].id != "pausable") continue;
    ++pausable;
    EXPECT_EQ(d.holds, 1) << d.id;
    EXPECT_EQ(d.state, DeliveryState::kDelivered);
  }
  EXPECT_EQ(pausable, 4);
  for (const AttemptRecord& a : run->engine->attempts()) {
    const Delivery& d = run->engine->deliveries()[a.delivery];
    if (run->engine->hooks()[d.hook].id != "pausable") continue;
    const int64_t ms = ToMillis(a.started);
    EXPECT_TRUE(ms < 500 || ms >= 60'000) << "attempt at " << ms << " ms";
  }
  // The receiver saw signed, verified requests only from the right hooks.
  for (const auto& receiver : run->receivers) {
    receiver->WithJournal([&](const Journal& j) {
      if (receiver->name() == "strict") {
        EXPECT_EQ(j.signature_failures(), j.total_requests());
        EXPECT_EQ(j.total_requests(), 4u * 2 * 6);
      } else {
        EXPECT_EQ(j.signature_failures(), 0u) << receiver->name();
        EXPECT_EQ(j.signatures_checked(), j.total_requests());
      }
    });
  }
}

TEST(PauseVerifierTest, ARequestReachingAPausedHookFailsC8AtTheReceiver) {
  Scenario s = Load("scenarios/pause-resume-signed.json");
  RunOptions options;
  options.wrap_sender = [](Transport& inner) {
    return std::make_unique<ReplayingSender>(inner);
  };
  auto run = RunIt(s, options);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  const RuleResult& c8 = RuleOf(v, "C8");
  EXPECT_FALSE(c8.passed());
  bool found = false;
  for (const Finding& f : c8.examples) {
    found |= f.side == "receiver" &&
             f.expected.find("nothing while hook pausable is paused") !=
                 std::string::npos;
  }
  EXPECT_TRUE(found) << Failures(v);
}

TEST(PauseVerifierTest, PausesNotAppliedAsStatedFailC8AtTheSender) {
  Scenario s = Load("scenarios/pause-resume-signed.json");
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(Verify(run->Record()).passed());
  // The run resumed at 60 s; a scenario that says 120 s was not obeyed.
  s.timeline[1].at = Millis(120'000);
  const Verdict v = Verify(run->Record());
  EXPECT_FALSE(RuleOf(v, "C8").passed());
  EXPECT_EQ(RuleOf(v, "C8").examples.at(0).side, "sender");
}

TEST(PauseVerifierTest, AHookPausedToTheEndKeepsItsDeliveriesHeld) {
  Scenario s = Load("scenarios/spec-example-payload.json");
  auto run = RunIt(s);
  ASSERT_NE(run, nullptr);
  const Verdict v = Verify(run->Record());
  EXPECT_TRUE(v.passed()) << Failures(v);
  EXPECT_EQ(v.held, 1u);
  EXPECT_EQ(v.delivered, 1u);
  run->receivers[0]->WithJournal([](const Journal& j) {
    EXPECT_EQ(j.total_requests(), 0u);  // "muted" sorts first.
  });
}

TEST(PauseVerifierTest, VirtualRunsWithSignaturesAreReproducible) {
  Scenario s = Load("scenarios/pause-resume-signed.json");
  auto a = RunIt(s);
  auto b = RunIt(s);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->Fingerprint(), b->Fingerprint());
  EXPECT_EQ(a->unix_origin, std::chrono::seconds(1614265330));
  // The first signed attempt at run time 0 carries the scenario's origin
  // (read where the receiver recorded it: the engine keeps request headers
  // only while an attempt is in flight).
  const Delivery& first = a->engine->deliveries()[0];
  const int r = a->hook_receiver[first.hook];
  ASSERT_GE(r, 0);
  std::string stamp;
  a->receivers[r]->WithJournal([&](const Journal& j) {
    for (const JournalEntry& e : j.Recent()) {
      if (e.delivery_key != first.id || e.delivery_attempt != 1) continue;
      for (const JournalHeader& h : e.headers) {
        if (EqualsIgnoreCase(h.name, kWebhookTimestampHeader)) stamp = h.value;
      }
    }
  });
  EXPECT_EQ(stamp, "1614265330");
}

}  // namespace
}  // namespace hooksim
