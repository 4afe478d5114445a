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
  class Flag {
   public:
    Flag& Default(std::string text);

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
  // Any text (may be empty).
  Flag Text(const char* name, std::string help, std::string* target);
  Flag Text(const char* name, std::string help,
            std::optional<std::string>* target);
  // A file name: not empty.
  Flag File(const char* name, std::string help,
            std::optional<std::string>* target);
  Flag File(const char* name, std::string help, std::string* target);
  // Decimal digits only in [min, max] (no sign, space or fraction).
  Flag Integer(const char* name, std::string help, int64_t min, int64_t max,
               int64_t* target);
  Flag Integer(const char* name, std::string help, int64_t min, int64_t max,
               int* target);
  Flag Integer(const char* name, std::string help, int64_t min, int64_t max,
               size_t* target);
  Flag Integer(const char* name, std::string help, int64_t min, int64_t max,
               std::optional<int64_t>* target);
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
// `err`; returns the usage exit code (2).
int UsageError(std::string_view command, const Error& error, std::ostream& err);

// Parses `args` with `flags`: prints the help (returns 0) or the usage
// error (returns 2) and returns nullopt to go on.
std::optional<int> ParseOrExit(FlagSet& flags,
                               const std::vector<std::string>& args,
                               std::ostream& out, std::ostream& err);

// --- Shared option groups: one meaning, one name, in every command. ---

// --seed N (0..2^64-1). `help` says what it seeds.
FlagSet::Flag AddSeedFlag(FlagSet& flags, std::string help, uint64_t* target);
FlagSet::Flag AddSeedFlag(FlagSet& flags, std::string help,
                          std::optional<uint64_t>* target);

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
FlagSet::Flag AddContractFlag(FlagSet& flags, std::string help,
                              Contract* target,
                              std::optional<RetryTargets> retry = {});
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
