// Strict number parsing for command-line values: the whole text must be
// the number (no spaces, no trailing characters). Callers check ranges and
// word their own errors (naming the flag and the value).
#ifndef HOOKSIM_SIM_BASE_PARSE_NUMBER_H_
#define HOOKSIM_SIM_BASE_PARSE_NUMBER_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace hooksim {

// Decimal digits only: no sign (Boost's lexical_cast would wrap "-5" around
// to 2^64-5), no overflow.
std::optional<uint64_t> ParseUint64(std::string_view text);

// A finite decimal number ("0.001", "1e-3"); nan and inf are rejected.
std::optional<double> ParseFiniteDouble(std::string_view text);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_PARSE_NUMBER_H_
