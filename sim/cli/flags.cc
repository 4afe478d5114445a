#include "sim/cli/flags.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <ostream>
#include <sstream>
#include <utility>

#include "sim/base/parse_number.h"
#include "sim/cli/exit_code.h"
#include "sim/contract/contract_file.h"
#include "sim/http/http_url.h"

namespace hooksim {

namespace po = boost::program_options;

struct FlagSet::Spec {
  std::string name;  // "count,n".
  std::string help;
  Setter set;
  bool is_switch = false;
  std::optional<std::string> shown_default;
  std::string value_name = "arg";
  bool repeatable = false;  // Given any number of times; set per value.

  std::string long_name() const { return name.substr(0, name.find(',')); }
};

namespace {

constexpr int64_t kMaxTimeoutMs = 3600 * 1000;            // RetryPolicy's.
constexpr int64_t kMaxDelayMs = 30LL * 24 * 3600 * 1000;  // RetryPolicy's.

Status Expected(std::string_view expected, std::string_view got) {
  return Status::InvalidArgument("expected " + std::string(expected) + ", got \"" +
                   std::string(got) + "\"");
}

Result<int64_t> ParseIntIn(std::string_view text, int64_t min, int64_t max) {
  const std::optional<uint64_t> v = ParseUint64(text);
  if (!v || *v < static_cast<uint64_t>(min) ||
      *v > static_cast<uint64_t>(max)) {
    return Expected(
        "an integer " + std::to_string(min) + ".." + std::to_string(max),
        text);
  }
  return static_cast<int64_t>(*v);
}

Result<std::vector<Duration>> ParseSchedule(std::string_view text,
                                            int max_delays) {
  const std::string expected =
      "1 to " + std::to_string(max_delays) +
      " comma-separated delays in ms, each 0.." + std::to_string(kMaxDelayMs);
  std::vector<Duration> delays;
  size_t start = 0;
  // Bounded: each round consumes one item, and items are capped.
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? text.npos : comma - start);
    if (delays.size() == static_cast<size_t>(max_delays)) {
      return Status::InvalidArgument("at most " + std::to_string(max_delays) +
                       " delays (the contract allows " +
                       std::to_string(max_delays) + " re-attempts), got \"" +
                       std::string(text) + "\"");
    }
    if (!ParseIntIn(item, 0, kMaxDelayMs).ok()) {
      return Expected(expected, text);
    }
    delays.push_back(Millis(*ParseIntIn(item, 0, kMaxDelayMs)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return delays;
}

}  // namespace

FlagSet::FlagSet(std::string command, std::string usage)
    : command_(std::move(command)), usage_(std::move(usage)) {}

FlagSet::~FlagSet() = default;
FlagSet::FlagSet(FlagSet&&) noexcept = default;
FlagSet& FlagSet::operator=(FlagSet&&) noexcept = default;

FlagSet::Flag& FlagSet::Flag::Default(std::string text) {
  set_->specs_[index_].shown_default = std::move(text);
  return *this;
}

FlagSet::Flag& FlagSet::Flag::Value(std::string name) {
  set_->specs_[index_].value_name = std::move(name);
  return *this;
}

FlagSet::Flag FlagSet::Add(const char* name, std::string help, Setter set,
                           bool is_switch) {
  specs_.push_back(
      Spec{name, std::move(help), std::move(set), is_switch, {}, "arg"});
  return Flag(specs_.size() - 1, this);
}

FlagSet::Flag FlagSet::Repeatable(const char* name, std::string help,
                                  Setter set) {
  Flag flag = Add(name, std::move(help), std::move(set), false);
  specs_.back().repeatable = true;
  return flag;
}

FlagSet::Flag FlagSet::Switch(const char* name, std::string help,
                              bool* target) {
  return Add(
      name, std::move(help),
      [target](const std::string&) -> Status {
        *target = true;
        return Status::Ok();
      },
      true);
}

FlagSet::Setter FlagSet::TextSetter(
    bool non_empty, std::function<void(const std::string&)> store) {
  return [non_empty, store](const std::string& text) -> Status {
    if (non_empty && text.empty()) return Expected("a file name", text);
    store(text);
    return Status::Ok();
  };
}

FlagSet::Setter FlagSet::IntegerSetter(int64_t min, int64_t max,
                                       std::function<void(int64_t)> store) {
  return [min, max, store](const std::string& text) -> Status {
    Result<int64_t> v = ParseIntIn(text, min, max);
    if (!v.ok()) return v.error();
    store(*v);
    return Status::Ok();
  };
}

FlagSet::Flag FlagSet::PositiveSeconds(const char* name, std::string help,
                                       double max,
                                       std::optional<Duration>* target) {
  return Custom(
      name, std::move(help), [max, target](const std::string& text) -> Status {
        const std::optional<double> s = ParseFiniteDouble(text);
        if (!s || !(*s > 0) || *s > max) {
          return Expected("seconds in (0, " +
                              std::to_string(static_cast<int64_t>(max)) + "]",
                          text);
        }
        Duration d = std::chrono::duration_cast<Duration>(
            std::chrono::duration<double>(*s));
        *target = d <= Duration::zero() ? Duration(1) : d;
        return Status::Ok();
      })
      .Value("S");
}

FlagSet::Flag FlagSet::Millis(const char* name, std::string help, int64_t min,
                              int64_t max, Duration* target) {
  return Custom(name, std::move(help),
                IntegerSetter(min, max, [target](int64_t v) {
                  *target = hooksim::Millis(v);
                }))
      .Value("MS");
}

FlagSet::Flag FlagSet::Seconds(const char* name, std::string help, int64_t min,
                               int64_t max, Duration* target) {
  return Custom(name, std::move(help),
                IntegerSetter(min, max, [target](int64_t v) {
                  *target = std::chrono::seconds(v);
                }))
      .Value("S");
}

FlagSet::Flag FlagSet::Number(const char* name, std::string help, double min,
                              bool min_open, double max, std::string expected,
                              double* target) {
  return Custom(
      name, std::move(help),
      [min, min_open, max, expected, target](const std::string& text) -> Status {
        const std::optional<double> v = ParseFiniteDouble(text);
        const bool signed_text = !text.empty() && text.front() == '-';
        if (!v || (signed_text && min >= 0) ||
            (min_open ? !(*v > min) : !(*v >= min)) || !(*v <= max)) {
          return Expected(expected, text);
        }
        *target = *v;
        return Status::Ok();
      })
      .Value("F");
}

FlagSet::Flag FlagSet::Custom(const char* name, std::string help, Setter set) {
  return Add(name, std::move(help), std::move(set), false);
}

void FlagSet::Renamed(const char* old_name, const char* now) {
  renamed_.emplace_back(old_name, now);
}

void FlagSet::Positionals(std::vector<std::string>* target) {
  positionals_ = target;
}

void FlagSet::PositionalHint(std::string hint) {
  positional_hint_ = std::move(hint);
}

void FlagSet::Describe(po::options_description& visible) const {
  visible.add_options()("help,h", "show this help");
  for (const Spec& s : specs_) {
    if (s.is_switch) {
      visible.add_options()(s.name.c_str(), po::bool_switch(), s.help.c_str());
    } else if (s.repeatable) {
      visible.add_options()(
          s.name.c_str(),
          po::value<std::vector<std::string>>()->value_name(s.value_name),
          s.help.c_str());
    } else if (s.shown_default) {
      visible.add_options()(s.name.c_str(),
                            po::value<std::string>()
                                ->value_name(s.value_name)
                                ->default_value(*s.shown_default),
                            s.help.c_str());
    } else {
      visible.add_options()(
          s.name.c_str(), po::value<std::string>()->value_name(s.value_name),
          s.help.c_str());
    }
  }
}

Result<FlagParse> FlagSet::Parse(const std::vector<std::string>& args) {
  po::options_description visible("options");
  Describe(visible);
  po::options_description all;
  all.add(visible);
  // Renamed flags take any value so that the hint, not Boost's "unknown
  // option" or "missing argument", is what the user sees.
  for (const auto& [old_name, now] : renamed_) {
    all.add_options()(old_name.c_str(),
                      po::value<std::string>()->implicit_value(""));
  }
  all.add_options()("hooksim-positional",
                    po::value<std::vector<std::string>>());
  po::positional_options_description pos;
  pos.add("hooksim-positional", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Status::InvalidArgument(e.what());
  }
  if (vm.count("help")) return FlagParse::kHelp;
  for (const auto& [old_name, now] : renamed_) {
    if (vm.count(old_name)) {
      return Status::InvalidArgument("--" + old_name + " was renamed: use --" + now);
    }
  }
  if (vm.count("hooksim-positional")) {
    const auto& words = vm["hooksim-positional"].as<std::vector<std::string>>();
    if (!positionals_) {
      std::string message = "unexpected argument \"" + words[0] + "\"";
      if (!positional_hint_.empty()) message += " " + positional_hint_;
      return Status::InvalidArgument(message);
    }
    *positionals_ = words;
  }
  given_.clear();
  // Declaration order: a flag may depend on one declared before it.
  for (const Spec& s : specs_) {
    const std::string name = s.long_name();
    if (!vm.count(name) || vm[name].defaulted()) continue;
    if (s.is_switch && !vm[name].as<bool>()) continue;
    given_.push_back(name);
    if (s.repeatable) {
      for (const std::string& text :
           vm[name].as<std::vector<std::string>>()) {
        if (Status st = s.set(text); !st.ok()) {
          return Status(st.code(), "--" + name + ": " + st.message());
        }
      }
      continue;
    }
    const std::string text = s.is_switch ? "" : vm[name].as<std::string>();
    if (Status st = s.set(text); !st.ok()) {
      return Status(st.code(), "--" + name + ": " + st.message());
    }
  }
  return FlagParse::kRun;
}

bool FlagSet::Given(std::string_view name) const {
  return std::find(given_.begin(), given_.end(), name) != given_.end();
}

std::string FlagSet::Help() const {
  po::options_description visible("options");
  Describe(visible);
  std::ostringstream out;
  out << usage_ << "\n" << visible;
  return out.str();
}

int UsageError(std::string_view command, const Status& error,
               std::ostream& err) {
  err << "hooksim " << command << ": " << error.message() << "\n"
      << "try: hooksim " << command << " --help\n";
  return ToInt(ExitCodeFor(error));
}

std::optional<int> ParseCommandLine(FlagSet& flags,
                                    const std::vector<std::string>& args,
                                    const std::function<Status()>& check,
                                    std::ostream& out, std::ostream& err) {
  Result<FlagParse> parsed = flags.Parse(args);
  if (!parsed.ok()) return UsageError(flags.command(), parsed.error(), err);
  if (*parsed == FlagParse::kHelp) {
    out << flags.Help();
    return ToInt(ExitCode::kOk);
  }
  if (Status s = check(); !s.ok()) return UsageError(flags.command(), s, err);
  return std::nullopt;
}

FlagSet::Setter SeedSetter(std::function<void(uint64_t)> store) {
  return [store](const std::string& text) -> Status {
    const std::optional<uint64_t> v = ParseUint64(text);
    if (!v) return Expected("an integer 0..18446744073709551615", text);
    store(*v);
    return Status::Ok();
  };
}

FlagSet::Setter HttpUrlSetter(std::function<void(const std::string&)> store) {
  return [store](const std::string& text) -> Status {
    if (Result<HttpUrl> url = ParseHttpUrl(text); !url.ok()) {
      return url.error();
    }
    store(text);
    return Status::Ok();
  };
}

void AddRetryFlags(FlagSet& flags, RetryTargets t, const RetryHelp& help) {
  flags.Custom(
      "retry-schedule-ms",
      "delays before re-attempts 1..5, comma-separated ms; the last repeats "
      "(default " + help.schedule_default + ")",
      [t](const std::string& text) -> Status {
        const int max = t.max_reattempts ? *t.max_reattempts : 5;
        Result<std::vector<Duration>> s = ParseSchedule(text, max);
        if (!s.ok()) return s.error();
        *t.schedule = std::move(*s);
        return Status::Ok();
      })
      .Value("MS,...");
  flags.Millis("timeout-ms",
               help.timeout + " (1.." + std::to_string(kMaxTimeoutMs) +
                   ", default 10000)",
               1, kMaxTimeoutMs, t.timeout);
  flags.Number("jitter",
               "each delay is scaled by 1 +- this fraction (0..1, default 0.2)",
               0, false, 1, "a fraction 0..1", t.jitter);
}

void AddReportFlags(FlagSet& flags, ReportTargets t, const ReportHelp& help) {
  if (t.report_json) flags.File("report-json", help.report_json, t.report_json);
  if (t.junit) flags.File("junit", help.junit, t.junit);
  if (t.report_html) flags.File("report-html", help.report_html, t.report_html);
}

FlagSet::Flag AddContractFlag(FlagSet& flags, std::string help,
                              Contract* target,
                              std::optional<RetryTargets> retry,
                              std::string* given) {
  return flags.Custom("contract", std::move(help),
                      [target, retry, given](const std::string& text) -> Status {
                        Result<Contract> c = LoadContract(text);
                        if (!c.ok()) return Status::InvalidArgument(c.error().ToString());
                        *target = std::move(c).value();
                        if (given != nullptr) *given = text;
                        if (retry) {
                          *retry->schedule = target->retry_schedule;
                          *retry->jitter = target->jitter;
                          *retry->timeout = target->timeout;
                        }
                        return Status::Ok();
                      })
      .Value("NAME|FILE");
}

FlagSet::Flag AddContractNameFlag(FlagSet& flags, std::string help,
                                  std::optional<std::string>* target) {
  return flags.Text("contract", std::move(help), target).Value("NAME|FILE");
}

FlagSet::Flag AddStateFlag(FlagSet& flags, std::string help,
                           std::optional<std::string>* target) {
  return flags.Text("state", std::move(help), target).Value("FILE|URL");
}

FlagSet::Flag AddConcurrencyFlag(FlagSet& flags, std::string help,
                                 int64_t max, int64_t* target) {
  return flags.Integer("concurrency", std::move(help), 1, max, target);
}

}  // namespace hooksim
