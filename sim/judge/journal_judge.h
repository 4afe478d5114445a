// Judging a recorded journal (`hooksim judge F`): what a receiver saw,
// read back from its journal file, judged by the contract's rules through
// the one judge (contract_judge.h: RequestBreach, CountAttempts,
// JudgeAttempts), as `hooksim conform` judges what its receiver saw.
//
// Rows, in this order (rule: contract):
//   method (C1)          every request is the profile's method
//   content-type (C2)    every request has Content-Type: application/json
//   body-shape (C3)      every body is JSON with event (string), data
//   release-schema (C4)  every release body matches the release schema
//   no-retry-after-success (C5)  no attempt of a delivery after its 2xx
//   attempts (C6)        every delivery that never got a 2xx (nor a 410 the
//                        profile stops on) has exactly max_attempts; none
//                        has more; none goes on after a stopping 410
//   body-unchanged (C7)  every attempt of a delivery id carries one body
//   signed (signing)     every request the receiver checked was validly
//                        signed (could-not-judge when none was checked)
// Deliveries are told apart by the id header, else by the body's hash (as
// the receiver does), per receiver. Requests refused before the behaviour
// (400, 408, 413, ...) carry no body: they are counted, not judged by
// C1-C4, and make the attempts row could-not-judge when they carry no
// delivery id (which delivery they retried cannot be told).
// A journal recorded while the sender was still retrying shows deliveries
// short of their attempts: judge a journal once the sender has finished.
// Thread: pure functions.
#ifndef HOOKSIM_SIM_JUDGE_JOURNAL_JUDGE_H_
#define HOOKSIM_SIM_JUDGE_JOURNAL_JUDGE_H_

#include <string>
#include <string_view>
#include <vector>

#include "mock-receivers/journal.h"
#include "sim/contract/contract.h"
#include "sim/judge/contract_judge.h"

namespace hooksim {

// A journal entry as the judge reads it; `offset` is subtracted from its
// time (the sender's start, or zero). Also used by `hooksim conform`.
ObservedRequest ObserveEntry(const JournalEntry& entry, Duration offset);

// One entry of a journal file and the receiver that recorded it.
struct RecordedEntry {
  std::string receiver;
  JournalEntry entry;
};

enum class JournalVerdict { kPass, kFail, kCouldNotJudge };
// "pass", "fail", "could-not-judge".
std::string_view JournalVerdictName(JournalVerdict verdict);

struct JournalRow {
  std::string rule;      // "method", "attempts", ...
  std::string contract;  // "C1", "C6", "signing".
  JournalVerdict verdict = JournalVerdict::kPass;
  std::string expected;
  std::string seen;
  std::string message;  // One line, in words.
};

struct JournalJudgement {
  std::string profile;
  size_t requests = 0;    // Entries judged (refused ones included).
  size_t refused = 0;     // Refused before the behaviour.
  size_t deliveries = 0;  // Distinct (receiver, delivery key).
  std::vector<JournalRow> rows;
  // No row failed (could-not-judge is not a failure).
  bool passed() const;
};

JournalJudgement JudgeJournal(const std::vector<RecordedEntry>& entries,
                              const Contract& contract);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_JUDGE_JOURNAL_JUDGE_H_
