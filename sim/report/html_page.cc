#include "sim/report/html_page.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace hooksim {
namespace {

constexpr int64_t kMs = 1000;
constexpr int64_t kS = 1000 * kMs;
constexpr int64_t kMin = 60 * kS;
constexpr int64_t kH = 60 * kMin;
constexpr int64_t kD = 24 * kH;

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n = 0;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  // Overlong forms, surrogates and values past U+10FFFF.
  if (c == 0xE0 && b(i + 1) < 0xA0) return 0;
  if (c == 0xED && b(i + 1) > 0x9F) return 0;
  if (c == 0xF0 && b(i + 1) < 0x90) return 0;
  if (c == 0xF4 && b(i + 1) > 0x8F) return 0;
  return n;
}

constexpr char kStyle[] = R"css(
:root{--ok:#2f9e44;--bad:#e8590c;--timeout:#7048e8;--reset:#c92a2a;--refused:#495057;--broken:#9c6644;--held:#868e96;
--ink:#212529;--muted:#6c757d;--line:#dee2e6;--bg:#f8f9fa;--card:#fff;--accent:#1c7ed6}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
header.top{background:#1f2933;color:#fff;padding:14px 28px}
header.top h1{margin:0;font-size:20px;font-weight:600}
header.top .sub{color:#cbd2d9;font-size:13px;margin-top:2px}
main{max-width:1180px;margin:0 auto;padding:18px 24px 40px}
h2{font-size:18px;margin:26px 0 8px}
h3{font-size:15px;margin:18px 0 6px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:12px 0}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:120px}
.kpi b{display:block;font-size:20px}
.kpi span{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;background:#f1f3f5}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre,.mono{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
pre{background:#f1f3f5;border:1px solid var(--line);border-radius:6px;padding:8px;overflow:auto;max-height:360px;white-space:pre-wrap;word-break:break-all;margin:0}
.pill{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff}
.pass{background:var(--ok)}.fail{background:var(--reset)}.cnj{background:#f59f00}.na{background:#ced4da;color:#495057}
.muted{color:var(--muted)}
.note{color:var(--muted);font-size:12px;margin:4px 0}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
ul.findings{margin:4px 0 4px 18px;padding:0}ul.findings li{margin:2px 0}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--muted);margin:6px 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px;vertical-align:-1px}
.legend i.sq{border-radius:1px}
.legend i.band{width:18px;border-radius:2px}
.chart{overflow-x:auto}
svg{display:block}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;fill:#495057}
svg .lbl{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:10.5px}
svg .grp{font-weight:600;fill:#212529}
svg .grid{stroke:#e9ecef}
svg .axis{stroke:#adb5bd}
svg .join{stroke:#adb5bd;stroke-width:1.2}
svg .life{stroke:#e9ecef;stroke-width:6;stroke-linecap:round}
svg .a2{fill:var(--ok)}svg .ax{fill:var(--bad)}svg .at{fill:var(--timeout)}svg .ar{fill:var(--reset)}svg .af{fill:var(--refused)}svg .ab{fill:var(--broken)}
svg .span2{stroke:var(--ok)}svg .spanx{stroke:var(--bad)}svg .spant{stroke:var(--timeout)}svg .spanr{stroke:var(--reset)}svg .spanf{stroke:var(--refused)}svg .spanb{stroke:var(--broken)}
svg .outage{fill:#fa5252;fill-opacity:.12}
svg .paused{fill:url(#hatch)}
svg .gaveup{stroke:var(--reset);stroke-width:2}
svg .held{fill:none;stroke:var(--held);stroke-width:1.5}
svg .limit{stroke:var(--reset);stroke-dasharray:4 3;stroke-width:1.5}
svg .bar-ok{fill:var(--ok)}svg .bar-bad{fill:var(--reset)}svg .bar-held{fill:var(--held)}svg .bar{fill:var(--accent)}
svg .line{fill:none;stroke:var(--timeout);stroke-width:1.6}
svg .exit{stroke:#212529;stroke-dasharray:3 3}
.split{display:flex;gap:14px;align-items:flex-start}
.split>div{min-width:0}
.split>.grow{flex:1 1 auto}
.split>.side{flex:0 0 360px}
.matrix td.cell{text-align:center;font-weight:700;width:92px}
.matrix td.cell a{display:block;color:#fff;border-radius:4px}
.matrix td.cell a.na{color:#868e96}
.bar-h{display:flex;height:16px;border-radius:3px;overflow:hidden;min-width:200px;background:#f1f3f5}
.bar-h span{display:block;height:100%}
details summary{cursor:pointer;color:var(--accent)}
footer{color:var(--muted);font-size:12px;margin-top:30px}
)css";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = Utf8Length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string_view CutText(std::string_view text, size_t max_bytes, bool* cut) {
  if (text.size() <= max_bytes) {
    if (cut) *cut = false;
    return text;
  }
  if (cut) *cut = true;
  size_t end = max_bytes;
  // Back off continuation bytes so the cut lands on a character boundary.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

std::string PageStart(std::string_view title) {
  std::string page =
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n"
      "<title>";
  page += HtmlEscape(title);
  page += "</title>\n<style>";
  page += kStyle;
  page += "</style>\n</head>\n<body>\n";
  return page;
}

std::string PageEnd() { return "</body>\n</html>\n"; }

std::string GroupedNumber(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FixedNumber(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

std::string ReadableSpan(int64_t us) {
  if (us == 0) return "0";
  const bool negative = us < 0;
  const uint64_t a =
      negative ? static_cast<uint64_t>(-us) : static_cast<uint64_t>(us);
  std::string s;
  const auto trim = [](double v) {
    // One decimal below 10, none above; "1.0" reads as "1".
    std::string t = FixedNumber(v, v < 10 ? 1 : 0);
    if (t.size() > 2 && t.compare(t.size() - 2, 2, ".0") == 0) {
      t.resize(t.size() - 2);
    }
    return t;
  };
  if (a < static_cast<uint64_t>(kMs)) {
    s = std::to_string(a) + " us";
  } else if (a < static_cast<uint64_t>(kS)) {
    s = trim(static_cast<double>(a) / kMs) + " ms";
  } else if (a < static_cast<uint64_t>(kMin)) {
    s = trim(static_cast<double>(a) / kS) + " s";
  } else if (a < static_cast<uint64_t>(kH)) {
    const uint64_t m = a / kMin, sec = (a % kMin) / kS;
    s = std::to_string(m) + " min" +
        (sec ? " " + std::to_string(sec) + " s" : "");
  } else if (a < static_cast<uint64_t>(kD)) {
    const uint64_t h = a / kH, m = (a % kH) / kMin;
    s = std::to_string(h) + " h" + (m ? " " + std::to_string(m) + " min" : "");
  } else {
    const uint64_t d = a / kD, h = (a % kD) / kH;
    s = std::to_string(d) + " d" + (h ? " " + std::to_string(h) + " h" : "");
  }
  return negative ? "-" + s : s;
}

TimeAxis::TimeAxis(Kind kind, int64_t end_us, double x0, double width,
                   int64_t log_unit_us)
    : kind_(kind),
      end_us_(std::max<int64_t>(end_us, kMs)),
      unit_us_(std::max<int64_t>(log_unit_us, kMs)),
      x0_(x0),
      width_(width) {}

double TimeAxis::X(int64_t us) const {
  const double t = static_cast<double>(std::clamp<int64_t>(us, 0, end_us_));
  double f = 0;
  if (kind_ == Kind::kLinear) {
    f = t / static_cast<double>(end_us_);
  } else {
    const double unit = static_cast<double>(unit_us_);
    f = std::log10(1 + t / unit) /
        std::log10(1 + static_cast<double>(end_us_) / unit);
  }
  return x0_ + f * width_;
}

std::vector<int64_t> TimeAxis::Ticks() const {
  std::vector<int64_t> ticks = {0};
  if (kind_ == Kind::kLog) {
    static constexpr int64_t kLogTicks[] = {
        kMs,     10 * kMs, 100 * kMs, kS,        5 * kS,    10 * kS,
        30 * kS, kMin,     5 * kMin,  10 * kMin, 30 * kMin, kH,
        2 * kH,  6 * kH,   12 * kH,   kD,        7 * kD,    30 * kD};
    double last_x = X(0);
    for (int64_t t : kLogTicks) {
      if (t > end_us_) break;
      if (X(t) - last_x < 44) continue;  // Keep labels apart.
      ticks.push_back(t);
      last_x = X(t);
    }
    return ticks;
  }
  static constexpr int64_t kSteps[] = {
      1,         2,         5,         10,        20,       50,       100,
      200,       500,       kMs,       2 * kMs,   5 * kMs,  10 * kMs, 20 * kMs,
      50 * kMs,  100 * kMs, 200 * kMs, 500 * kMs, kS,       2 * kS,   5 * kS,
      10 * kS,   15 * kS,   30 * kS,   kMin,      2 * kMin, 5 * kMin, 10 * kMin,
      15 * kMin, 30 * kMin, kH,        2 * kH,    3 * kH,   6 * kH,   12 * kH,
      kD,        2 * kD,    7 * kD,    14 * kD,   30 * kD};
  int64_t step = kSteps[std::size(kSteps) - 1];
  for (int64_t s : kSteps) {
    if (end_us_ / s <= 8) {
      step = s;
      break;
    }
  }
  for (int64_t t = step; t <= end_us_ && ticks.size() < 40; t += step) {
    ticks.push_back(t);
  }
  return ticks;
}

std::string TimeAxis::Describe(std::string_view since) const {
  return std::string(since) + (kind_ == Kind::kLinear
                                   ? " (linear scale)"
                                   : " (log scale: equal widths are equal "
                                     "ratios of time, so the first seconds "
                                     "and the last hours both show)");
}

TimeAxis::Kind ChooseAxisKind(const std::vector<int64_t>& gaps_us,
                              int64_t end_us, double width) {
  if (gaps_us.empty()) return TimeAxis::Kind::kLinear;
  const double px_per_us =
      width / static_cast<double>(std::max<int64_t>(end_us, kMs));
  size_t tight = 0;
  for (int64_t g : gaps_us) {
    if (static_cast<double>(g) * px_per_us < 3) ++tight;
  }
  return tight * 10 > gaps_us.size() ? TimeAxis::Kind::kLog
                                     : TimeAxis::Kind::kLinear;
}

TimeAxis FitTimeAxis(const std::vector<int64_t>& gaps_us, int64_t end_us,
                     double x0, double width) {
  const TimeAxis::Kind kind = ChooseAxisKind(gaps_us, end_us, width);
  int64_t shortest = end_us;
  for (int64_t g : gaps_us) {
    if (g > 0) shortest = std::min(shortest, g);
  }
  const int64_t unit = std::clamp<int64_t>(
      shortest / 2, kMs, std::max<int64_t>(end_us / 1000, kMs));
  return TimeAxis(kind, end_us, x0, width, unit);
}

std::string CommandLine(std::string_view command,
                        const std::vector<std::string>& args) {
  std::string line = "hooksim " + std::string(command);
  for (const std::string& a : args) {
    bool plain = !a.empty();
    for (char c : a) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) ||
            std::string_view("/._-+:,=@%").find(c) != std::string_view::npos)) {
        plain = false;
      }
    }
    line += ' ';
    if (plain) {
      line += a;
      continue;
    }
    line += '\'';
    for (char c : a) {
      if (c == '\'') {
        line += "'\\''";
      } else {
        line += c;
      }
    }
    line += '\'';
  }
  return line;
}

std::string Coord(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", v);
  std::string s = text;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0)
    s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

}  // namespace hooksim
