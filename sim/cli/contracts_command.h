// `hooksim contracts`: the built-in contract profiles.
//
//   contracts list           the built-in profiles as a JSON array, each in
//                            the contract file format
//   contracts show NAME|FILE one profile as JSON in the contract file format
//                            (a FILE is checked and printed normalised)
//
// Exit codes: 0 printed; 2 bad usage, an unknown name (the message lists
// the known ones) or a bad contract file (the message names the pointer).
// Thread: the calling thread.
#ifndef HOOKSIM_SIM_CLI_CONTRACTS_COMMAND_H_
#define HOOKSIM_SIM_CLI_CONTRACTS_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace hooksim {

// `args` are the words after "contracts".
int RunContractsCommand(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err);

std::string ContractsHelp();

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_CONTRACTS_COMMAND_H_
