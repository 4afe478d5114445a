// The conform page of html_conform_report.h: the case x rule matrix, then per
// case the rules with expected / seen / why, the request timeline and the
// sender's standard error beside it.
#include "sim/report/html_conform_report.h"

#include <algorithm>
#include <cctype>

#include "sim/contract/http_types.h"
#include "sim/report/html_page.h"

namespace hooksim {
namespace {

constexpr size_t kMaxOutputBytes = 64 * 1024;  // Per stream, in the page.
constexpr size_t kMaxDrawnRequests = 2000;     // Per case.

std::string VerdictCss(const std::string& verdict) {
  if (verdict == "pass") return "pass";
  if (verdict == "fail") return "fail";
  return "cnj";
}

std::string VerdictSymbol(const std::string& verdict) {
  if (verdict == "pass") return "&#x2713;";
  if (verdict == "fail") return "&#x2717;";
  return "?";
}

std::string CaseAnchor(const std::string& name) {
  std::string id = "case-";
  for (char c : name) {
    id += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  }
  return id;
}

const char* AnswerFill(const ConformRequestPicture& r) {
  const std::string& a = r.answer;
  if (!a.empty() && std::isdigit(static_cast<unsigned char>(a[0]))) {
    return a[0] == '2' ? "a2" : "ax";
  }
  if (a == "hang") return "at";
  if (a == "reset") return "ar";
  if (a == "dribble") return "a2";
  return "ab";
}

std::string OutputBlock(const std::string& what, const std::string& text) {
  bool cut = false;
  const std::string_view shown = CutText(text, kMaxOutputBytes, &cut);
  std::string s = "<pre class=\"" + what + "\">";
  s += shown.empty() ? "<span class=\"muted\">(empty)</span>"
                     : HtmlEscape(shown);
  if (cut) {
    s += "\n<span class=\"muted\">[cut: the first " +
         GroupedNumber(kMaxOutputBytes) + " of " + GroupedNumber(text.size()) +
         " bytes shown]</span>";
  }
  s += "</pre>";
  return s;
}

std::string RequestTimeline(const ConformCasePicture& c) {
  const size_t drawn = std::min(c.requests.size(), kMaxDrawnRequests);
  int64_t end_us = std::max(c.elapsed_us, c.sender_ran_us);
  for (size_t i = 0; i < drawn; ++i) {
    end_us = std::max(end_us, c.requests[i].at_us);
  }
  end_us = std::max<int64_t>(end_us + end_us / 40, 1000);
  const double label_w = 70, plot_w = 480, lane_h = 18, top = 24;
  const size_t lanes = c.events + 1;  // One per event, then "other".
  const double height = top + lane_h * static_cast<double>(lanes) + 8;
  const double width = label_w + plot_w + 16;
  const TimeAxis axis(TimeAxis::Kind::kLinear, end_us, label_w, plot_w);
  std::string s = "<svg class=\"requests\" width=\"" + Coord(width) +
                  "\" height=\"" + Coord(height) + "\" viewBox=\"0 0 " +
                  Coord(width) + " " + Coord(height) +
                  "\" role=\"img\" aria-label=\"requests over time\" "
                  "data-requests=\"" +
                  std::to_string(drawn) + "\">";
  for (int64_t t : axis.Ticks()) {
    const std::string x = Coord(axis.X(t));
    s += "<line class=\"grid\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" +
         Coord(top - 6) + "\" y2=\"" + Coord(height - 8) + "\"/><text x=\"" +
         x + "\" y=\"13\" text-anchor=\"middle\">" +
         (t == 0 ? std::string("0") : "+" + ReadableSpan(t)) + "</text>";
  }
  for (size_t l = 0; l < lanes; ++l) {
    const double cy = top + lane_h * (static_cast<double>(l) + 0.5);
    s += "<text class=\"lbl\" x=\"" + Coord(label_w - 8) + "\" y=\"" +
         Coord(cy + 3.5) + "\" text-anchor=\"end\">" +
         (l < c.events ? "event " + std::to_string(l + 1)
                       : std::string("other")) +
         "</text><line class=\"life\" style=\"stroke-width:2\" x1=\"" +
         Coord(label_w) + "\" x2=\"" + Coord(label_w + plot_w) + "\" y1=\"" +
         Coord(cy) + "\" y2=\"" + Coord(cy) + "\"/>";
  }
  if (c.sender_ran_us > 0) {
    const std::string x = Coord(axis.X(c.sender_ran_us));
    s += "<line class=\"exit\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" +
         Coord(top - 6) + "\" y2=\"" + Coord(height - 8) +
         "\"><title>the sender ended at +" + ReadableSpan(c.sender_ran_us) +
         "</title></line>";
  }
  std::vector<int> attempt_no(c.events + 1, 0);
  for (size_t i = 0; i < drawn; ++i) {
    const ConformRequestPicture& r = c.requests[i];
    const size_t lane = r.event >= 0 && static_cast<size_t>(r.event) < c.events
                            ? r.event
                            : c.events;
    ++attempt_no[lane];
    const double cy = top + lane_h * (static_cast<double>(lane) + 0.5);
    const std::string title =
        HtmlEscape(r.method + " " + r.target) + " at +" +
        ReadableSpan(r.at_us) +
        (lane < c.events ? ", attempt " + std::to_string(attempt_no[lane])
                         : std::string()) +
        ": answered " + HtmlEscape(r.answer) +
        (r.abandoned ? " (abandoned: the sender stopped waiting)" : "");
    s += "<circle class=\"mark " + std::string(AnswerFill(r)) +
         "\" data-event=\"" + std::to_string(r.event + 1) + "\" cx=\"" +
         Coord(axis.X(r.at_us)) + "\" cy=\"" + Coord(cy) + "\" r=\"4.5\"" +
         (r.abandoned ? " fill-opacity=\".35\" stroke=\"#212529\"" : "") +
         "><title>" + title + "</title></circle>";
  }
  s += "</svg>";
  s += "<p class=\"note\">x axis: time since the sender started (linear); "
       "one lane per event of the case, requests to other paths (a followed "
       "redirect) or with a changed body on \"other\"; dashed line: the "
       "sender ended. Faded marks were abandoned (the sender stopped "
       "waiting).";
  if (drawn < c.requests.size()) {
    s += " The first " + GroupedNumber(drawn) + " of " +
         GroupedNumber(c.requests.size()) + " requests are drawn.";
  }
  if (c.dropped_requests) {
    s += " The receiver's journal dropped " +
         GroupedNumber(c.dropped_requests) + " older requests.";
  }
  s += "</p>";
  return s;
}

}  // namespace

std::string RenderConformHtml(const ConformPicture& p) {
  // Rule columns in the order they first appear.
  std::vector<std::pair<std::string, std::string>> columns;
  size_t passed = 0, failed = 0, unjudged = 0;
  for (const ConformCasePicture& c : p.cases) {
    for (const ConformRulePicture& r : c.rules) {
      if (std::find_if(columns.begin(), columns.end(), [&](const auto& col) {
            return col.first == r.rule;
          }) == columns.end()) {
        columns.emplace_back(r.rule, r.contract);
      }
      passed += r.verdict == "pass";
      failed += r.verdict == "fail";
      unjudged += r.verdict != "pass" && r.verdict != "fail";
    }
  }
  std::string s =
      PageStart("hooksim conform: " + std::to_string(passed) + " of " +
                std::to_string(passed + failed + unjudged) + " rules passed");
  s +=
      "<header class=\"top\"><h1>hooksim conform report</h1><div class=\"sub\">"
      "a webhook sender checked against the contract, one case of the "
      "battery at a time</div></header>\n<main>\n";
  s += "<div class=\"card\"><div>sender: <code>" + HtmlEscape(p.sender_cmd) +
       "</code></div>";
  if (!p.command.empty()) {
    s += "<div>command: <code>" + HtmlEscape(p.command) + "</code></div>";
  }
  s += "<div class=\"muted\">events seed " + std::to_string(p.seed) +
       " &#xB7; " + FixedNumber(p.total_s, 1) + " s" +
       (p.interrupted ? " &#xB7; <b>interrupted</b>: rules of unfinished "
                        "cases could not be judged"
                      : "") +
       "</div></div>\n";
  s += "<div class=\"kpis summary\" data-cases=\"" +
       std::to_string(p.cases.size()) + "\" data-passed=\"" +
       std::to_string(passed) + "\" data-failed=\"" + std::to_string(failed) +
       "\" data-could-not-judge=\"" + std::to_string(unjudged) + "\">";
  s += "<div class=\"kpi\"><b>" + std::to_string(p.cases.size()) +
       "</b><span>cases</span></div><div class=\"kpi\"><b style=\"color:var("
       "--ok)\">" +
       std::to_string(passed) +
       "</b><span>rules passed</span></div><div class=\"kpi\"><b style=\""
       "color:var(--reset)\">" +
       std::to_string(failed) +
       "</b><span>failed</span></div><div class=\"kpi\"><b style=\"color:"
       "#f59f00\">" +
       std::to_string(unjudged) +
       "</b><span>could not be judged</span></div></div>\n";

  // The matrix.
  s += "<h2>Cases x rules</h2><div class=\"card\"><table class=\"matrix\">"
       "<tr><th>case</th><th>receiver answers</th><th class=\"num\">expected "
       "attempts</th>";
  for (const auto& [rule, contract] : columns) {
    s += "<th style=\"text-align:center\">" + HtmlEscape(rule) +
         "<br><span class=\"muted\">" + HtmlEscape(contract) + "</span></th>";
  }
  s += "</tr>\n";
  for (const ConformCasePicture& c : p.cases) {
    s += "<tr class=\"case-row\" data-case=\"" + HtmlEscape(c.name) +
         "\"><td><a href=\"#" + CaseAnchor(c.name) + "\">" +
         HtmlEscape(c.name) + "</a></td><td>" + HtmlEscape(c.behaviour) +
         "</td><td class=\"num\">" + std::to_string(c.expected_attempts) +
         "</td>";
    for (const auto& [rule, contract] : columns) {
      const auto it = std::find_if(
          c.rules.begin(), c.rules.end(),
          [&](const ConformRulePicture& r) { return r.rule == rule; });
      if (it == c.rules.end()) {
        s += "<td class=\"cell\"><a class=\"na\" title=\"not checked in this "
             "case\">&#x2013;</a></td>";
        continue;
      }
      const std::string title = "expected: " + it->expected +
                                "\nseen: " + it->seen + "\nwhy: " + it->message;
      s += "<td class=\"cell\" data-verdict=\"" + HtmlEscape(it->verdict) +
           "\"><a class=\"pill " + VerdictCss(it->verdict) + "\" href=\"#" +
           CaseAnchor(c.name) + "\" title=\"" + HtmlEscape(title) + "\">" +
           VerdictSymbol(it->verdict) + "</a></td>";
    }
    s += "</tr>\n";
  }
  s += "</table><p class=\"note\">&#x2713; pass &#xB7; &#x2717; fail &#xB7; ? "
       "could not be judged &#xB7; &#x2013; not checked in that case. Hover a "
       "cell for expected / seen / why; click it for the case.</p></div>\n";

  // One section per case.
  for (const ConformCasePicture& c : p.cases) {
    s += "<section class=\"case card\" id=\"" + CaseAnchor(c.name) +
         "\" data-case=\"" + HtmlEscape(c.name) + "\" data-requests=\"" +
         std::to_string(c.requests.size()) + "\">\n<h2>" + HtmlEscape(c.name) +
         "</h2>";
    s += "<div class=\"muted\">receiver answers " + HtmlEscape(c.behaviour) +
         " &#xB7; " + std::to_string(c.events) + " event" +
         (c.events == 1 ? "" : "s") + " &#xB7; expected " +
         std::to_string(c.expected_attempts) + " attempt" +
         (c.expected_attempts == 1 ? "" : "s") +
         " per event: " + HtmlEscape(c.why) + "</div>";
    s += "<div>the sender " + HtmlEscape(c.sender) + "; " +
         GroupedNumber(c.requests.size()) + " request" +
         (c.requests.size() == 1 ? "" : "s") + " in " +
         FixedNumber(static_cast<double>(c.elapsed_us) / 1e6, 1) + " s</div>";
    s += "<table class=\"case-rules\"><tr><th>rule</th><th>verdict</th><th>"
         "expected</th><th>seen</th><th>why</th></tr>";
    for (const ConformRulePicture& r : c.rules) {
      s += "<tr data-verdict=\"" + HtmlEscape(r.verdict) + "\"><td><b>" +
           HtmlEscape(r.rule) + "</b> <span class=\"muted\">" +
           HtmlEscape(r.contract) + "</span></td><td><span class=\"pill " +
           VerdictCss(r.verdict) + "\">" + HtmlEscape(r.verdict) +
           "</span></td><td>" + HtmlEscape(r.expected) + "</td><td>" +
           HtmlEscape(r.seen) + "</td><td>" + HtmlEscape(r.message) +
           "</td></tr>";
    }
    s += "</table>\n<div class=\"split\" style=\"margin-top:10px\"><div "
         "style=\"flex:0 0 auto;max-width:600px\"><h3>Requests the receiver "
         "saw</h3>" +
         RequestTimeline(c) +
         "</div><div style=\"flex:1 1 0;min-width:280px\"><h3>Sender's "
         "standard error</h3>" +
         OutputBlock("stderr", c.stderr_text) +
         "<details><summary>standard output</summary>" +
         OutputBlock("stdout", c.stdout_text) + "</details></div></div>\n";
    s += "</section>\n";
  }
  s += "<footer>hooksim " + std::string(kHooksimVersion) +
       ". The sender's output is shown up to " +
       GroupedNumber(kMaxOutputBytes) + " bytes per stream and case; at most " +
       GroupedNumber(kMaxDrawnRequests) +
       " requests are drawn per case. This page loads nothing from outside "
       "the file.</footer>\n</main>\n" +
       PageEnd();
  return s;
}

}  // namespace hooksim
