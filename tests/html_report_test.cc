// The HTML reports: escaping, axes, lane sampling, determinism and the
// self-containedness of the pages (tests/html/check_html_reports.py opens
// them in a real browser).
#include "sim/report/html_report.h"

#include <gtest/gtest.h>

#include <string>

#include "sim/base/throughput_series.h"
#include "sim/judge/verifier.h"
#include "sim/report/html_bench_report.h"
#include "sim/report/html_conform_report.h"
#include "sim/report/html_page.h"
#include "sim/world/runner.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

// Nothing in the page may load from elsewhere: no script, no source or
// stylesheet link, no import, no url() but the page's own patterns.
void ExpectSelfContained(const std::string& page) {
  EXPECT_EQ(Count(page, "<script"), 0u);
  EXPECT_EQ(Count(page, " src="), 0u);
  EXPECT_EQ(Count(page, "<link"), 0u);
  EXPECT_EQ(Count(page, "@import"), 0u);
  EXPECT_EQ(Count(page, "href=\"http"), 0u);
  EXPECT_EQ(Count(page, "url("), Count(page, "url(#hatch"));
}

struct Ran {
  Scenario scenario;
  std::unique_ptr<RunResult> run;
  ScenarioOutcome outcome;
};

Ran RunFile(const std::string& relative) {
  Ran r;
  Result<Scenario> s = LoadScenarioFile(testing::SourcePath(relative));
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().ToString());
  r.scenario = std::move(s).value();
  Result<std::unique_ptr<RunResult>> run = RunScenario(r.scenario, {});
  EXPECT_TRUE(run.ok());
  r.run = std::move(run).value();
  r.outcome.file = relative;
  r.outcome.name = r.scenario.name;
  r.outcome.seed = r.run->seed;
  r.outcome.verdict = Verify(r.run->Record());
  r.outcome.fingerprint = r.run->Fingerprint();
  r.outcome.virtual_ms = ToMillis(r.run->ended_at);
  return r;
}

TEST(HtmlEscapeTest, EscapesMarkupAndReplacesInvalidUtf8) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("caf\xC3\xA9 \xE2\x9C\x93"), "caf\xC3\xA9 \xE2\x9C\x93");
  EXPECT_EQ(HtmlEscape("a\xFF"
                       "b\xC3"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape("\xED\xA0\x80"),  // A UTF-16 surrogate: invalid.
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape(std::string("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(HtmlEscapeTest, CutTextKeepsWholeCharacters) {
  bool cut = false;
  EXPECT_EQ(CutText("abc", 5, &cut), "abc");
  EXPECT_FALSE(cut);
  EXPECT_EQ(CutText("ab\xC3\xA9z", 3, &cut), "ab");
  EXPECT_TRUE(cut);
}

TEST(HtmlPageTest, ReadableSpansFromMicrosecondsToDays) {
  EXPECT_EQ(ReadableSpan(0), "0");
  EXPECT_EQ(ReadableSpan(250), "250 us");
  EXPECT_EQ(ReadableSpan(12'000), "12 ms");
  EXPECT_EQ(ReadableSpan(1'500'000), "1.5 s");
  EXPECT_EQ(ReadableSpan(5 * 60'000'000LL), "5 min");
  EXPECT_EQ(ReadableSpan(2 * 3'600'000'000LL + 30 * 60'000'000LL),
            "2 h 30 min");
  EXPECT_EQ(ReadableSpan(30 * 3'600'000'000LL), "1 d 6 h");
  EXPECT_EQ(GroupedNumber(1234567), "1,234,567");
  EXPECT_EQ(GroupedNumber(12), "12");
}

TEST(HtmlPageTest, CommandLineQuotesWhatTheShellWouldSplit) {
  EXPECT_EQ(CommandLine("run", {"scenarios", "--seed", "3"}),
            "hooksim run scenarios --seed 3");
  EXPECT_EQ(CommandLine("conform", {"--sender-cmd", "it's mine"}),
            "hooksim conform --sender-cmd 'it'\\''s mine'");
}

TEST(TimeAxisTest, MapsTheDomainOntoThePlotAndPicksLogForSpreadRetries) {
  const TimeAxis linear(TimeAxis::Kind::kLinear, 10'000'000, 100, 800);
  EXPECT_DOUBLE_EQ(linear.X(0), 100);
  EXPECT_DOUBLE_EQ(linear.X(5'000'000), 500);
  EXPECT_DOUBLE_EQ(linear.X(10'000'000), 900);
  EXPECT_DOUBLE_EQ(linear.X(20'000'000), 900);  // Clamped.
  EXPECT_LE(linear.Ticks().size(), 9u);
  const TimeAxis log(TimeAxis::Kind::kLog, 27'000'000'000LL, 0, 800);
  EXPECT_DOUBLE_EQ(log.X(0), 0);
  EXPECT_DOUBLE_EQ(log.X(27'000'000'000LL), 800);
  EXPECT_GT(log.X(5'000'000), 300);  // 5 s is far from the start.
  // The default schedule (5 s, 5 min, 30 min, 2 h, 5 h) bunches up on a
  // linear axis of 7.5 h; evenly spread attempts do not.
  EXPECT_EQ(ChooseAxisKind({5'000'000, 300'000'000, 1'800'000'000,
                            7'200'000'000LL, 18'000'000'000LL},
                           27'000'000'000LL, 870),
            TimeAxis::Kind::kLog);
  EXPECT_EQ(ChooseAxisKind({1'000'000, 1'000'000, 1'000'000}, 10'000'000, 870),
            TimeAxis::Kind::kLinear);
  EXPECT_EQ(ChooseAxisKind({}, 10'000'000, 870), TimeAxis::Kind::kLinear);
}

TEST(RunHtmlTest, SamplesAtMostTheLaneLimitWithFindingsAndGaveUpFirst) {
  Ran r = RunFile("examples/failing/too-few-retries.json");
  ASSERT_FALSE(r.outcome.verdict.passed());
  RunHtmlOptions options;
  options.max_lanes = 2;
  const RunPicture p = CollectRunPicture(r.run->Record(), r.outcome, options);
  ASSERT_EQ(p.lanes.size(), 2u);
  for (const Lane& lane : p.lanes) {
    EXPECT_TRUE(lane.in_finding) << lane.delivery;
    EXPECT_EQ(lane.state, DeliveryState::kGaveUp);
    EXPECT_EQ(lane.attempts.size(), 4u);  // The sender's 3 re-attempts.
    EXPECT_EQ(lane.attempts.back().mark, MarkClass::kNon2xx);
  }
  EXPECT_EQ(p.max_attempts, 4);
  EXPECT_EQ(p.attempts_per_delivery.at(4).gave_up, 3u);
  ASSERT_EQ(p.answer_mix.size(), 1u);
  EXPECT_EQ(p.answer_mix[0].answers.at("500"), 12u);

  const std::string page = RenderRunHtml({p}, options);
  EXPECT_EQ(Count(page, "<g class=\"lane\""), 2u);
  EXPECT_EQ(Count(page, "class=\"mark "), 8u);
  EXPECT_EQ(Count(page, "class=\"gaveup-mark\""), 2u);
  EXPECT_NE(page.find("2 of 3 deliveries drawn"), std::string::npos);
  EXPECT_NE(page.find("data-failing-rules=\"C6"), std::string::npos);
  ExpectSelfContained(page);
}

TEST(RunHtmlTest, GaveUpDeliveriesTakeAtMostHalfOfTheLanesLeft) {
  Ran r = RunFile("scenarios/mixed-fleet.json");  // 50 of 350 give up.
  ASSERT_TRUE(r.outcome.verdict.passed());
  RunHtmlOptions options;
  options.max_lanes = 20;
  const RunPicture p = CollectRunPicture(r.run->Record(), r.outcome, options);
  ASSERT_EQ(p.lanes.size(), 20u);
  size_t gave_up = 0;
  for (const Lane& lane : p.lanes)
    gave_up += lane.state == DeliveryState::kGaveUp;
  EXPECT_EQ(gave_up, 10u);
  // Lanes are in hook order, then in the order deliveries were created.
  for (size_t i = 1; i < p.lanes.size(); ++i) {
    EXPECT_LE(p.lanes[i - 1].hook, p.lanes[i].hook);
  }
  // All of them fit: every gave-up delivery is drawn.
  options.max_lanes = 1000;
  const RunPicture all = CollectRunPicture(r.run->Record(), r.outcome, options);
  EXPECT_EQ(all.lanes.size(), 350u);
}

TEST(RunHtmlTest, SameRunGivesTheSamePageByteForByte) {
  Ran a = RunFile("scenarios/two-hour-outage.json");
  Ran b = RunFile("scenarios/two-hour-outage.json");
  const RunHtmlOptions options;
  const std::string pa = RenderRunHtml(
      {CollectRunPicture(a.run->Record(), a.outcome, options)}, options);
  const std::string pb = RenderRunHtml(
      {CollectRunPicture(b.run->Record(), b.outcome, options)}, options);
  EXPECT_EQ(pa, pb);
  // The outage window is shaded, on a log axis (retries from 5 s to hours).
  EXPECT_NE(pa.find("class=\"outage\""), std::string::npos);
  EXPECT_NE(pa.find("data-axis=\"log\""), std::string::npos);
  ExpectSelfContained(pa);
  // Both errors drawn with the refused marks are named in the legend.
  EXPECT_EQ(ClassifyAttempt(AttemptResult{.error = AttemptError::kDns}),
            ClassifyAttempt(AttemptResult{.error = AttemptError::kRefused}));
  EXPECT_NE(pa.find("refused or no address (dns)"), std::string::npos);
}

TEST(RunHtmlTest, PausedHooksAreShadedAndHeldDeliveriesMarked) {
  Ran r = RunFile("scenarios/spec-example-payload.json");
  const RunHtmlOptions options;
  const RunPicture p = CollectRunPicture(r.run->Record(), r.outcome, options);
  bool paused = false;
  for (const HookPicture& h : p.hooks) paused |= !h.paused.empty();
  EXPECT_TRUE(paused);
  const std::string page = RenderRunHtml({p}, options);
  EXPECT_NE(page.find("class=\"paused\""), std::string::npos);
  EXPECT_NE(page.find("data-state=\"held\""), std::string::npos);
  EXPECT_NE(page.find("class=\"held\""), std::string::npos);
}

TEST(RunHtmlTest, EscapesScenarioNamesAndDescriptions) {
  Ran r = RunFile("scenarios/always-200.json");
  r.outcome.name = "<script>alert('x')</script>";
  RunPicture p = CollectRunPicture(r.run->Record(), r.outcome, {});
  p.description = "a & b <iframe onload=alert(1)>";
  const std::string page =
      RenderRunHtml({p}, {.command = "hooksim run \"<x>\""});
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("<iframe"), std::string::npos);
  EXPECT_NE(page.find("a &amp; b &lt;iframe"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
            std::string::npos);
  ExpectSelfContained(page);
}

TEST(ConformHtmlTest, MatrixCellsAndEscapedSenderOutput) {
  ConformPicture p;
  p.sender_cmd = "./send <all>";
  ConformCasePicture c;
  c.name = "always-500";
  c.behaviour = "500";
  c.expected_attempts = 6;
  c.events = 1;
  c.stderr_text = "boom </pre><script>x()</script> \xFF";
  c.requests = {{1000, "POST", "/hook", 0, "500", false, false},
                {2000, "GET", "/elsewhere", -1, "404", false, true}};
  c.rules = {{"attempts", "C5/C6", "fail", "6 attempts", "1 attempt", "why"},
             {"method", "C1", "pass", "POST", "POST", "ok"},
             {"body-shape", "C3", "could-not-judge", "", "", "no request"}};
  p.cases.push_back(c);
  const std::string page = RenderConformHtml(p);
  EXPECT_EQ(Count(page, "<td class=\"cell\" data-verdict=\"fail\""), 1u);
  EXPECT_EQ(Count(page, "<td class=\"cell\" data-verdict=\"pass\""), 1u);
  EXPECT_EQ(Count(page, "data-verdict=\"could-not-judge\""), 2u);  // Cell, row.
  EXPECT_EQ(Count(page, "data-event=\"1\""), 1u);
  EXPECT_EQ(Count(page, "data-event=\"0\""), 1u);
  EXPECT_EQ(page.find("<script>x()"), std::string::npos);
  EXPECT_NE(page.find("&lt;/pre&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.find("./send &lt;all&gt;"), std::string::npos);
  ExpectSelfContained(page);
}

TEST(BenchHtmlTest, DrawsEverySecondAndTheOutcomes) {
  BenchPicture p;
  p.command = "hooksim bench --events 10";
  p.figures = {{"deliveries", 3},
               {"attempts", 4},
               {"outcomes", {{"http_200", 3}, {"http_500", 1}}},
               {"errors", {{"http_500", 1}}}};
  p.throughput.RecordDelivery(Millis(100));
  p.throughput.RecordDelivery(Millis(1500));
  p.throughput.RecordDelivery(Millis(2500));
  p.throughput.RecordAttempt(Millis(100), true);
  p.delivery_latency.Record(Millis(2));
  const std::string page = RenderBenchHtml(p);
  EXPECT_EQ(Count(page, "class=\"bar tp\""), 3u);
  EXPECT_NE(page.find("data-kind=\"http_500\" data-count=\"1\""),
            std::string::npos);
  EXPECT_NE(page.find("id=\"thresholds\""), std::string::npos);
  EXPECT_NE(page.find("data-name=\"delivery\" data-count=\"1\""),
            std::string::npos);
  ExpectSelfContained(page);
}

TEST(ThroughputSeriesTest, CountsPerSecondAndMergesPastTheLimit) {
  ThroughputSeries s;
  s.RecordDelivery(Millis(10));
  s.RecordDelivery(Millis(999));
  s.RecordDelivery(Millis(1000));
  s.RecordAttempt(Millis(2500), true);
  s.RecordAttempt(Millis(-5), false);  // Counts as 0.
  EXPECT_EQ(s.deliveries(), (std::vector<uint64_t>{2, 1, 0}));
  EXPECT_EQ(s.attempts(), (std::vector<uint64_t>{1, 0, 1}));
  EXPECT_EQ(s.failed_attempts(), (std::vector<uint64_t>{0, 0, 1}));
  // Past the limit the interval doubles; nothing is lost.
  s.RecordDelivery(std::chrono::seconds(ThroughputSeries::kMaxBuckets + 10));
  EXPECT_EQ(s.bucket(), std::chrono::seconds(2));
  EXPECT_LE(s.deliveries().size(), ThroughputSeries::kMaxBuckets);
  uint64_t total = 0;
  for (uint64_t n : s.deliveries()) total += n;
  EXPECT_EQ(total, 4u);
  EXPECT_EQ(s.deliveries()[0], 3u);
}

}  // namespace
}  // namespace hooksim
