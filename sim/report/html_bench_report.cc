// The bench page of html_bench_report.h: throughput per second, latency
// histograms, errors by kind, the machine and the command.
#include "sim/report/html_bench_report.h"

#include <algorithm>
#include <cmath>

#include "sim/contract/http_types.h"
#include "sim/report/html_page.h"

namespace hooksim {
namespace {

constexpr size_t kMaxBars = 600;  // More intervals: drawn as an area.

using Json = nlohmann::ordered_json;

double Num(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

uint64_t Count(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<uint64_t>() : 0;
}

std::string Str(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// "1, 2, 4 ms" from [1.0, 2.0, 4.0].
std::string Milliseconds(const Json& j) {
  std::string s;
  if (j.is_array()) {
    for (const Json& v : j) {
      if (!s.empty()) s += ", ";
      s += v.is_number() ? ReadableSpan(static_cast<int64_t>(
                               std::llround(v.get<double>() * 1000)))
                         : v.dump();
    }
  } else if (j.is_number()) {
    s = ReadableSpan(
        static_cast<int64_t>(std::llround(j.get<double>() * 1000)));
  }
  return s;
}

std::string Rate(double v) {
  return GroupedNumber(static_cast<uint64_t>(std::llround(std::max(v, 0.0))));
}

std::string Kpi(const std::string& value, const std::string& label) {
  return "<div class=\"kpi\"><b>" + value + "</b><span>" + label +
         "</span></div>";
}

std::string ThroughputChart(const ThroughputSeries& series, double wall_s) {
  const std::vector<uint64_t>& d = series.deliveries();
  const std::vector<uint64_t>& a = series.attempts();
  const double bucket_s = static_cast<double>(series.bucket().count()) / 1e6;
  const double w = 980, h = 240, x0 = 60, y0 = 14, pw = w - x0 - 16,
               ph = h - y0 - 40;
  uint64_t peak = 1, total = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    peak = std::max({peak, d[i], a[i]});
    total += d[i];
  }
  const size_t n = std::max<size_t>(d.size(), 1);
  const double bw = pw / static_cast<double>(n);
  const auto rate = [&](uint64_t v) {
    return static_cast<double>(v) / bucket_s;
  };
  const auto yv = [&](uint64_t v) {
    return y0 + ph - ph * static_cast<double>(v) / static_cast<double>(peak);
  };
  std::string s = "<svg class=\"throughput\" width=\"" + Coord(w) +
                  "\" height=\"" + Coord(h) + "\" viewBox=\"0 0 " + Coord(w) +
                  " " + Coord(h) +
                  "\" role=\"img\" aria-label=\"throughput "
                  "over time\" data-buckets=\"" +
                  std::to_string(d.size()) + "\" data-bucket-s=\"" +
                  FixedNumber(bucket_s, 3) + "\" data-deliveries=\"" +
                  std::to_string(total) + "\">";
  // Horizontal grid: four steps of the peak rate.
  for (int k = 0; k <= 4; ++k) {
    const double y = y0 + ph - ph * k / 4.0;
    s += "<line class=\"grid\" x1=\"" + Coord(x0) + "\" x2=\"" +
         Coord(x0 + pw) + "\" y1=\"" + Coord(y) + "\" y2=\"" + Coord(y) +
         "\"/><text x=\"" + Coord(x0 - 6) + "\" y=\"" + Coord(y + 4) +
         "\" text-anchor=\"end\">" +
         GroupedNumber(
             static_cast<uint64_t>(std::llround(rate(peak) * k / 4.0))) +
         "</text>";
  }
  if (d.size() <= kMaxBars) {
    for (size_t i = 0; i < d.size(); ++i) {
      const double y = yv(d[i]);
      s += "<rect class=\"bar tp\" data-n=\"" + std::to_string(d[i]) +
           "\" x=\"" + Coord(x0 + bw * i + (bw > 4 ? 1 : 0)) + "\" y=\"" +
           Coord(y) + "\" width=\"" +
           Coord(std::max(bw - (bw > 4 ? 2 : 0), 0.5)) + "\" height=\"" +
           Coord(y0 + ph - y) + "\"><title>" + FixedNumber(bucket_s * i, 0) +
           "-" + FixedNumber(bucket_s * (i + 1), 0) +
           " s: " + GroupedNumber(d[i]) + " deliveries ended, " +
           GroupedNumber(a[i]) + " attempts</title></rect>";
    }
  } else {
    s += "<polygon class=\"bar\" points=\"" + Coord(x0) + "," + Coord(y0 + ph);
    for (size_t i = 0; i < d.size(); ++i) {
      s += " " + Coord(x0 + bw * (i + 0.5)) + "," + Coord(yv(d[i]));
    }
    s += " " + Coord(x0 + pw) + "," + Coord(y0 + ph) + "\"/>";
  }
  s += "<polyline class=\"line\" points=\"";
  for (size_t i = 0; i < a.size(); ++i) {
    s += (i ? " " : "") + Coord(x0 + bw * (i + 0.5)) + "," + Coord(yv(a[i]));
  }
  s += "\"/>";
  // Time labels: about ten.
  const size_t every = std::max<size_t>(1, n / 10);
  for (size_t i = 0; i <= d.size(); i += every) {
    s += "<text x=\"" + Coord(x0 + bw * i) + "\" y=\"" + Coord(y0 + ph + 14) +
         "\" text-anchor=\"middle\">" +
         ReadableSpan(static_cast<int64_t>(std::llround(bucket_s * i * 1e6))) +
         "</text>";
  }
  s += "<text x=\"" + Coord(x0 + pw / 2) + "\" y=\"" + Coord(h - 4) +
       "\" text-anchor=\"middle\">time since the first publication</text>";
  s += "</svg><div class=\"legend\"><span><i class=\"sq\" style=\"background:"
       "var(--accent)\"></i>deliveries ended per second</span><span><i style=\""
       "background:var(--timeout)\"></i>attempts ended per second</span>"
       "<span>interval " +
       FixedNumber(bucket_s, bucket_s < 10 ? 1 : 0) + " s</span></div>";
  const double last = wall_s - bucket_s * static_cast<double>(n - 1);
  if (!d.empty() && last > 0 && last < bucket_s * 0.999) {
    s += "<p class=\"note\">The last interval is partial: the run ended " +
         FixedNumber(last, 2) + " s into it, so its bar is lower.</p>";
  }
  return s;
}

std::string LatencyChart(const std::string& name, const LatencyHistogram& h) {
  std::string s = "<div class=\"latency\" data-name=\"" + name +
                  "\" data-count=\"" + std::to_string(h.count()) + "\">";
  if (h.count() == 0) return s + "<p class=\"muted\">no sample</p></div>";
  // Ten bins per decade between the decades around min and max.
  const double lo_dec = std::floor(
      std::log10(std::max<double>(static_cast<double>(h.min().count()), 1.0)));
  const double hi_dec = std::max(
      lo_dec + 1, std::ceil(std::log10(std::max<double>(
                      static_cast<double>(h.max().count()) + 1, 1.0))));
  const int bins = static_cast<int>((hi_dec - lo_dec) * 10);
  std::vector<uint64_t> counts(bins, 0);
  uint64_t below = h.CountAtOrBelow(
      Duration(static_cast<int64_t>(std::pow(10.0, lo_dec))) - Duration(1));
  uint64_t peak = 1;
  for (int b = 0; b < bins; ++b) {
    const int64_t edge = static_cast<int64_t>(
        std::llround(std::pow(10.0, lo_dec + (b + 1) / 10.0)));
    const uint64_t upto = h.CountAtOrBelow(Duration(edge - 1));
    counts[b] = upto - std::min(upto, below);
    below = upto;
    peak = std::max(peak, counts[b]);
  }
  if (below < h.count() && bins > 0) counts[bins - 1] += h.count() - below;
  peak = std::max(peak, counts.empty() ? 1 : counts[bins - 1]);
  const double w = 480, ht = 200, x0 = 30, y0 = 16, pw = w - x0 - 34,
               ph = ht - y0 - 36;
  const double bw = pw / std::max(bins, 1);
  const auto xv = [&](double us) {
    return x0 +
           pw * (std::log10(std::max(us, 1.0)) - lo_dec) / (hi_dec - lo_dec);
  };
  s += "<svg width=\"" + Coord(w) + "\" height=\"" + Coord(ht) +
       "\" viewBox=\"0 0 " + Coord(w) + " " + Coord(ht) + "\" role=\"img\">";
  for (int b = 0; b < bins; ++b) {
    if (counts[b] == 0) continue;
    const double bh = ph * static_cast<double>(counts[b]) / peak;
    s += "<rect class=\"bar\" x=\"" + Coord(x0 + bw * b + 0.5) + "\" y=\"" +
         Coord(y0 + ph - bh) + "\" width=\"" + Coord(std::max(bw - 1, 0.5)) +
         "\" height=\"" + Coord(bh) + "\"><title>" + GroupedNumber(counts[b]) +
         " between " +
         ReadableSpan(static_cast<int64_t>(std::pow(10.0, lo_dec + b / 10.0))) +
         " and " +
         ReadableSpan(
             static_cast<int64_t>(std::pow(10.0, lo_dec + (b + 1) / 10.0))) +
         "</title></rect>";
  }
  s += "<line class=\"axis\" x1=\"" + Coord(x0) + "\" x2=\"" + Coord(x0 + pw) +
       "\" y1=\"" + Coord(y0 + ph) + "\" y2=\"" + Coord(y0 + ph) + "\"/>";
  for (double dec = lo_dec; dec <= hi_dec; dec += 1) {
    s += "<text x=\"" + Coord(xv(std::pow(10.0, dec))) + "\" y=\"" +
         Coord(y0 + ph + 14) + "\" text-anchor=\"middle\">" +
         ReadableSpan(static_cast<int64_t>(std::pow(10.0, dec))) + "</text>";
  }
  const std::pair<const char*, double> marks[] = {
      {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}};
  int k = 0;
  for (const auto& [label, q] : marks) {
    const double x = xv(static_cast<double>(h.Percentile(q).count()));
    s += "<line class=\"limit\" style=\"stroke:#495057\" x1=\"" + Coord(x) +
         "\" x2=\"" + Coord(x) + "\" y1=\"" + Coord(y0) + "\" y2=\"" +
         Coord(y0 + ph) + "\"/><text x=\"" + Coord(x + 3) + "\" y=\"" +
         Coord(y0 + 10 + 11 * k++) + "\">" + label + "</text>";
  }
  s += "<text x=\"" + Coord(x0 + pw / 2) + "\" y=\"" + Coord(ht - 4) +
       "\" text-anchor=\"middle\">latency (log scale)</text></svg>";
  s += "<div class=\"note mono\">p50 " +
       ReadableSpan(h.Percentile(0.5).count()) + " &#xB7; p90 " +
       ReadableSpan(h.Percentile(0.9).count()) + " &#xB7; p99 " +
       ReadableSpan(h.Percentile(0.99).count()) + " &#xB7; p99.9 " +
       ReadableSpan(h.Percentile(0.999).count()) + " &#xB7; max " +
       ReadableSpan(h.max().count()) + " &#xB7; mean " +
       ReadableSpan(h.mean().count()) + " &#xB7; " + GroupedNumber(h.count()) +
       " samples</div></div>";
  return s;
}

}  // namespace

std::string RenderBenchHtml(const BenchPicture& p) {
  const Json& f = p.figures;
  std::string s = PageStart(
      "hooksim bench: " + Rate(Num(f, "deliveries_per_s")) + " deliveries/s");
  s += "<header class=\"top\"><h1>hooksim bench report</h1><div class=\"sub\">"
       "delivery throughput over real HTTP on loopback</div></header>\n"
       "<main>\n";
  s += "<div class=\"card\"><div>command: <code>" + HtmlEscape(p.command) +
       "</code></div><div class=\"muted\">target: " +
       HtmlEscape(Str(f, "target")) + " &#xB7; " +
       std::to_string(Count(f, "receivers")) + " hook(s) &#xB7; " +
       std::to_string(Count(f, "connections")) +
       " connections &#xB7; failure rate " +
       HtmlEscape(Str(f, "failure_rate")) + " &#xB7; seed " +
       std::to_string(Count(f, "seed")) + " &#xB7; retry schedule " +
       HtmlEscape(Milliseconds(f.value("retry_schedule_ms", Json()))) +
       " &#xB7; timeout " +
       HtmlEscape(Milliseconds(f.value("timeout_ms", Json()))) +
       (f.value("interrupted", false) ? " &#xB7; <b>interrupted</b>" : "") +
       "</div></div>\n";
  s += "<div class=\"kpis summary\" data-deliveries=\"" +
       std::to_string(Count(f, "deliveries")) + "\" data-attempts=\"" +
       std::to_string(Count(f, "attempts")) + "\">" +
       Kpi(Rate(Num(f, "deliveries_per_s")), "deliveries/s") +
       Kpi(Rate(Num(f, "attempts_per_s")), "attempts/s") +
       Kpi(GroupedNumber(Count(f, "deliveries")), "deliveries ended") +
       Kpi(GroupedNumber(Count(f, "delivered")), "delivered") +
       Kpi(GroupedNumber(Count(f, "gave_up")), "gave up") +
       Kpi(GroupedNumber(Count(f, "attempts")), "attempts") +
       Kpi(GroupedNumber(Count(f, "retries")), "retries") +
       Kpi(FixedNumber(Num(f, "wall_s"), 2) + " s", "wall time") +
       Kpi(FixedNumber(Num(f, "peak_rss_bytes") / (1 << 20), 1) + " MB",
           "peak RSS") +
       "</div>\n";
  s += "<h2>Throughput over time</h2><div class=\"card chart\">" +
       ThroughputChart(p.throughput, Num(f, "wall_s")) + "</div>\n";
  s += "<h2>Latency</h2><div class=\"split\"><div class=\"card grow\"><h3>Per "
       "delivery</h3><p class=\"note\">from its publication (its first "
       "attempt is due at once) to its final outcome</p>" +
       LatencyChart("delivery", p.delivery_latency) +
       "</div><div class=\"card grow\"><h3>Per attempt</h3><p class=\"note\">"
       "from the engine's send (waiting for a free connection included) to "
       "the answer</p>" +
       LatencyChart("attempt", p.attempt_latency) + "</div></div>\n";
  s += "<p class=\"note\">Publish to first attempt is not measured apart: "
       "the first attempt is due at publication, and waiting for a "
       "connection is part of the per-attempt latency.</p>\n";

  // Attempts by outcome.
  s += "<h2>Attempts by outcome</h2><div class=\"card\"><table class=\"errors\""
       "><tr><th>outcome</th><th class=\"num\">attempts</th><th>share</th>"
       "</tr>";
  const uint64_t attempts = std::max<uint64_t>(Count(f, "attempts"), 1);
  const auto outcomes = f.find("outcomes");
  if (outcomes != f.end() && outcomes->is_object()) {
    for (const auto& [kind, count] : outcomes->items()) {
      const uint64_t n = count.is_number() ? count.get<uint64_t>() : 0;
      const bool ok = kind.size() == 8 && kind.compare(0, 6, "http_2") == 0;
      s += "<tr class=\"" + std::string(ok ? "ok" : "error") +
           "\" data-kind=\"" + HtmlEscape(kind) + "\" data-count=\"" +
           std::to_string(n) + "\"><td>" + HtmlEscape(kind) +
           "</td><td class=\"num\">" + GroupedNumber(n) +
           "</td><td><div class=\"bar-h\" style=\"max-width:420px\"><span "
           "style=\"width:" +
           FixedNumber(100.0 * static_cast<double>(n) / attempts, 2) +
           "%;background:" + (ok ? "var(--ok)" : "var(--reset)") +
           "\"></span></div></td></tr>";
    }
  }
  s += "</table>";
  const auto errors = f.find("errors");
  if (errors == f.end() || errors->empty()) {
    s += "<p class=\"note\">No errors: every attempt got a 2xx.</p>";
  }
  s += "</div>\n";

  s += "<h2>Thresholds</h2><div class=\"card\" id=\"thresholds\"><p class=\""
       "muted\">No thresholds set. Pass/fail thresholds on these figures "
       "(rates, percentiles, error share) come with a later issue; they "
       "will be listed here.</p></div>\n";

  const Json machine = f.value("machine", Json::object());
  s += "<h2>Machine</h2><div class=\"card\"><table><tr><th>cores</th><td>" +
       HtmlEscape(Str(machine, "cores")) + "</td></tr><tr><th>CPU</th><td>" +
       HtmlEscape(Str(machine, "cpu_model")) +
       "</td></tr><tr><th>hooksim"
       "</th><td>" +
       HtmlEscape(Str(f, "hooksim_version")) +
       "</td></tr><tr><th>peak RSS</th><td>" +
       GroupedNumber(Count(f, "peak_rss_bytes")) + " bytes</td></tr>";
  if (f.contains("receiver_requests")) {
    s += "<tr><th>receivers</th><td>" +
         GroupedNumber(Count(f, "receiver_requests")) + " requests, " +
         GroupedNumber(Count(f, "receiver_schema_failures")) +
         " schema failures</td></tr>";
  }
  s += "</table></div>\n";
  s += "<footer>hooksim " + HtmlEscape(Str(f, "hooksim_version")) +
       ". Figures are wall-clock measurements of this machine: they differ "
       "from run to run. This page loads nothing from outside the file."
       "</footer>\n</main>\n" +
       PageEnd();
  return s;
}

}  // namespace hooksim
