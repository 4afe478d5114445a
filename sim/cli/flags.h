// The one typed flag layer of the command line. Each command declares its
// flags once on a FlagSet: name, help, type, range (and unit, in the name:
// -ms, -s), each bound to the field of the options struct the lower layer
// takes. Parse() tokenizes with Boost.Program_options (long names, short
// aliases, --flag=value, unambiguous prefixes), then sets every given flag
// in DECLARATION order (so --contract, declared before the retry flags,
// is loaded before --retry-schedule-ms is checked against its attempts).
// Errors name the flag and the value: `--concurrency: expected an integer
// 1..1024, got "0"`; UsageError() prints them and gives the exit code.
//
// Shared groups (AddSeedFlag, AddRetryFlags, AddReportFlags, ...) declare
// the flags that mean the same in every command that has them.
// Thread: a FlagSet is used by one thread; targets are borrowed and must
// outlive Parse().
#ifndef HOOKSIM_SIM_CLI_FLAGS_H_
#define HOOKSIM_SIM_CLI_FLAGS_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/cli/exit_code.h"
#include "sim/contract/contract.h"

namespace boost::program_options {
class options_description;
}  // namespace boost::program_options

namespace hooksim {

// What Parse() found: run the command, or print its help.
enum class FlagParse { kRun, kHelp };

class FlagSet {
 public:
  // `command` is the subcommand ("bench"); `usage` the text --help prints
  // above the flag table.
  FlagSet(std::string command, std::string usage);
  ~FlagSet();
  FlagSet(FlagSet&&) noexcept;
  FlagSet& operator=(FlagSet&&) noexcept;

  // A declared flag; Default() sets the "(=...)" shown in --help (the
  // target already holds the value; the text is for the reader).
  // --help names each value by its type: N (integer), MS, S (durations),
  // F (number), FILE, TEXT, URL, unless Value() names it.
  class Flag {
   public:
    Flag& Default(std::string text);
    // The value's name in --help ("N", "FILE"); each type has its own.
    Flag& Value(std::string name);

   private:
    friend class FlagSet;
    explicit Flag(size_t index, FlagSet* set) : index_(index), set_(set) {}
    size_t index_;
    FlagSet* set_;
  };

  // `name` is "count" or "count,n" (with a short alias). A setter gets the
  // text as given and returns an error naming what was expected (without
  // the flag: the layer adds "--name: ").
  using Setter = std::function<Status(const std::string& text)>;

  Flag Switch(const char* name, std::string help, bool* target);
  // Any text (may be empty) into a std::string or optional<std::string>.
  template <typename S>
  Flag Text(const char* name, std::string help, S* target) {
    return Custom(name, std::move(help),
                  TextSetter(false, [target](const std::string& text) {
                    *target = text;
                  }))
        .Value("TEXT");
  }
  // A file name: not empty.
  template <typename S>
  Flag File(const char* name, std::string help, S* target) {
    return Custom(name, std::move(help),
                  TextSetter(true, [target](const std::string& text) {
                    *target = text;
                  }))
        .Value("FILE");
  }
  // Decimal digits only in [min, max] (no sign, space or fraction), into
  // an integer or an optional<int64_t>.
  template <typename Int>
  Flag Integer(const char* name, std::string help, int64_t min, int64_t max,
               Int* target) {
    return Custom(name, std::move(help),
                  IntegerSetter(min, max, [target](int64_t v) {
                    *target = static_cast<Int>(v);
                  }))
        .Value("N");
  }
  // Seconds, a finite number in (0, max] ("2.5"), as a Duration.
  Flag PositiveSeconds(const char* name, std::string help, double max,
                       std::optional<Duration>* target);
  // Integer milliseconds / seconds in [min, max], stored as a Duration.
  Flag Millis(const char* name, std::string help, int64_t min, int64_t max,
              Duration* target);
  Flag Seconds(const char* name, std::string help, int64_t min, int64_t max,
               Duration* target);
  // A finite number in (min, max] when `min_open`, else [min, max];
  // `expected` words it in errors ("a fraction 0..1").
  Flag Number(const char* name, std::string help, double min, bool min_open,
              double max, std::string expected, double* target);
  // Anything else: `set` parses and stores.
  Flag Custom(const char* name, std::string help, Setter set);
  // A flag given any number of times; `set` runs once per value, in order.
  Flag Repeatable(const char* name, std::string help, Setter set);
  // A flag that was renamed: giving it is a usage error naming `now`.
  void Renamed(const char* old_name, const char* now);
  // Positional arguments go to `target`; without this a positional is an
  // error: `unexpected argument "X"` followed by `hint`.
  void Positionals(std::vector<std::string>* target);
  void PositionalHint(std::string hint);

  // Parses `args`; the error names the flag and the value.
  Result<FlagParse> Parse(const std::vector<std::string>& args);
  // Whether --name was given (after Parse).
  bool Given(std::string_view name) const;
  // The --help text: usage, then the flag table.
  std::string Help() const;
  const std::string& command() const { return command_; }

 private:
  struct Spec;
  static Setter TextSetter(bool non_empty,
                           std::function<void(const std::string&)> store);
  static Setter IntegerSetter(int64_t min, int64_t max,
                              std::function<void(int64_t)> store);
  // The flag table (Boost's), for parsing and for --help.
  void Describe(boost::program_options::options_description& d) const;
  Flag Add(const char* name, std::string help, Setter set, bool is_switch);
  std::string command_;
  std::string usage_;
  std::vector<Spec> specs_;
  std::vector<std::pair<std::string, std::string>> renamed_;
  std::vector<std::string>* positionals_ = nullptr;
  std::string positional_hint_;
  std::vector<std::string> given_;
};

// Prints "hooksim COMMAND: MESSAGE" and "try: hooksim COMMAND --help" to
// `err`; returns the exit code of `error` (exit_code.h: a flag error is an
// invalid argument, 2).
int UsageError(std::string_view command, const Status& error, std::ostream& err);

// A command's flags: how to declare them on a FlagSet bound to its options
// struct, and the rules between flags checked after parsing (may be null).
template <typename Options>
struct CommandFlags {
  FlagSet (*declare)(Options* options);
  Status (*check)(const FlagSet& flags, Options& options) = nullptr;
};

// Parses `args` with `flags` and runs `check`: --help prints the help and
// returns 0, a bad flag or rule prints the usage error and returns 2;
// nullopt means run the command.
std::optional<int> ParseCommandLine(FlagSet& flags,
                                    const std::vector<std::string>& args,
                                    const std::function<Status()>& check,
                                    std::ostream& out, std::ostream& err);
template <typename Options>
std::optional<int> ParseCommandLine(const CommandFlags<Options>& spec,
                                    const std::vector<std::string>& args,
                                    Options* options, std::ostream& out,
                                    std::ostream& err) {
  FlagSet flags = spec.declare(options);
  return ParseCommandLine(
      flags, args,
      [&] { return spec.check ? spec.check(flags, *options) : Status(); },
      out, err);
}

// Parses `args` into a fresh Options (ParseCommandLine) and returns
// run(options)'s exit code, or the help's (0) or the usage error's (2).
template <typename Options, typename Run>
int ParseAndRun(const CommandFlags<Options>& spec,
                const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err, Run run) {
  Options options;
  if (std::optional<int> code =
          ParseCommandLine(spec, args, &options, out, err)) {
    return *code;
  }
  return run(options);
}

// The same without printing (--help is not expected): the options, or the
// error naming the flag and the value. For tests and callers that build
// options from words.
template <typename Options>
Result<Options> ParseArgs(const CommandFlags<Options>& spec,
                          const std::vector<std::string>& args) {
  Options options;
  FlagSet flags = spec.declare(&options);
  Result<FlagParse> parsed = flags.Parse(args);
  if (!parsed.ok()) return parsed.error();
  if (spec.check) {
    if (Status s = spec.check(flags, options); !s.ok()) return s;
  }
  return options;
}

// The --help text of a command.
template <typename Options>
std::string HelpOf(const CommandFlags<Options>& spec) {
  Options options;
  return spec.declare(&options).Help();
}

// --- Shared option groups: one meaning, one name, in every command. ---

// --seed N (0..2^64-1) into a uint64_t or optional<uint64_t>; `help` says
// what it seeds.
FlagSet::Setter SeedSetter(std::function<void(uint64_t)> store);
template <typename T>
FlagSet::Flag AddSeedFlag(FlagSet& flags, std::string help, T* target) {
  return flags
      .Custom("seed", std::move(help),
              SeedSetter([target](uint64_t v) { *target = v; }))
      .Value("N");
}

// --NAME URL: an http://host[:port]/path (http_url.h), into a std::string
// or optional<std::string>.
FlagSet::Setter HttpUrlSetter(std::function<void(const std::string&)> store);
template <typename S>
FlagSet::Flag AddHttpUrlFlag(FlagSet& flags, const char* name,
                             std::string help, S* target) {
  return flags
      .Custom(name, std::move(help),
              HttpUrlSetter([target](const std::string& url) { *target = url; }))
      .Value("URL");
}

// Retry tuning: --retry-schedule-ms D1,...,Dn (at most the contract's
// re-attempts, checked against `*max_reattempts` when set), --timeout-ms T
// (1..3600000), --jitter F (0..1).
struct RetryTargets {
  std::vector<Duration>* schedule;
  Duration* timeout;
  double* jitter;
  const int* max_reattempts;  // Read when --retry-schedule-ms is set.
};
struct RetryHelp {
  std::string schedule_default = "100,200,400,800,1600";
  std::string timeout = "per-attempt timeout";
};
void AddRetryFlags(FlagSet& flags, RetryTargets targets,
                   const RetryHelp& help = {});

// Reports: --report-json FILE, --junit FILE, --report-html FILE (each a
// non-empty file name). A null target leaves that flag out; `help` words
// what each report holds.
struct ReportTargets {
  std::optional<std::string>* report_json = nullptr;
  std::optional<std::string>* junit = nullptr;
  std::optional<std::string>* report_html = nullptr;
};
struct ReportHelp {
  std::string report_json = {};
  std::string junit = {};
  std::string report_html = {};
};
void AddReportFlags(FlagSet& flags, ReportTargets targets,
                    const ReportHelp& help);

// --contract NAME|FILE: loaded (contract_file.h) into `*target`; when
// `retry` is set, its schedule, jitter and timeout become the defaults the
// retry flags (declared after it) override.
// `given`, when not null, receives the flag's text as given.
FlagSet::Flag AddContractFlag(FlagSet& flags, std::string help,
                              Contract* target,
                              std::optional<RetryTargets> retry = {},
                              std::string* given = nullptr);
// --contract NAME|FILE kept as given (loaded later by the lower layer).
FlagSet::Flag AddContractNameFlag(FlagSet& flags, std::string help,
                                  std::optional<std::string>* target);

// --state FILE: the state database (default $HOOKSIM_STATE or
// ./.hooksim/state.db).
FlagSet::Flag AddStateFlag(FlagSet& flags, std::string help,
                           std::optional<std::string>* target);

// --concurrency C: attempts in flight at once (1..max).
FlagSet::Flag AddConcurrencyFlag(FlagSet& flags, std::string help,
                                 int64_t max, int64_t* target);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_FLAGS_H_
