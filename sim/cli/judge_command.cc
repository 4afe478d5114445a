#include "sim/cli/judge_command.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "mock-receivers/journal_json.h"
#include "sim/cli/exit_code.h"
#include "sim/cli/flags.h"
#include "sim/contract/contract.h"
#include "sim/report/junit_writer.h"

namespace hooksim {
namespace {

using nlohmann::json;

constexpr char kPrefix[] = "hooksim judge: ";
// A journal line longer than this is refused rather than parsed.
constexpr size_t kMaxLineBytes = size_t{16} << 20;

constexpr const char* kJudgeUsage =
    "usage: hooksim judge FILE [--contract NAME|FILE] [--junit FILE]\n"
    "                          [--report-json FILE]\n"
    "\n"
    "Judges a journal recorded by `hooksim receiver --journal-file FILE` by\n"
    "a contract profile (default divshot), with the rules `conform` judges\n"
    "by: method (C1), content-type (C2), body-shape (C3), release-schema\n"
    "(C4), no-retry-after-success (C5), attempts (C6), body-unchanged (C7),\n"
    "signed. Deliveries are told apart by X-Hooksim-Delivery, else by the\n"
    "body's hash. Judge a journal once the sender has finished: a delivery\n"
    "still being retried looks short of its attempts.\n"
    "Exit codes: 0 passed, 1 a rule failed, 2 bad usage or unreadable input\n"
    "(a bad line is named FILE:LINE).\n";

struct JudgeOptions {
  std::vector<std::string> inputs;
  Contract contract;
  std::optional<std::string> junit;
  std::optional<std::string> report_json;
};

FlagSet JudgeFlagSet(JudgeOptions* o) {
  FlagSet flags("judge", kJudgeUsage);
  flags.Positionals(&o->inputs);
  AddContractFlag(flags,
                  "NAME|FILE: the contract profile to judge by (default "
                  "divshot)",
                  &o->contract);
  AddReportFlags(flags, {&o->report_json, &o->junit, nullptr},
                 {.report_json = "write the verdict, counts and rows as JSON "
                                 "to FILE",
                  .junit = "write JUnit XML to FILE (one testcase per rule)"});
  flags.PositionalHint("(give the journal FILE)");
  return flags;
}

Status CheckJudgeFlags(const FlagSet&, JudgeOptions& o) {
  if (o.inputs.size() != 1) {
    return Status::InvalidArgument(
        "give one journal FILE (written by hooksim receiver --journal-file), "
        "got " + std::to_string(o.inputs.size()));
  }
  return Status::Ok();
}

const CommandFlags<JudgeOptions> kJudgeFlags{JudgeFlagSet, CheckJudgeFlags};

JUnitSuite JudgeSuite(const JournalJudgement& j, const std::string& file) {
  JUnitSuite suite;
  suite.name = "hooksim judge " + file;
  for (const JournalRow& row : j.rows) {
    JUnitCase c;
    c.classname = "judge." + j.profile;
    c.name = row.rule + " (" + row.contract + ")";
    if (row.verdict == JournalVerdict::kFail) {
      c.status = JUnitCase::Status::kFailed;
      c.message = row.message;
      c.details = "expected: " + row.expected + "\nseen: " + row.seen;
    } else if (row.verdict == JournalVerdict::kCouldNotJudge) {
      c.status = JUnitCase::Status::kSkipped;
      c.message = row.message;
    }
    c.system_out = row.message;
    suite.cases.push_back(std::move(c));
  }
  return suite;
}

json JudgeJson(const JournalJudgement& j, const std::string& file) {
  json rows = json::array();
  for (const JournalRow& row : j.rows) {
    rows.push_back(json{{"rule", row.rule},
                        {"contract", row.contract},
                        {"verdict", std::string(JournalVerdictName(row.verdict))},
                        {"expected", row.expected},
                        {"seen", row.seen},
                        {"message", row.message}});
  }
  return json{{"journal", file},
              {"profile", j.profile},
              {"passed", j.passed()},
              {"requests", j.requests},
              {"refused", j.refused},
              {"deliveries", j.deliveries},
              {"rows", std::move(rows)}};
}

int RunJudge(const JudgeOptions& o, std::ostream& out, std::ostream& err) {
  const std::string& file = o.inputs[0];
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    err << kPrefix << file << ": cannot open the file\n";
    return ToInt(ExitCode::kUsage);
  }
  Result<std::vector<RecordedEntry>> entries = ReadJournalLines(in, file);
  if (!entries.ok()) {
    err << kPrefix << entries.error().message() << "\n";
    return ToInt(ExitCode::kUsage);
  }
  if (entries->empty()) {
    err << kPrefix << file << ": no journal entry to judge\n";
    return ToInt(ExitCode::kUsage);
  }
  const JournalJudgement j = JudgeJournal(*entries, o.contract);
  for (const JournalRow& row : j.rows) {
    out << JournalVerdictName(row.verdict) << "  " << row.rule << " ("
        << row.contract << "): " << row.message << "\n";
  }
  out << (j.passed() ? "PASS" : "FAIL") << "  " << file << ": " << j.requests
      << (j.requests == 1 ? " request (" : " requests (") << j.refused
      << " refused), " << j.deliveries
      << (j.deliveries == 1 ? " delivery" : " deliveries")
      << ", judged by profile " << j.profile << "\n";
  if (o.junit) {
    std::ofstream f(*o.junit, std::ios::trunc);
    if (f) WriteJUnit({JudgeSuite(j, file)}, f);
    if (!f) {
      err << kPrefix << *o.junit << ": cannot write the file\n";
      return ToInt(ExitCode::kUsage);
    }
  }
  if (o.report_json) {
    std::ofstream f(*o.report_json, std::ios::trunc);
    if (f) f << JudgeJson(j, file).dump(2) << "\n";
    if (!f) {
      err << kPrefix << *o.report_json << ": cannot write the file\n";
      return ToInt(ExitCode::kUsage);
    }
  }
  return ToInt(j.passed() ? ExitCode::kOk : ExitCode::kFailed);
}

}  // namespace

Result<std::vector<RecordedEntry>> ReadJournalLines(std::istream& in,
                                                    const std::string& name) {
  std::vector<RecordedEntry> out;
  // (receiver, index) -> position in out, for amendments.
  std::map<std::pair<std::string, uint64_t>, size_t> where;
  std::string line;
  size_t line_no = 0;
  // Bounded by the input.
  while (std::getline(in, line)) {
    ++line_no;
    const std::string at = name + ":" + std::to_string(line_no) + ": ";
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.size() > kMaxLineBytes) {
      return Status::InvalidArgument(at + "line longer than " +
                                     std::to_string(kMaxLineBytes) + " bytes");
    }
    json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      return Status::InvalidArgument(
          at + "not JSON (a line cut off by a crash, or not a journal file)");
    }
    std::string receiver;
    if (doc.is_object() && doc.contains("receiver") &&
        doc["receiver"].is_string()) {
      receiver = doc["receiver"].get<std::string>();
    }
    if (doc.is_object() && doc.contains("amend")) {
      if (!doc["amend"].is_number_unsigned()) {
        return Status::InvalidArgument(at + "/amend: expected an index");
      }
      auto it = where.find({receiver, doc["amend"].get<uint64_t>()});
      if (it != where.end() && doc.value("abandoned", false)) {
        out[it->second].entry.abandoned = true;
      }
      continue;
    }
    Result<JournalEntry> entry = JournalEntryFromJson(doc);
    if (!entry.ok()) {
      return Status::InvalidArgument(at + entry.error().message());
    }
    where[{receiver, entry->index}] = out.size();
    out.push_back(RecordedEntry{std::move(receiver), std::move(*entry)});
  }
  if (in.bad()) return Status::IoError(name + ": read failed");
  return out;
}

std::string JudgeHelp() { return HelpOf(kJudgeFlags); }

int RunJudgeCli(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  return ParseAndRun(kJudgeFlags, args, out, err,
                     [&](const JudgeOptions& o) { return RunJudge(o, out, err); });
}

}  // namespace hooksim
