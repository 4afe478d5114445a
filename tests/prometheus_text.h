// A strict reader of the Prometheus text exposition format (0.0.4), for
// tests that scrape /metrics: it checks the format's rules and returns the
// samples, so a test can assert counts. Independent of prometheus-cpp (the
// writer under test).
//
// Rules checked (each violation is one entry in ParsedMetrics::errors):
// - "# HELP name text" and "# TYPE name type" at most once per family,
//   TYPE before the family's first sample; type one of counter, gauge,
//   histogram, summary, untyped; HELP text escapes only \\ and \n.
// - metric and label names match [a-zA-Z_:][a-zA-Z0-9_:]* and
//   [a-zA-Z_][a-zA-Z0-9_]*; label values are quoted with only \\, \" and
//   \n escapes; no label name twice in one sample; a sample's value is a
//   float, +Inf, -Inf or NaN, optionally followed by an integer timestamp.
// - every sample belongs to a family with a TYPE (histogram samples are
//   NAME_bucket with an "le" label, NAME_sum and NAME_count); a family's
//   samples are contiguous; counters are >= 0.
// - histograms, per label set: "le" bounds increase, bucket counts are
//   cumulative (never decrease), the last bucket is le="+Inf" and equals
//   NAME_count.
#ifndef HOOKSIM_TESTS_PROMETHEUS_TEXT_H_
#define HOOKSIM_TESTS_PROMETHEUS_TEXT_H_

#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace hooksim::prom {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Family {
  std::string type;
  std::string help;
  std::vector<Sample> samples;
};

struct ParsedMetrics {
  std::map<std::string, Family> families;
  std::vector<std::string> errors;

  // The value of sample `name` whose labels include all of `labels`; nullopt
  // when none, or more than one, match.
  std::optional<double> Value(
      const std::string& name,
      const std::map<std::string, std::string>& labels = {}) const {
    std::optional<double> found;
    int matches = 0;
    for (const auto& [fname, f] : families) {
      for (const Sample& s : f.samples) {
        if (s.name != name) continue;
        bool all = true;
        for (const auto& [k, v] : labels) {
          auto it = s.labels.find(k);
          all = all && it != s.labels.end() && it->second == v;
        }
        if (all) {
          found = s.value;
          ++matches;
        }
      }
    }
    if (matches != 1) return std::nullopt;
    return found;
  }
};

namespace internal {

inline bool IsMetricName(const std::string& s) {
  static const std::regex re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  return std::regex_match(s, re);
}
inline bool IsLabelName(const std::string& s) {
  static const std::regex re("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(s, re);
}

inline std::optional<double> ParseValue(const std::string& t) {
  if (t == "+Inf" || t == "Inf") return std::numeric_limits<double>::infinity();
  if (t == "-Inf") return -std::numeric_limits<double>::infinity();
  if (t == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  if (std::isinf(v) || std::isnan(v)) return std::nullopt;  // Spelled oddly.
  return v;
}

// The family a sample name belongs to, given the TYPEs seen.
inline std::optional<std::string> FamilyOf(
    const std::string& name, const std::map<std::string, Family>& families) {
  if (families.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string sfx = suffix;
    if (name.size() > sfx.size() &&
        name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0) {
      const std::string base = name.substr(0, name.size() - sfx.size());
      auto it = families.find(base);
      if (it != families.end() &&
          (it->second.type == "histogram" ||
           (it->second.type == "summary" && sfx != "_bucket"))) {
        return base;
      }
    }
  }
  return std::nullopt;
}

}  // namespace internal

inline ParsedMetrics Parse(const std::string& text) {
  using namespace internal;
  ParsedMetrics out;
  std::set<std::string> helped;
  std::set<std::string> closed;  // Families whose samples have ended.
  std::string current;           // Family of the previous sample.
  std::istringstream in(text);
  std::string line;
  int n = 0;
  auto error = [&](const std::string& what) {
    out.errors.push_back("line " + std::to_string(n) + ": " + what + ": " +
                         line);
  };
  if (!text.empty() && text.back() != '\n') {
    out.errors.push_back("the text does not end with a newline");
  }
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line.substr(1));
      std::string keyword, name;
      words >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // A comment.
      if (!IsMetricName(name)) {
        error("bad metric name in " + keyword);
        continue;
      }
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (keyword == "TYPE") {
        static const std::set<std::string> kTypes = {
            "counter", "gauge", "histogram", "summary", "untyped"};
        if (!kTypes.count(rest)) error("unknown type \"" + rest + "\"");
        if (out.families.count(name) && !out.families[name].type.empty()) {
          error("second TYPE for " + name);
        }
        if (out.families.count(name) && !out.families[name].samples.empty()) {
          error("TYPE after samples of " + name);
        }
        out.families[name].type = rest;
      } else {
        if (!helped.insert(name).second) error("second HELP for " + name);
        std::string help;
        for (size_t i = 0; i < rest.size(); ++i) {
          if (rest[i] != '\\') {
            help += rest[i];
          } else if (i + 1 < rest.size() && rest[i + 1] == '\\') {
            help += '\\';
            ++i;
          } else if (i + 1 < rest.size() && rest[i + 1] == 'n') {
            help += '\n';
            ++i;
          } else {
            error("bad escape in HELP");
          }
        }
        out.families[name].help = help;
      }
      continue;
    }
    // A sample: name, optional {labels}, value, optional timestamp.
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!IsMetricName(s.name)) {
      error("bad metric name \"" + s.name + "\"");
      continue;
    }
    bool ok = true;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (ok && i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) {
          ok = false;
          break;
        }
        const std::string label = line.substr(i, eq - i);
        if (!IsLabelName(label)) {
          error("bad label name \"" + label + "\"");
          ok = false;
          break;
        }
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') {
          error("label value not quoted");
          ok = false;
          break;
        }
        ++i;
        std::string value;
        bool closed_quote = false;
        while (i < line.size()) {
          const char c = line[i];
          if (c == '"') {
            closed_quote = true;
            ++i;
            break;
          }
          if (c == '\\') {
            if (i + 1 >= line.size()) break;
            const char e = line[i + 1];
            if (e == '\\') value += '\\';
            else if (e == '"') value += '"';
            else if (e == 'n') value += '\n';
            else error(std::string("bad escape \\") + e + " in a label value");
            i += 2;
            continue;
          }
          value += c;
          ++i;
        }
        if (!closed_quote) {
          error("unterminated label value");
          ok = false;
          break;
        }
        if (!s.labels.emplace(label, value).second) {
          error("label " + label + " twice");
        }
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (!ok) continue;
      if (i >= line.size() || line[i] != '}') {
        error("labels not closed");
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      error("no value");
      continue;
    }
    std::istringstream rest(line.substr(i + 1));
    std::string value_text, timestamp, extra;
    rest >> value_text >> timestamp >> extra;
    const std::optional<double> value = ParseValue(value_text);
    if (!value) {
      error("bad value \"" + value_text + "\"");
      continue;
    }
    if (!timestamp.empty() &&
        !std::regex_match(timestamp, std::regex("-?[0-9]+"))) {
      error("bad timestamp");
    }
    if (!extra.empty()) error("text after the timestamp");
    s.value = *value;
    const std::optional<std::string> family = FamilyOf(s.name, out.families);
    if (!family || out.families[*family].type.empty()) {
      error("sample " + s.name + " of no TYPEd family");
      continue;
    }
    if (*family != current) {
      if (closed.count(*family)) error("samples of " + *family + " not together");
      if (!current.empty()) closed.insert(current);
      current = *family;
    }
    Family& f = out.families[*family];
    if (f.type == "counter" && !(s.value >= 0)) error("negative counter");
    if (f.type == "histogram" && s.name == *family) {
      error("histogram sample without _bucket/_sum/_count");
    }
    if (s.name == *family + "_bucket" && !s.labels.count("le")) {
      error("bucket without le");
    }
    f.samples.push_back(std::move(s));
  }
  // Histograms: per label set (without le), cumulative buckets ending in
  // +Inf == _count.
  for (const auto& [name, f] : out.families) {
    if (f.type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<const Sample*>>
        series;
    std::map<std::map<std::string, std::string>, double> counts;
    for (const Sample& s : f.samples) {
      std::map<std::string, std::string> key = s.labels;
      key.erase("le");
      if (s.name == name + "_bucket") series[key].push_back(&s);
      if (s.name == name + "_count") counts[key] = s.value;
    }
    if (series.size() != counts.size()) {
      out.errors.push_back(name + ": buckets and _count series differ");
    }
    for (const auto& [key, buckets] : series) {
      double last_le = -std::numeric_limits<double>::infinity();
      double last_count = 0;
      for (const Sample* b : buckets) {
        const std::optional<double> le = ParseValue(b->labels.at("le"));
        if (!le || !(*le > last_le)) {
          out.errors.push_back(name + ": le bounds not increasing at le=" +
                               b->labels.at("le"));
        }
        if (b->value < last_count) {
          out.errors.push_back(name + ": buckets not cumulative at le=" +
                               b->labels.at("le"));
        }
        last_le = le.value_or(last_le);
        last_count = b->value;
      }
      if (buckets.empty() || buckets.back()->labels.at("le") != "+Inf") {
        out.errors.push_back(name + ": the last bucket is not le=\"+Inf\"");
      } else if (!counts.count(key) || counts.at(key) != buckets.back()->value) {
        out.errors.push_back(name + ": le=\"+Inf\" differs from _count");
      }
    }
  }
  return out;
}

}  // namespace hooksim::prom

#endif  // HOOKSIM_TESTS_PROMETHEUS_TEXT_H_
