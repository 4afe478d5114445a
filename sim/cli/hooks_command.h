// `hooksim hooks`: manage registered hooks in the state database
// (state_store.h), like the spec's `hooks:add`, list, remove, pause and
// resume.
//
//   hooks add URL [--secret whsec_...]   prints the new hook's id
//   hooks list [--json] [--all]          id, state, created, counts, URL
//   hooks pause ID | resume ID | remove ID
// Every subcommand takes --state FILE (else $HOOKSIM_STATE, else
// ./.hooksim/state.db, its directory created when missing).
//
// Exit codes: 0 done; 1 the hook is already in that state (pause a paused
// hook, resume an active one) or the state database failed; 2 bad usage:
// unknown subcommand or flag, a bad URL or secret, an unknown id, a state
// file that cannot be opened.
// Errors: reported on `err`, never thrown (Boost.Program_options errors
// propagate to the CLI's edge, which turns them into exit code 2).
// Thread: the calling thread.
#ifndef HOOKSIM_SIM_CLI_HOOKS_COMMAND_H_
#define HOOKSIM_SIM_CLI_HOOKS_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace hooksim {

// `args` are the words after "hooks".
int RunHooksCommand(const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err);

std::string HooksHelp();

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_HOOKS_COMMAND_H_
