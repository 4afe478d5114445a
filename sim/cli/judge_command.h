// `hooksim judge FILE`: judges a journal recorded by `hooksim receiver
// --journal-file FILE` (mock-receivers/journal_file.h) by a contract
// profile, with the judge `conform` uses (sim/judge/journal_judge.h), so a
// CI pipeline can run the sender in one job and judge in another.
//
// Reads the file's JSON lines (entries, and amendment lines
// {"amend": INDEX, "abandoned": true}); blank lines are skipped. Prints one
// line per rule (verdict, rule, contract rule, message) and a summary;
// --junit FILE writes one testcase per rule, --report-json FILE the rows
// and counts as JSON.
// Exit codes: 0 every rule passed (or could not be judged), 1 a rule
// failed, 2 bad usage, an unreadable or empty file, or a bad line (the
// message names FILE:LINE and the field), or a report file that cannot be
// written.
// Thread: the calling thread.
#ifndef HOOKSIM_SIM_CLI_JUDGE_COMMAND_H_
#define HOOKSIM_SIM_CLI_JUDGE_COMMAND_H_

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "sim/base/result.h"
#include "sim/judge/journal_judge.h"

namespace hooksim {

// The entries of a journal file's text (`name` labels errors), amendments
// applied; an error names "NAME:LINE: ..." .
Result<std::vector<RecordedEntry>> ReadJournalLines(std::istream& in,
                                                    const std::string& name);

// `args` are the words after "judge".
int RunJudgeCli(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err);

std::string JudgeHelp();

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_JUDGE_COMMAND_H_
