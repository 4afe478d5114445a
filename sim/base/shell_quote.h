// Quoting one word for /bin/sh, for commands hooksim prints (reproduce
// lines) or runs (bench --vs-engine).
// Errors: none. Thread: pure function.
#ifndef HOOKSIM_SIM_BASE_SHELL_QUOTE_H_
#define HOOKSIM_SIM_BASE_SHELL_QUOTE_H_

#include <string>

namespace hooksim {

// `s` as is when it holds only characters the shell takes literally
// (letters, digits, / . _ - + : , =), else in single quotes (a ' inside
// written as '\''). "" becomes ''.
std::string ShellQuote(const std::string& s);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_SHELL_QUOTE_H_
