// The logic of the CLI subcommands `hooksim validate [FILE|-]` and
// `hooksim events`, separated from argument parsing so it can be tested
// with string streams.
//
// Errors: both functions report through their exit code and streams; they
// never throw (exceptions from nlohmann/json and valijson are caught inside).
// Thread: no shared state; safe to call from several threads with distinct
// streams.
#ifndef HOOKSIM_SIM_CLI_VALIDATE_COMMAND_H_
#define HOOKSIM_SIM_CLI_VALIDATE_COMMAND_H_

#include <cstdint>
#include <iosfwd>
#include <string>

#include "sim/contract/release_events.h"

namespace hooksim {

// Inputs larger than this are refused (exit 2) rather than read whole.
inline constexpr size_t kMaxValidateInputBytes = size_t{64} << 20;  // 64 MiB.
// Most events one `hooksim events` run may print.
inline constexpr int64_t kMaxEventCount = 10'000'000;

// Checks webhook payloads read from `in` against rules C3 and C4 with the
// bundled schemas (PayloadValidator::Bundled()).
//
// Input is one JSON document (possibly pretty-printed over several lines)
// when the whole input parses as one JSON value; otherwise it is JSON lines,
// one payload per line, blank lines skipped. source_name ("-" or a file
// name) only labels the output.
//
// For each issue of each invalid payload, prints to `out`
//   <source>:<line>: <rule> <pointer, or "/" for the root>: <message>
// where <line> is the line the payload starts on (1-based); then the summary
//   N payloads: V valid, I invalid
//
// Returns 0 when every payload is valid, 1 when any is invalid, and 2 with
// a message on `err` when there was no payload at all (empty or blank
// input), the input is larger than kMaxValidateInputBytes, it could not be
// read, or the bundled schemas could not be loaded.
int RunValidate(std::istream& in, const std::string& source_name,
                std::ostream& out, std::ostream& err);

// Prints `count` release event bodies from ReleaseEventGenerator(options,
// Random(seed)) to `out`, one compact JSON document per line. The same
// arguments print byte-identical output.
//
// Preconditions, checked by the caller, which prints the reason and exits
// 2: 0 <= count <= kMaxEventCount and ValidateReleaseEventOptions(options)
// passes. When they do not hold, RunEvents prints nothing and returns 2.
// Returns 1 when writing to `out` fails, otherwise 0.
int RunEvents(int64_t count, uint64_t seed, const ReleaseEventOptions& options,
              std::ostream& out);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_VALIDATE_COMMAND_H_
