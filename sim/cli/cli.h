// The hooksim command line: parses the subcommand and its flags with
// Boost.Program_options and dispatches. Exceptions from option parsing are
// caught here and turned into a message and exit code 2.
#ifndef HOOKSIM_SIM_CLI_CLI_H_
#define HOOKSIM_SIM_CLI_CLI_H_

#include <istream>
#include <ostream>

namespace hooksim {

// Runs `hooksim ARGS...`; returns the process exit code.
int RunCli(int argc, const char* const* argv, std::istream& in,
           std::ostream& out, std::ostream& err);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_CLI_H_
