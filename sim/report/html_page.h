// Building blocks of the self-contained HTML reports (html_report.h):
// escaping, the page shell with its inline stylesheet, number and duration
// formatting, and the time axes of the SVG charts.
//
// Nothing here reads the clock or the environment: the same input gives the
// same bytes. Pages load nothing from outside the file (no fonts, scripts,
// images or requests).
// Thread: pure functions.
#ifndef HOOKSIM_SIM_REPORT_HTML_PAGE_H_
#define HOOKSIM_SIM_REPORT_HTML_PAGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hooksim {

// Escapes text for HTML element content and quoted attribute values
// (& < > " '). Bytes that are not valid UTF-8 become U+FFFD, so a sender's
// binary stderr still gives a valid page.
std::string HtmlEscape(std::string_view text);

// At most max_bytes of text (cut at a UTF-8 character boundary); when cut,
// `cut` is set.
std::string_view CutText(std::string_view text, size_t max_bytes, bool* cut);

// "<!doctype html>...<body>" with the title (escaped) and the stylesheet;
// close with PageEnd().
std::string PageStart(std::string_view title);
std::string PageEnd();

// "12,345".
std::string GroupedNumber(uint64_t n);
// A fixed number of decimals: Fixed(1.5, 2) is "1.50".
std::string FixedNumber(double value, int decimals);
// A span of microseconds in the largest units that read well: "0",
// "250 us", "12 ms", "1.5 s", "5 min", "2 h 30 min", "1 d 6 h".
std::string ReadableSpan(int64_t micros);

// Maps run time (microseconds since the run's start) to an x pixel.
// Linear, or logarithmic (log10(1 + t / unit)) when the run's attempts
// span several orders of magnitude (a retry schedule from seconds to
// hours).
class TimeAxis {
 public:
  enum class Kind { kLinear, kLog };

  // Domain [0, end_us] (end_us at least 1 ms) onto [x0, x0 + width]; a
  // log axis is linear below about `log_unit_us` (at least 1 ms).
  TimeAxis(Kind kind, int64_t end_us, double x0, double width,
           int64_t log_unit_us = 1000);

  double X(int64_t micros) const;
  Kind kind() const { return kind_; }
  int64_t end_us() const { return end_us_; }
  // Tick positions (microseconds), at most about eight, with labels from
  // ReadableSpan.
  std::vector<int64_t> Ticks() const;
  // "time since the run started (linear)" and the like, for captions.
  std::string Describe(std::string_view since) const;

 private:
  Kind kind_;
  int64_t end_us_;
  int64_t unit_us_;
  double x0_;
  double width_;
};

// Whether a log axis reads better: true when more than a tenth of the
// gaps between consecutive attempts of a delivery (`gaps_us`) would be
// under 3 px wide on a linear axis of `width` px over [0, end_us].
TimeAxis::Kind ChooseAxisKind(const std::vector<int64_t>& gaps_us,
                              int64_t end_us, double width);

// The axis for those gaps: ChooseAxisKind's kind; a log axis's unit is half
// the shortest gap (1 ms .. end / 1000), so no width is spent on
// milliseconds when nothing happens that fast.
TimeAxis FitTimeAxis(const std::vector<int64_t>& gaps_us, int64_t end_us,
                     double x0, double width);

// "hooksim CMD ARG ..." with each argument shell-quoted where needed.
std::string CommandLine(std::string_view command,
                        const std::vector<std::string>& args);

// "12.5" with at most one decimal, for SVG coordinates.
std::string Coord(double v);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_REPORT_HTML_PAGE_H_
