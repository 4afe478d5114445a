#include "mock-receivers/receiver.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/base/random.h"

namespace hooksim {
namespace {

constexpr char kBody[] = R"({"event":"release","data":{}})";

// Owns the bytes an HttpRequest view points at.
struct TestRequest {
  std::string method = "POST";
  std::string target = "/hook";
  std::string body = kBody;
  std::vector<std::pair<std::string, std::string>> header_text = {
      {"Content-Type", "application/json"}};
  std::vector<Header> headers;

  TestRequest& With(std::string name, std::string value) {
    header_text.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  HttpRequest View() {
    headers.clear();
    for (const auto& [name, value] : header_text) {
      headers.push_back(Header{name, value});
    }
    return HttpRequest{method, target, headers, body};
  }
};

TestRequest WithId(const std::string& id, std::string body = kBody) {
  TestRequest r;
  r.body = std::move(body);
  r.With(std::string(kDeliveryIdHeader), id);
  return r;
}

BehaviorSpec Sequence503503200() {
  BehaviorSpec spec;
  spec.answers = SequenceAnswer{
      {{503, Fault::kNone}, {503, Fault::kNone}, {200, Fault::kNone}},
      SequenceScope::kDelivery,
      SequenceEnd::kRepeatLast};
  return spec;
}

MockReceiver MakeReceiver(BehaviorSpec spec, JournalLimits limits = {}) {
  return MockReceiver(ReceiverOptions{"flaky", limits, nullptr},
                      std::move(spec), Random(1));
}

int Status(MockReceiver& receiver, TestRequest request, int64_t at_ms = 0) {
  return receiver.Handle(request.View(), AtMillis(at_ms)).answer.status;
}

TEST(ReceiverTest, SequencePerDeliveryRestartsForEachDelivery) {
  MockReceiver receiver = MakeReceiver(Sequence503503200());
  EXPECT_EQ(receiver.name(), "flaky");
  std::vector<int> a;
  for (int i = 0; i < 4; ++i) a.push_back(Status(receiver, WithId("dlv-a")));
  EXPECT_EQ(a, (std::vector<int>{503, 503, 200, 200}));
  EXPECT_EQ(Status(receiver, WithId("dlv-b")), 503);
  EXPECT_EQ(Status(receiver, WithId("dlv-a")), 200);
  EXPECT_EQ(Status(receiver, WithId("dlv-b")), 503);
  EXPECT_EQ(Status(receiver, WithId("dlv-b")), 200);

  receiver.WithJournal([](const Journal& journal) {
    EXPECT_EQ(journal.total_requests(), 8u);
    const DeliveryCounters& a = journal.deliveries().at("dlv-a");
    EXPECT_EQ(a.attempts, 5);
    EXPECT_EQ(a.success_attempt(), 3);
    EXPECT_EQ(a.attempts_after_success(), 2);
    EXPECT_EQ(journal.deliveries().at("dlv-b").success_attempt(), 3);
    EXPECT_EQ(journal.answers().at("503"), 4u);
    EXPECT_EQ(journal.answers().at("200"), 4u);
  });
}

TEST(ReceiverTest, GroupsByIdHeaderEvenWhenBodiesDiffer) {
  MockReceiver receiver = MakeReceiver(Sequence503503200());
  EXPECT_EQ(Status(receiver, WithId("same", R"({"event":"a","data":{}})")),
            503);
  EXPECT_EQ(Status(receiver, WithId("same", R"({"event":"b","data":{}})")),
            503);
  receiver.WithJournal([](const Journal& journal) {
    ASSERT_EQ(journal.deliveries().size(), 1u);
    EXPECT_EQ(journal.deliveries().at("same").body_changes, 1);
    EXPECT_TRUE(journal.Recent(1).at(0).has_delivery_id);
  });
}

TEST(ReceiverTest, FallsBackToBodyHash) {
  MockReceiver receiver = MakeReceiver(Sequence503503200());
  TestRequest one;  // No id header.
  TestRequest other;
  other.body = R"({"event":"release","data":{"v":2}})";
  EXPECT_EQ(Status(receiver, one), 503);
  EXPECT_EQ(Status(receiver, one), 503);
  EXPECT_EQ(Status(receiver, other), 503);
  EXPECT_EQ(Status(receiver, one), 200);
  TestRequest empty_id = one;
  empty_id.With(std::string(kDeliveryIdHeader), "");  // Treated as missing.
  EXPECT_EQ(Status(receiver, empty_id), 200);

  char expected[32];
  std::snprintf(expected, sizeof(expected), "body:%016llx",
                static_cast<unsigned long long>(Hash64(kBody)));
  receiver.WithJournal([&](const Journal& journal) {
    EXPECT_EQ(journal.deliveries().size(), 2u);
    ASSERT_TRUE(journal.deliveries().contains(expected));
    EXPECT_EQ(journal.deliveries().at(expected).attempts, 4);
    const std::vector<JournalEntry> recent = journal.Recent();
    const JournalEntry& last = recent.back();
    EXPECT_EQ(last.delivery_key, expected);
    EXPECT_FALSE(last.has_delivery_id);
  });
}

TEST(ReceiverTest, JournalEntryFields) {
  MockReceiver receiver = MakeReceiver(BehaviorSpec{});
  TestRequest r = WithId("dlv-1");
  r.header_text[0].second = "application/json; charset=utf-8";
  r.With("x-hooksim-event", "release").With("X-Hooksim-Attempt", "1");
  receiver.Handle(r.View(), AtMillis(1500));
  TestRequest again = WithId("dlv-1");
  again.method = "PUT";
  again.header_text.erase(again.header_text.begin());  // No Content-Type.
  again.With(std::string(kAttemptHeader), "7x");
  receiver.Handle(again.View(), AtMillis(2500));

  receiver.WithJournal([](const Journal& journal) {
    std::vector<JournalEntry> entries = journal.Recent();
    ASSERT_EQ(entries.size(), 2u);
    const JournalEntry& e = entries[0];
    EXPECT_EQ(e.index, 0u);
    EXPECT_EQ(e.at, AtMillis(1500));
    EXPECT_EQ(e.method, "POST");
    EXPECT_EQ(e.target, "/hook");
    EXPECT_EQ(e.content_type, "application/json; charset=utf-8");
    EXPECT_EQ(e.delivery_key, "dlv-1");
    EXPECT_EQ(e.event_type, "release");
    EXPECT_EQ(e.sender_attempt, 1);
    EXPECT_EQ(e.delivery_attempt, 1);
    EXPECT_EQ(e.body_hash, Hash64(kBody));
    EXPECT_EQ(e.body_size, std::string(kBody).size());
    EXPECT_TRUE(e.schema_valid);
    EXPECT_EQ(e.reply.answer, (Answer{200, Fault::kNone}));

    const JournalEntry& f = entries[1];
    EXPECT_EQ(f.index, 1u);
    EXPECT_EQ(f.method, "PUT");
    EXPECT_EQ(f.content_type, "");
    EXPECT_EQ(f.event_type, "");
    EXPECT_EQ(f.sender_attempt, 0);  // Malformed header.
    EXPECT_EQ(f.delivery_attempt, 2);

    const DeliveryCounters& c = journal.deliveries().at("dlv-1");
    EXPECT_EQ(c.non_post, 1);
    EXPECT_EQ(c.bad_content_type, 1);
    EXPECT_EQ(c.attempt_header_mismatches, 0);
    EXPECT_EQ(c.first_at, AtMillis(1500));
    EXPECT_EQ(c.last_at, AtMillis(2500));
  });
}

TEST(ReceiverTest, PerReceiverSequenceUsesRequestCount) {
  BehaviorSpec spec;
  spec.answers = SequenceAnswer{{{503, Fault::kNone}, {200, Fault::kNone}},
                                SequenceScope::kReceiver,
                                SequenceEnd::kCycle};
  MockReceiver receiver = MakeReceiver(spec);
  EXPECT_EQ(Status(receiver, WithId("a")), 503);
  EXPECT_EQ(Status(receiver, WithId("b")), 200);
  EXPECT_EQ(Status(receiver, WithId("c")), 503);
  EXPECT_EQ(Status(receiver, WithId("a")), 200);
}

TEST(ReceiverTest, UntrackedDeliveriesTakeTheSendersAttemptNumber) {
  MockReceiver receiver = MakeReceiver(
      Sequence503503200(), JournalLimits{.capacity = 16, .max_deliveries = 1});
  EXPECT_EQ(Status(receiver, WithId("a")), 503);
  // "b" cannot be tracked; its attempt header says where it stands.
  for (const auto& [attempt, status] : std::vector<std::pair<std::string, int>>{
           {"1", 503}, {"2", 503}, {"3", 200}, {"x", 503}, {"0", 503}}) {
    TestRequest r = WithId("b");
    r.With(std::string(kAttemptHeader), attempt);
    EXPECT_EQ(Status(receiver, r), status) << "attempt header " << attempt;
  }
}

TEST(ReceiverTest, UntrackedDeliveriesStartAtAttemptOne) {
  MockReceiver receiver =
      MakeReceiver(Sequence503503200(), JournalLimits{.capacity = 16,
                                                      .max_deliveries = 1});
  EXPECT_EQ(Status(receiver, WithId("a")), 503);
  EXPECT_EQ(Status(receiver, WithId("a")), 503);
  EXPECT_EQ(Status(receiver, WithId("a")), 200);
  // "b" cannot be tracked: every attempt looks like the first.
  EXPECT_EQ(Status(receiver, WithId("b")), 503);
  EXPECT_EQ(Status(receiver, WithId("b")), 503);
  EXPECT_EQ(Status(receiver, WithId("b")), 503);
  receiver.WithJournal([](const Journal& journal) {
    EXPECT_EQ(journal.untracked_requests(), 3u);
  });
}

TEST(ReceiverTest, SetBehaviorKeepsCountersAndResetClearsThem) {
  MockReceiver receiver = MakeReceiver(Sequence503503200());
  EXPECT_EQ(Status(receiver, WithId("a")), 503);
  EXPECT_EQ(Status(receiver, WithId("a")), 503);

  BehaviorSpec down;
  down.answers = FixedAnswer{{500, Fault::kNone}};
  receiver.SetBehavior(down);
  EXPECT_TRUE(
      std::holds_alternative<FixedAnswer>(receiver.behavior_spec().answers));
  EXPECT_EQ(Status(receiver, WithId("a")), 500);

  receiver.SetBehavior(Sequence503503200());
  EXPECT_EQ(Status(receiver, WithId("a")), 200);  // Fourth attempt of "a".

  receiver.Reset();
  receiver.WithJournal([](const Journal& journal) {
    EXPECT_EQ(journal.total_requests(), 0u);
    EXPECT_TRUE(journal.deliveries().empty());
  });
  EXPECT_EQ(Status(receiver, WithId("a")), 503);  // Starts again.
}

TEST(ReceiverTest, OutageUsesArrivalTimeAndSameSeedSameReplies) {
  BehaviorSpec spec;
  spec.answers = WeightedAnswer{{{{200, Fault::kNone}, 0.5},
                                 {{500, Fault::kNone}, 0.5}}};
  spec.latency = LatencyUniform{Millis(1), Millis(100)};
  spec.outages = {{AtMillis(1000), AtMillis(2000), {200, Fault::kReset}}};
  MockReceiver r1(ReceiverOptions{"a", {}, nullptr}, spec, Random(77));
  MockReceiver r2(ReceiverOptions{"b", {}, nullptr}, spec, Random(77));
  for (int i = 0; i < 100; ++i) {
    TestRequest req = WithId("d" + std::to_string(i));
    const Reply a = r1.Handle(req.View(), AtMillis(i * 30));
    const Reply b = r2.Handle(req.View(), AtMillis(i * 30));
    ASSERT_EQ(a.answer, b.answer);
    ASSERT_EQ(a.latency, b.latency);
    if (i * 30 >= 1000 && i * 30 < 2000) {
      EXPECT_EQ(a.answer.fault, Fault::kReset);
    }
  }
}

TEST(ReceiverTest, ValidatorVerdictIsJournaled) {
  Result<std::shared_ptr<const PayloadValidator>> bundled =
      PayloadValidator::Bundled();
  ASSERT_TRUE(bundled.ok()) << bundled.error().ToString();
  MockReceiver receiver(
      ReceiverOptions{"checked", {},
                      std::make_shared<CachedPayloadValidator>(*bundled)},
      BehaviorSpec{}, Random(1));
  receiver.Handle(WithId("bad", "not json").View(), AtMillis(0));
  receiver.Handle(WithId("bad", "not json").View(), AtMillis(1));
  receiver.Handle(WithId("no-data", R"({"event":"ping"})").View(),
                  AtMillis(2));
  receiver.WithJournal([](const Journal& journal) {
    EXPECT_EQ(journal.schema_failures(), 3u);
    const DeliveryCounters& bad = journal.deliveries().at("bad");
    EXPECT_EQ(bad.schema_invalid, 2);
    EXPECT_FALSE(bad.first_schema_issue.empty());
    const std::vector<JournalEntry> recent = journal.Recent();
    EXPECT_FALSE(recent.back().schema_valid);
    EXPECT_FALSE(recent.back().schema_issue.empty());
  });
}

}  // namespace
}  // namespace hooksim

namespace hooksim {
namespace {

TEST(ReceiverTest, WeightedAnswersDoNotDependOnArrivalOrder) {
  BehaviorSpec spec;
  spec.answers = WeightedAnswer{{{Answer{200, Fault::kNone}, 0.5},
                                 {Answer{500, Fault::kNone}, 0.5}}};
  MockReceiver forward = MakeReceiver(spec);
  MockReceiver backward = MakeReceiver(spec);
  std::vector<int> a(40), b(40);
  for (int i = 0; i < 40; ++i) {
    a[i] = Status(forward, WithId("dlv_" + std::to_string(i)));
  }
  for (int i = 39; i >= 0; --i) {
    b[i] = Status(backward, WithId("dlv_" + std::to_string(i)));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(std::count(a.begin(), a.end(), 200), 0);
  EXPECT_NE(std::count(a.begin(), a.end(), 500), 0);
}

TEST(ReceiverTest, MarkAbandonedUsesTheSameDeliveryKey) {
  MockReceiver receiver = MakeReceiver(BehaviorSpec{});
  TestRequest no_id;  // Keyed by body hash.
  int attempt = 0;
  receiver.Handle(no_id.View(), AtMillis(0), &attempt);
  EXPECT_EQ(attempt, 1);
  receiver.MarkAbandoned(no_id.View(), attempt);
  receiver.WithJournal([](const Journal& j) {
    ASSERT_EQ(j.deliveries().size(), 1u);
    EXPECT_EQ(j.deliveries().begin()->second.success_attempt(), 0);
    EXPECT_EQ(j.deliveries().begin()->second.abandoned, 1);
  });
}

// Handle forks each request's generator by Hash64(delivery key) ^ attempt
// (the golden outputs depend on it), whatever hash the journal's tables use.
TEST(ReceiverTest, ForkSeedIsHash64OfTheDeliveryKey) {
  BehaviorSpec spec;
  spec.answers = WeightedAnswer{{{Answer{200, Fault::kNone}, 0.5},
                                 {Answer{500, Fault::kNone}, 0.3},
                                 {Answer{503, Fault::kNone}, 0.2}}};
  spec.latency = LatencyUniform{std::chrono::milliseconds(1),
                                std::chrono::milliseconds(900)};
  MockReceiver receiver = MakeReceiver(spec);
  const ReceiverBehavior behavior(spec);
  const Random rng(1);
  uint64_t index = 0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    for (int i = 0; i < 30; ++i) {
      TestRequest request = WithId("dlv_" + std::to_string(i));
      const std::string key = "dlv_" + std::to_string(i);
      const Reply got = receiver.Handle(request.View(), AtMillis(0));
      DecisionContext context;
      context.delivery_attempt = attempt;
      context.request_index = index++;
      Random draws = rng.Fork(Hash64(key) ^ static_cast<uint64_t>(attempt));
      const Reply want =
          behavior.Decide(request.View(), context, AtMillis(0), draws);
      EXPECT_EQ(got.answer.status, want.answer.status) << key << " " << attempt;
      EXPECT_EQ(got.latency, want.latency) << key << " " << attempt;
    }
  }
}

// Handle fills one scratch entry per thread, which the journal takes and
// answers with the entry of the slot it fills: every request's entry must
// hold its own fields, whatever the recycled entry held before (fewer or
// more headers, a missing Content-Type, another route or method).
TEST(ReceiverTest, RecycledEntriesHoldEachRequestsOwnFields) {
  JournalLimits limits;
  limits.capacity = 2;  // Entries come back after two requests.
  MockReceiver receiver = MakeReceiver(BehaviorSpec{}, limits);
  struct Case {
    std::string method, target, content_type, event;
    std::vector<std::pair<std::string, std::string>> extra;
  };
  const std::vector<Case> cases = {
      {"POST", "/hook", "application/json", "release", {{"X-A", "1"}}},
      {"PUT", "/h", "", "", {}},
      {"POST", "/a/much/longer/target/than/before?x=1", "text/plain",
       "release.created.with.a.long.name",
       {{"X-Empty", ""}, {"", "nameless"}, {"X-Long", std::string(40, 'v')}}},
      {"POST", "/hook", "application/json", "release", {{"X-A", "1"}}},
      {"GET", "/", "application/json; charset=utf-8", "r", {{"X-B", "22"}}},
  };
  for (size_t round = 0; round < 3; ++round) {
    for (size_t c = 0; c < cases.size(); ++c) {
      const Case& k = cases[c];
      TestRequest request;
      request.method = k.method;
      request.target = k.target;
      request.header_text.clear();
      if (!k.content_type.empty()) request.With("Content-Type", k.content_type);
      request.With(std::string(kDeliveryIdHeader),
                   "dlv_" + std::to_string(c));
      if (!k.event.empty()) request.With(std::string(kEventTypeHeader), k.event);
      for (const auto& [name, value] : k.extra) request.With(name, value);
      receiver.Handle(request.View(), AtMillis(0));
      receiver.WithJournal([&](const Journal& j) {
        const std::vector<JournalEntry> recent = j.Recent(1);
        ASSERT_EQ(recent.size(), 1u);
        const JournalEntry& e = recent[0];
        EXPECT_EQ(e.method, k.method);
        EXPECT_EQ(e.target, k.target);
        EXPECT_EQ(e.content_type, k.content_type);
        EXPECT_EQ(e.event_type, k.event);
        EXPECT_EQ(e.delivery_key, "dlv_" + std::to_string(c));
        EXPECT_EQ(e.route, "default");
        EXPECT_EQ(e.delivery_attempt, static_cast<int>(round) + 1);
        ASSERT_EQ(e.headers.size(), request.header_text.size());
        for (size_t h = 0; h < e.headers.size(); ++h) {
          EXPECT_EQ(e.headers[h].name, request.header_text[h].first);
          EXPECT_EQ(e.headers[h].value, request.header_text[h].second);
        }
      });
    }
  }
}

}  // namespace
}  // namespace hooksim
