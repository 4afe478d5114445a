// The run page of html_report.h: collecting a run's picture and drawing it.
#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "sim/base/random.h"
#include "sim/engine/delivery_engine.h"
#include "sim/report/html_page.h"
#include "sim/report/html_report.h"

namespace hooksim {
namespace {

// Timeline geometry (px).
constexpr double kLabelW = 190;
constexpr double kPlotW = 870;
constexpr double kRightPad = 34;
constexpr double kAxisH = 26;
constexpr double kGroupH = 20;
constexpr double kLaneH = 15;
constexpr double kBottomPad = 10;

constexpr const char* kMarkCss[] = {"a2", "ax", "at", "ar", "af", "ab"};
// The legend's words per mark class; ClassifyAttempt draws a dns failure
// (no address for the host) with the refused marks, so the legend says so.
constexpr const char* kMarkName[] = {
    "2xx",   "non-2xx", "timeout", "reset", "refused or no address (dns)",
    "empty or garbage"};

int64_t Us(TimePoint t) { return t.time_since_epoch().count(); }

// Every "dlv_" + 16 hex digits in `text`.
void CollectDeliveryIds(const std::string& text, std::set<std::string>& out) {
  size_t at = 0;
  // Bounded by the text: each turn moves past one match.
  while ((at = text.find("dlv_", at)) != std::string::npos) {
    size_t end = at + 4;
    while (end < text.size() && end - at < 20 &&
           std::isxdigit(static_cast<unsigned char>(text[end]))) {
      ++end;
    }
    if (end - at == 20) out.insert(text.substr(at, 20));
    at = end;
  }
}

// The CSS class of an answer name in the answer mix ("200", "hang", ...).
const char* AnswerCss(const std::string& answer) {
  if (!answer.empty() && std::isdigit(static_cast<unsigned char>(answer[0]))) {
    return answer[0] == '2' ? "a2" : "ax";
  }
  if (answer == "hang" || answer == "timeout") return "at";
  if (answer == "reset") return "ar";
  if (answer == "refused") return "af";
  if (answer == "dribble") return "a2";
  return "ab";
}

const char* AnswerColor(const std::string& answer) {
  const std::string css = AnswerCss(answer);
  if (css == "a2") return "var(--ok)";
  if (css == "ax") return "var(--bad)";
  if (css == "at") return "var(--timeout)";
  if (css == "ar") return "var(--reset)";
  if (css == "af") return "var(--refused)";
  return "var(--broken)";
}

std::string Anchor(size_t index) { return "s" + std::to_string(index + 1); }

std::string Kpi(const std::string& value, const std::string& label) {
  return "<div class=\"kpi\"><b>" + value + "</b><span>" + label +
         "</span></div>";
}

std::string Legend() {
  std::string s = "<div class=\"legend\">";
  for (size_t i = 0; i < std::size(kMarkCss); ++i) {
    const bool square = i >= 2;
    s += "<span><i class=\"";
    s += square ? "sq " : "";
    s += "\" style=\"background:";
    s += AnswerColor(i == 0   ? "200"
                     : i == 1 ? "503"
                     : i == 2 ? "timeout"
                     : i == 3 ? "reset"
                     : i == 4 ? "refused"
                              : "garbage");
    s += "\"></i>";
    s += kMarkName[i];
    s += "</span>";
  }
  s += "<span><i class=\"band\" style=\"background:rgba(250,82,82,.25)\"></i>"
       "receiver outage window</span>";
  s += "<span><i class=\"band\" style=\"background:repeating-linear-gradient("
       "45deg,#adb5bd 0 2px,transparent 2px 5px)\"></i>hook paused</span>";
  s += "<span style=\"color:var(--reset);font-weight:700\">&#x2715;</span>"
       "<span>gave up</span>";
  s += "<span>&#x25CB; held at the end</span>";
  s += "<span><b style=\"color:var(--reset)\">!</b> named in a finding"
       "</span>";
  s += "<span>grey line: the retries of one delivery</span></div>";
  return s;
}

std::string MarkShape(const LaneAttempt& a, double x, double y,
                      const std::string& title) {
  const char* css = kMarkCss[static_cast<int>(a.mark)];
  std::string s;
  if (a.mark == MarkClass::k2xx || a.mark == MarkClass::kNon2xx) {
    s = "<circle class=\"mark " + std::string(css) + "\" cx=\"" + Coord(x) +
        "\" cy=\"" + Coord(y) + "\" r=\"4\">";
    s += "<title>" + title + "</title></circle>";
  } else {
    s = "<rect class=\"mark " + std::string(css) + "\" x=\"" + Coord(x - 3.5) +
        "\" y=\"" + Coord(y - 3.5) + "\" width=\"7\" height=\"7\">";
    s += "<title>" + title + "</title></rect>";
  }
  return s;
}

std::string TimelineSvg(const RunPicture& p, size_t scenario_index) {
  // Axis: linear unless retries bunch up at the start of a long run.
  std::vector<int64_t> gaps;
  for (const Lane& lane : p.lanes) {
    for (size_t i = 1; i < lane.attempts.size(); ++i) {
      gaps.push_back(lane.attempts[i].start_us - lane.attempts[i - 1].start_us);
    }
  }
  const int64_t end_us = std::max<int64_t>(p.end_us + p.end_us / 50, 1000);
  const TimeAxis axis = FitTimeAxis(gaps, end_us, kLabelW, kPlotW);

  // Rows: a header per hook, then its lanes.
  std::vector<std::vector<const Lane*>> by_hook(p.hooks.size());
  for (const Lane& lane : p.lanes) {
    if (lane.hook < by_hook.size()) by_hook[lane.hook].push_back(&lane);
  }
  double height = kAxisH;
  for (size_t h = 0; h < p.hooks.size(); ++h) {
    height += kGroupH + kLaneH * static_cast<double>(by_hook[h].size());
  }
  height += kBottomPad;
  const double total_w = kLabelW + kPlotW + kRightPad;

  std::string s;
  s += "<div class=\"chart\"><svg class=\"timeline\" width=\"" +
       Coord(total_w) + "\" height=\"" + Coord(height) + "\" viewBox=\"0 0 " +
       Coord(total_w) + " " + Coord(height) +
       "\" role=\"img\" aria-label=\"attempt timeline\""
       " data-axis=\"" +
       (axis.kind() == TimeAxis::Kind::kLinear ? "linear" : "log") + "\">\n";
  const std::string hatch = "hatch" + std::to_string(scenario_index + 1);
  s += "<defs><pattern id=\"" + hatch +
       "\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
       "patternTransform=\"rotate(45)\"><rect width=\"2.2\" height=\"6\" "
       "fill=\"#adb5bd\" fill-opacity=\".55\"/></pattern></defs>\n";
  // Grid and tick labels.
  for (int64_t t : axis.Ticks()) {
    const std::string x = Coord(axis.X(t));
    s += "<line class=\"grid\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" +
         Coord(kAxisH - 6) + "\" y2=\"" + Coord(height - kBottomPad) + "\"/>";
    s += "<text x=\"" + x + "\" y=\"14\" text-anchor=\"middle\">" +
         HtmlEscape(t == 0 ? "0" : "+" + ReadableSpan(t)) + "</text>\n";
  }
  s += "<line class=\"axis\" x1=\"" + Coord(kLabelW) + "\" x2=\"" +
       Coord(kLabelW + kPlotW) + "\" y1=\"" + Coord(kAxisH - 6) + "\" y2=\"" +
       Coord(kAxisH - 6) + "\"/>\n";

  double y = kAxisH;
  for (size_t h = 0; h < p.hooks.size(); ++h) {
    const HookPicture& hook = p.hooks[h];
    const std::vector<const Lane*>& lanes = by_hook[h];
    const double lanes_top = y + kGroupH;
    const double lanes_h = kLaneH * static_cast<double>(lanes.size());
    s += "<g class=\"hook\" data-hook=\"" + HtmlEscape(hook.id) +
         "\" data-lanes=\"" + std::to_string(lanes.size()) +
         "\" data-deliveries=\"" + std::to_string(hook.deliveries) + "\">";
    s += "<text class=\"grp\" x=\"4\" y=\"" + Coord(y + 14) + "\">hook " +
         HtmlEscape(hook.id) + " &#x2192; " + HtmlEscape(hook.target) +
         "  <tspan class=\"muted\" style=\"font-weight:400;fill:#868e96\">(" +
         std::to_string(lanes.size()) + " of " +
         GroupedNumber(hook.deliveries) + " deliveries drawn)</tspan></text>";
    // Shading behind the lanes (or a thin band when none is drawn).
    const double band_top = lanes.empty() ? y + kGroupH - 4 : lanes_top;
    const double band_h = lanes.empty() ? 4 : lanes_h;
    for (const TimeWindow& w : hook.outages) {
      if (w.from_us >= axis.end_us()) continue;
      const double x1 = axis.X(w.from_us), x2 = axis.X(w.to_us);
      s += "<rect class=\"outage\" x=\"" + Coord(x1) + "\" y=\"" +
           Coord(band_top) + "\" width=\"" + Coord(std::max(x2 - x1, 1.0)) +
           "\" height=\"" + Coord(band_h) + "\"><title>outage: the receiver " +
           HtmlEscape(w.label) + " from +" + ReadableSpan(w.from_us) + " to +" +
           ReadableSpan(w.to_us) + "</title></rect>";
    }
    for (const TimeWindow& w : hook.paused) {
      const double x1 = axis.X(w.from_us), x2 = axis.X(w.to_us);
      s += "<rect class=\"paused\" fill=\"url(#" + hatch + ")\" x=\"" +
           Coord(x1) + "\" y=\"" + Coord(band_top) + "\" width=\"" +
           Coord(std::max(x2 - x1, 1.0)) + "\" height=\"" + Coord(band_h) +
           "\"><title>hook paused from +" + ReadableSpan(w.from_us) +
           (w.label.empty() ? " to +" + ReadableSpan(w.to_us)
                            : " " + HtmlEscape(w.label)) +
           "</title></rect>";
    }
    s += "\n";
    double ly = lanes_top;
    for (const Lane* lane : lanes) {
      const double cy = ly + kLaneH / 2;
      const std::string state(DeliveryStateName(lane->state));
      s += "<g class=\"lane\" data-delivery=\"" + lane->delivery +
           "\" data-state=\"" + state + "\" data-attempts=\"" +
           std::to_string(lane->attempts.size()) + "\"" +
           (lane->in_finding ? " data-finding=\"1\"" : "") + ">";
      s += "<text class=\"lbl\" x=\"" + Coord(kLabelW - 8) + "\" y=\"" +
           Coord(cy + 3.5) + "\" text-anchor=\"end\"" +
           (lane->state == DeliveryState::kGaveUp || lane->in_finding
                ? " style=\"fill:var(--reset)\""
                : "") +
           ">" + (lane->in_finding ? "! " : "") + lane->delivery.substr(0, 12) +
           " e" + std::to_string(lane->event + 1) + "<title>" + lane->delivery +
           ", event " + std::to_string(lane->event + 1) + ": " + state +
           " after " + std::to_string(lane->attempts.size()) + " attempt" +
           (lane->attempts.size() == 1 ? "" : "s") +
           (lane->in_finding ? "; named in a finding" : "") + "</title></text>";
      const int64_t life_end =
          lane->ended_us > lane->created_us ? lane->ended_us
          : lane->attempts.empty()          ? axis.end_us()
                                            : lane->attempts.back().end_us;
      s += "<line class=\"life\" x1=\"" + Coord(axis.X(lane->created_us)) +
           "\" x2=\"" +
           Coord(std::max(axis.X(life_end), axis.X(lane->created_us) + 0.5)) +
           "\" y1=\"" + Coord(cy) + "\" y2=\"" + Coord(cy) + "\"/>";
      if (lane->attempts.size() > 1) {
        s += "<polyline class=\"join\" fill=\"none\" points=\"";
        for (size_t i = 0; i < lane->attempts.size(); ++i) {
          if (i) s += ' ';
          s += Coord(axis.X(lane->attempts[i].start_us)) + "," + Coord(cy);
        }
        s += "\"/>";
      }
      for (const LaneAttempt& a : lane->attempts) {
        const double x1 = axis.X(a.start_us), x2 = axis.X(a.end_us);
        if (x2 - x1 > 2) {
          s += "<line class=\"span" +
               std::string(kMarkCss[static_cast<int>(a.mark)]).substr(1) +
               "\" stroke-width=\"3\" stroke-opacity=\".45\" x1=\"" +
               Coord(x1) + "\" x2=\"" + Coord(x2) + "\" y1=\"" + Coord(cy) +
               "\" y2=\"" + Coord(cy) + "\"/>";
        }
        const std::string title =
            lane->delivery + " attempt " + std::to_string(a.number) + "/" +
            std::to_string(p.max_attempts) + ": " + HtmlEscape(a.result) +
            " at +" + ReadableSpan(a.start_us) + " (took " +
            ReadableSpan(a.end_us - a.start_us) + ")";
        s += MarkShape(a, x1, cy, title);
      }
      if (lane->state == DeliveryState::kGaveUp) {
        const double x =
            (lane->attempts.empty() ? axis.X(lane->ended_us)
                                    : axis.X(lane->attempts.back().end_us)) +
            9;
        s += "<g class=\"gaveup-mark\"><path class=\"gaveup\" d=\"M" +
             Coord(x - 3.5) + " " + Coord(cy - 3.5) +
             "l7 7m0 -7l-7 7\"/>"
             "<title>gave up after " +
             std::to_string(lane->attempts.size()) + " attempts</title></g>";
      } else if (lane->state == DeliveryState::kHeld) {
        s += "<circle class=\"held\" cx=\"" + Coord(axis.X(axis.end_us()) - 4) +
             "\" cy=\"" + Coord(cy) +
             "\" r=\"3.5\"><title>held at the end: its hook is paused"
             "</title></circle>";
      }
      s += "</g>\n";
      ly += kLaneH;
    }
    s += "</g>\n";
    y = lanes_top + lanes_h;
  }
  s += "</svg></div>\n";
  s += "<p class=\"note\">x axis: " +
       axis.Describe("time since the run started") +
       "; hover a mark for the "
       "attempt, its answer and how long it took.</p>\n";
  return s;
}

std::string AttemptsChart(const RunPicture& p) {
  constexpr int kContractLimit = 6;
  int top = std::max(kContractLimit, p.max_attempts);
  if (!p.attempts_per_delivery.empty()) {
    top = std::max(top, p.attempts_per_delivery.rbegin()->first);
  }
  top = std::min(top, 120);
  uint64_t peak = 1;
  for (const auto& [n, c] : p.attempts_per_delivery) {
    peak = std::max(peak, c.delivered + c.gave_up + c.held + c.open);
  }
  const double w = 500, h = 226, x0 = 36, y0 = 34, ph = 150;
  const double bw = (w - x0 - 10) / (top + 1);
  std::string s = "<svg class=\"attempts-chart\" width=\"" + Coord(w) +
                  "\" height=\"" + Coord(h) + "\" viewBox=\"0 0 " + Coord(w) +
                  " " + Coord(h) +
                  "\" role=\"img\" aria-label=\"attempts per "
                  "delivery\">";
  s += "<line class=\"axis\" x1=\"" + Coord(x0) + "\" x2=\"" + Coord(w - 8) +
       "\" y1=\"" + Coord(y0 + ph) + "\" y2=\"" + Coord(y0 + ph) + "\"/>";
  for (int n = 0; n <= top; ++n) {
    const double x = x0 + bw * n;
    auto it = p.attempts_per_delivery.find(n);
    const AttemptCount c =
        it == p.attempts_per_delivery.end() ? AttemptCount{} : it->second;
    const uint64_t total = c.delivered + c.gave_up + c.held + c.open;
    s += "<g class=\"attempt-bar\" data-attempts=\"" + std::to_string(n) +
         "\" data-count=\"" + std::to_string(total) + "\">";
    double yb = y0 + ph;
    const std::tuple<uint64_t, const char*, const char*> parts[] = {
        {c.delivered, "bar-ok", "delivered"},
        {c.gave_up, "bar-bad", "gave up"},
        {c.held + c.open, "bar-held", "held or open"}};
    for (const auto& [count, css, what] : parts) {
      if (count == 0) continue;
      const double bh = ph * static_cast<double>(count) / peak;
      yb -= bh;
      s += "<rect class=\"" + std::string(css) + "\" x=\"" + Coord(x + 2) +
           "\" y=\"" + Coord(yb) + "\" width=\"" + Coord(bw - 4) +
           "\" height=\"" + Coord(std::max(bh, 0.5)) + "\"><title>" +
           GroupedNumber(count) + " " + what + " after " + std::to_string(n) +
           " attempt" + (n == 1 ? "" : "s") + "</title></rect>";
    }
    if (total > 0) {
      s += "<text x=\"" + Coord(x + bw / 2) + "\" y=\"" + Coord(yb - 3) +
           "\" text-anchor=\"middle\">" + GroupedNumber(total) + "</text>";
    }
    if (top <= 30 || n % 5 == 0) {
      s += "<text x=\"" + Coord(x + bw / 2) + "\" y=\"" + Coord(y0 + ph + 14) +
           "\" text-anchor=\"middle\">" + std::to_string(n) + "</text>";
    }
    s += "</g>";
  }
  const double lx = x0 + bw * (kContractLimit + 1);
  s += "<line class=\"limit\" x1=\"" + Coord(lx) + "\" x2=\"" + Coord(lx) +
       "\" y1=\"16\" y2=\"" + Coord(y0 + ph) + "\"/>";
  s += "<text x=\"" + Coord(lx) + "\" y=\"12\" text-anchor=\"" +
       (lx > w / 2 ? "end" : "start") +
       "\" style=\"fill:var(--reset)\">contract limit: " +
       std::to_string(kContractLimit) + " attempts</text>";
  s += "<text x=\"" + Coord(x0 + (w - x0) / 2) + "\" y=\"" + Coord(h - 4) +
       "\" text-anchor=\"middle\">attempts per delivery</text>";
  s += "</svg>";
  s += "<div class=\"legend\"><span><i class=\"sq\" style=\"background:var("
       "--ok)\"></i>delivered</span><span><i class=\"sq\" style=\"background:"
       "var(--reset)\"></i>gave up</span><span><i class=\"sq\" style=\""
       "background:var(--held)\"></i>held or open</span></div>";
  if (p.max_attempts != kContractLimit) {
    s += "<p class=\"note\">This scenario's sender policy allows " +
         std::to_string(p.max_attempts) + " attempts; the contract says " +
         std::to_string(kContractLimit) + ".</p>";
  }
  return s;
}

std::string AnswerMixTable(const RunPicture& p) {
  std::string s =
      "<table class=\"mix\"><tr><th>receiver</th><th class=\"num\">"
      "requests</th><th>answers</th></tr>";
  for (const AnswerMix& m : p.answer_mix) {
    uint64_t total = 0;
    for (const auto& [answer, n] : m.answers) total += n;
    s += "<tr data-receiver=\"" + HtmlEscape(m.name) + "\" data-requests=\"" +
         std::to_string(total) + "\"><td>" + HtmlEscape(m.name) +
         (m.sender_side ? " <span class=\"muted\">(no receiver: as the sender "
                          "saw it)</span>"
                        : "") +
         "</td><td class=\"num\">" + GroupedNumber(total) + "</td><td>";
    s += "<div class=\"bar-h\">";
    for (const auto& [answer, n] : m.answers) {
      if (total == 0) break;
      s += "<span style=\"width:" +
           FixedNumber(100.0 * static_cast<double>(n) / total, 2) +
           "%;background:" + AnswerColor(answer) + "\" title=\"" +
           HtmlEscape(answer) + ": " + GroupedNumber(n) + "\"></span>";
    }
    s += "</div><div class=\"note\">";
    bool first = true;
    for (const auto& [answer, n] : m.answers) {
      s += (first ? "" : ", ") + HtmlEscape(answer) + " &#xD7; " +
           GroupedNumber(n);
      first = false;
    }
    if (total == 0) s += "no request";
    s += "</div></td></tr>";
  }
  s += "</table>";
  return s;
}

std::string RulesTable(const Verdict& verdict) {
  std::string s =
      "<table class=\"rules\"><tr><th>rule</th><th>what</th>"
      "<th class=\"num\">checked</th><th class=\"num\">failed</th>"
      "<th>verdict</th></tr>";
  for (const RuleResult& r : verdict.rules) {
    s += "<tr class=\"rule\" data-rule=\"" + HtmlEscape(r.id()) +
         "\" data-passed=\"" + (r.passed() ? "1" : "0") + "\"><td><b>" +
         HtmlEscape(r.id()) + "</b></td><td>" + HtmlEscape(r.title());
    if (!r.passed()) {
      s += "<ul class=\"findings\">";
      for (const Finding& f : r.examples) {
        s += "<li><b>" + HtmlEscape(f.side) + "</b> " + HtmlEscape(f.subject) +
             ": expected " + HtmlEscape(f.expected) + "; got " +
             HtmlEscape(f.actual) + "</li>";
      }
      if (r.failed > r.examples.size()) {
        s += "<li class=\"muted\">... and " +
             GroupedNumber(r.failed - r.examples.size()) + " more</li>";
      }
      s += "</ul>";
    }
    for (const std::string& note : r.notes) {
      s += "<div class=\"note\">" + HtmlEscape(note) + "</div>";
    }
    s += "</td><td class=\"num\">" + GroupedNumber(r.checked) +
         "</td><td class=\"num\">" + GroupedNumber(r.failed) + "</td><td>" +
         (r.passed() ? "<span class=\"pill pass\">pass</span>"
                     : "<span class=\"pill fail\">fail</span>") +
         "</td></tr>";
  }
  s += "</table>";
  return s;
}

std::string ScenarioSection(const RunPicture& p, size_t index,
                            const RunHtmlOptions& options) {
  const ScenarioOutcome& o = p.outcome;
  const Verdict& v = o.verdict;
  std::string failing;
  for (const RuleResult& r : v.rules) {
    if (!r.passed())
      failing += (failing.empty() ? "" : ",") + std::string(r.id());
  }
  std::string s = "<section class=\"scenario card\" id=\"" + Anchor(index) +
                  "\" data-name=\"" + HtmlEscape(o.name) + "\" data-passed=\"" +
                  (v.passed() ? "1" : "0") + "\" data-deliveries=\"" +
                  std::to_string(v.deliveries) + "\" data-attempts=\"" +
                  std::to_string(v.attempts) + "\" data-delivered=\"" +
                  std::to_string(v.delivered) + "\" data-gave-up=\"" +
                  std::to_string(v.gave_up) + "\" data-held=\"" +
                  std::to_string(v.held) + "\" data-lanes=\"" +
                  std::to_string(p.lanes.size()) + "\" data-lane-limit=\"" +
                  std::to_string(options.max_lanes) +
                  "\" data-failing-rules=\"" + HtmlEscape(failing) + "\">\n";
  s += "<h2>" +
       std::string(v.passed() ? "<span class=\"pill pass\">PASS</span> "
                              : "<span class=\"pill fail\">FAIL</span> ") +
       HtmlEscape(o.name) + "</h2>\n";
  s +=
      "<div class=\"muted\">" + HtmlEscape(o.file) + " &#xB7; seed " +
      std::to_string(o.seed) + " &#xB7; " + HtmlEscape(o.mode) +
      (o.mode == "http" ? " world at time scale " + FixedNumber(o.time_scale, 4)
                        : std::string(" world (virtual time)")) +
      "</div>\n";
  if (!p.description.empty()) {
    s += "<p>" + HtmlEscape(p.description) + "</p>\n";
  }
  s += "<div class=\"kpis\">" + Kpi(GroupedNumber(v.deliveries), "deliveries") +
       Kpi(GroupedNumber(v.attempts), "attempts") +
       Kpi(GroupedNumber(v.delivered), "delivered") +
       Kpi(GroupedNumber(v.gave_up), "gave up") +
       (v.held ? Kpi(GroupedNumber(v.held), "held (hook still paused)") : "") +
       Kpi(HtmlEscape(ReadableSpan(o.virtual_ms * 1000)), "run time") +
       "</div>\n";
  s += "<div>reproduce: <code>" + HtmlEscape(ReproduceCommand(o)) +
       "</code></div>\n";
  s += "<h3>Verdict per rule</h3>\n" + RulesTable(v) + "\n";
  s += "<h3>Attempt timeline</h3>\n";
  s += "<p class=\"note lanes-note\">" + GroupedNumber(p.lanes.size()) +
       " of " + GroupedNumber(v.deliveries) + " deliveries drawn (at most " +
       std::to_string(options.max_lanes) +
       " per scenario: those named in a finding first, then those that gave "
       "up (at most half of the lanes left while others wait), then a sample "
       "seeded by the scenario's seed), one lane each, grouped by hook.</p>\n";
  s += Legend() + "\n" + TimelineSvg(p, index);
  s += "<div class=\"split\"><div class=\"side\" style=\"flex-basis:520px\">"
       "<h3>Attempts per delivery</h3>" +
       AttemptsChart(p) +
       "</div><div class=\"grow\"><h3>Answer mix per receiver</h3>" +
       AnswerMixTable(p) + "</div></div>\n";
  s += "</section>\n";
  return s;
}

}  // namespace

MarkClass ClassifyAttempt(const AttemptResult& r) {
  switch (r.error) {
    case AttemptError::kNone:
      return r.IsSuccess() ? MarkClass::k2xx : MarkClass::kNon2xx;
    case AttemptError::kTimeout:
      return MarkClass::kTimeout;
    case AttemptError::kReset:
      return MarkClass::kReset;
    case AttemptError::kRefused:
    case AttemptError::kDns:
      return MarkClass::kRefused;
    case AttemptError::kEmptyReply:
    case AttemptError::kMalformed:
      return MarkClass::kBroken;
  }
  return MarkClass::kBroken;
}

RunPicture CollectRunPicture(const RunRecord& run,
                             const ScenarioOutcome& outcome,
                             const RunHtmlOptions& options) {
  RunPicture p;
  p.outcome = outcome;
  const DeliveryEngine& engine = *run.engine;
  if (run.scenario) p.description = run.scenario->description;
  p.max_attempts = engine.options().policy.max_attempts();
  p.end_us = outcome.virtual_ms * 1000;
  for (const AttemptRecord& a : engine.attempts()) {
    p.end_us = std::max(p.end_us, Us(a.ended));
  }

  std::set<std::string> named;
  for (const RuleResult& r : outcome.verdict.rules) {
    if (r.passed()) continue;
    for (const Finding& f : r.examples) {
      CollectDeliveryIds(f.subject, named);
      CollectDeliveryIds(f.expected, named);
      CollectDeliveryIds(f.actual, named);
    }
  }

  // Hooks: what they point at, outage windows and paused intervals.
  const auto& hooks = engine.hooks();
  for (size_t h = 0; h < hooks.size(); ++h) {
    HookPicture hp;
    hp.id = hooks[h].id;
    const int r = h < run.hook_receiver.size() ? run.hook_receiver[h] : -1;
    if (r >= 0 && static_cast<size_t>(r) < run.receivers.size()) {
      const std::string& name = run.receivers[r]->name();
      hp.target = "receiver " + name;
      if (run.scenario) {
        for (const ReceiverSpec& spec : run.scenario->receivers) {
          if (spec.name != name) continue;
          for (const OutageWindow& w : spec.behavior.outages) {
            hp.outages.push_back(
                {Us(w.from), Us(w.to), "answers " + DescribeAnswer(w.answer)});
          }
        }
      }
    } else {
      hp.target = hooks[h].url;
    }
    p.hooks.push_back(std::move(hp));
  }
  for (const HookStateChange& c : engine.hook_changes()) {
    if (c.hook >= p.hooks.size()) continue;
    std::vector<TimeWindow>& paused = p.hooks[c.hook].paused;
    if (!c.active) {
      paused.push_back({Us(c.at), p.end_us, "to the end (never resumed)"});
    } else if (!paused.empty()) {
      paused.back().to_us = Us(c.at);
      paused.back().label.clear();
    }
  }

  // Which deliveries get a lane: named in a finding, then gave up, then a
  // seeded sample; within a tier the seeded order too.
  const auto& deliveries = engine.deliveries();
  std::vector<std::tuple<int, uint64_t, uint32_t>> order;
  order.reserve(deliveries.size());
  for (uint32_t i = 0; i < deliveries.size(); ++i) {
    const Delivery& d = deliveries[i];
    if (d.hook < p.hooks.size()) ++p.hooks[d.hook].deliveries;
    AttemptCount& count = p.attempts_per_delivery[d.attempts];
    switch (d.state) {
      case DeliveryState::kDelivered:
        ++count.delivered;
        break;
      case DeliveryState::kGaveUp:
        ++count.gave_up;
        break;
      case DeliveryState::kHeld:
        ++count.held;
        break;
      default:
        ++count.open;
    }
    const std::string id = d.id.str();
    const int tier = named.count(id)                     ? 0
                     : d.state == DeliveryState::kGaveUp ? 1
                                                         : 2;
    order.emplace_back(tier, Hash64(id, outcome.seed), i);
  }
  // Findings first; gave-ups take at most half of the lanes left while
  // other deliveries wait, so the page still shows what normal looks like.
  std::sort(order.begin(), order.end());
  size_t findings = 0, gave_up = 0;
  for (const auto& o : order) {
    findings += std::get<0>(o) == 0;
    gave_up += std::get<0>(o) == 1;
  }
  const size_t keep = std::min(options.max_lanes, order.size());
  const size_t left = keep - std::min(keep, findings);
  const size_t others = order.size() - findings - gave_up;
  const size_t take_gave_up = std::min(
      gave_up, std::max(left - std::min(left, others), (left + 1) / 2));
  std::vector<std::tuple<int, uint64_t, uint32_t>> chosen;
  chosen.reserve(keep);
  size_t taken_gave_up = 0;
  for (const auto& o : order) {
    if (chosen.size() >= keep) break;
    if (std::get<0>(o) == 1 && taken_gave_up++ >= take_gave_up) continue;
    chosen.push_back(o);
  }
  order = std::move(chosen);
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    const Delivery& da = deliveries[std::get<2>(a)];
    const Delivery& db = deliveries[std::get<2>(b)];
    return std::tie(da.hook, std::get<2>(a)) <
           std::tie(db.hook, std::get<2>(b));
  });
  std::vector<int32_t> lane_of(deliveries.size(), -1);
  for (const auto& [tier, score, i] : order) {
    const Delivery& d = deliveries[i];
    Lane lane;
    lane.delivery = d.id.str();
    lane.hook = d.hook;
    lane.event = d.event;
    lane.state = d.state;
    lane.in_finding = tier == 0;
    lane.created_us = Us(d.created);
    lane.ended_us = Us(d.ended);
    lane_of[i] = static_cast<int32_t>(p.lanes.size());
    p.lanes.push_back(std::move(lane));
  }
  std::map<std::string, uint64_t> url_hook_answers;
  std::vector<std::map<std::string, uint64_t>> sender_side(hooks.size());
  for (const AttemptRecord& a : engine.attempts()) {
    if (a.delivery < lane_of.size() && lane_of[a.delivery] >= 0) {
      p.lanes[lane_of[a.delivery]].attempts.push_back(
          {Us(a.started), Us(a.ended), a.attempt, ClassifyAttempt(a.result),
           DescribeAttemptResult(a.result)});
    }
    if (a.delivery < deliveries.size()) {
      const uint32_t h = deliveries[a.delivery].hook;
      if (h < run.hook_receiver.size() && run.hook_receiver[h] < 0) {
        ++sender_side[h][DescribeAttemptResult(a.result)];
      }
    }
  }

  for (const auto& receiver : run.receivers) {
    AnswerMix mix;
    mix.name = receiver->name();
    receiver->WithJournal(
        [&mix](const Journal& j) { mix.answers = j.answers(); });
    p.answer_mix.push_back(std::move(mix));
  }
  for (size_t h = 0; h < hooks.size(); ++h) {
    if (h < run.hook_receiver.size() && run.hook_receiver[h] < 0) {
      p.answer_mix.push_back({"hook " + hooks[h].id + " (" + hooks[h].url + ")",
                              true, sender_side[h]});
    }
  }
  return p;
}

std::string RenderRunHtml(const std::vector<RunPicture>& pictures,
                          const RunHtmlOptions& options) {
  size_t passed = 0;
  uint64_t deliveries = 0, attempts = 0;
  for (const RunPicture& p : pictures) {
    passed += p.outcome.verdict.passed();
    deliveries += p.outcome.verdict.deliveries;
    attempts += p.outcome.verdict.attempts;
  }
  const size_t failed = pictures.size() - passed;
  std::string s =
      PageStart("hooksim run: " + std::to_string(passed) + " of " +
                std::to_string(pictures.size()) + " scenarios passed");
  s += "<header class=\"top\"><h1>hooksim run report</h1><div class=\"sub\">"
       "webhook delivery checked against the contract (C1-C8 and each "
       "scenario's expectations)" +
       (options.command.empty() ? std::string()
                                : " &#xB7; <span class=\"mono\">" +
                                      HtmlEscape(options.command) + "</span>") +
       "</div></header>\n<main>\n";
  s += "<div class=\"kpis summary\" data-scenarios=\"" +
       std::to_string(pictures.size()) + "\" data-passed=\"" +
       std::to_string(passed) + "\" data-failed=\"" + std::to_string(failed) +
       "\">" + Kpi(std::to_string(pictures.size()), "scenarios") +
       "<div class=\"kpi\"><b style=\"color:var(--ok)\">" +
       std::to_string(passed) +
       "</b><span>passed</span></div><div class=\"kpi\"><b style=\"color:" +
       std::string(failed ? "var(--reset)" : "inherit") + "\">" +
       std::to_string(failed) + "</b><span>failed</span></div>" +
       Kpi(GroupedNumber(deliveries), "deliveries") +
       Kpi(GroupedNumber(attempts), "attempts") + "</div>\n";
  s += "<div class=\"card\"><table class=\"scenarios\"><tr><th>verdict</th>"
       "<th>scenario</th><th>rules</th><th class=\"num\">deliveries</th>"
       "<th class=\"num\">attempts</th><th class=\"num\">delivered</th>"
       "<th class=\"num\">gave up</th><th class=\"num\">seed</th>"
       "<th>reproduce</th></tr>\n";
  for (size_t i = 0; i < pictures.size(); ++i) {
    const ScenarioOutcome& o = pictures[i].outcome;
    const Verdict& v = o.verdict;
    std::string rules;
    for (const RuleResult& r : v.rules) {
      rules += "<span class=\"pill " +
               std::string(r.passed() ? "pass" : "fail") + "\" title=\"" +
               HtmlEscape(std::string(r.id()) + " " + std::string(r.title())) +
               "\">" + HtmlEscape(r.id()) + "</span> ";
    }
    s += "<tr><td>" +
         std::string(v.passed() ? "<span class=\"pill pass\">PASS</span>"
                                : "<span class=\"pill fail\">FAIL</span>") +
         "</td><td><a href=\"#" + Anchor(i) + "\">" + HtmlEscape(o.name) +
         "</a></td><td>" + rules + "</td><td class=\"num\">" +
         GroupedNumber(v.deliveries) + "</td><td class=\"num\">" +
         GroupedNumber(v.attempts) + "</td><td class=\"num\">" +
         GroupedNumber(v.delivered) + "</td><td class=\"num\">" +
         GroupedNumber(v.gave_up) + "</td><td class=\"num\">" +
         std::to_string(o.seed) + "</td><td><code>" +
         HtmlEscape(ReproduceCommand(o)) + "</code></td></tr>\n";
  }
  s += "</table></div>\n";
  for (size_t i = 0; i < pictures.size(); ++i) {
    s += ScenarioSection(pictures[i], i, options);
  }
  s += "<footer>hooksim " + std::string(kHooksimVersion) +
       ". Each timeline draws at most " + std::to_string(options.max_lanes) +
       " deliveries per scenario; the counts above are over all of them. "
       "This page loads nothing from outside the file.</footer>\n";
  s += "</main>\n" + PageEnd();
  return s;
}

}  // namespace hooksim
