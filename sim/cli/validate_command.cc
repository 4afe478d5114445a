#include "sim/cli/validate_command.h"

#include <exception>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/random.h"
#include "sim/cli/exit_code.h"
#include "sim/contract/payload_validator.h"

namespace hooksim {
namespace {

constexpr size_t kReadChunkBytes = 1 << 16;

struct Payload {
  size_t line;  // 1-based line the payload starts on.
  std::string_view text;
};

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
         c == '\v';
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  return text;
}

// Reads all of `in` into *text, up to limit bytes. False when the input is
// longer than limit.
bool ReadBounded(std::istream& in, size_t limit, std::string* text) {
  std::vector<char> chunk(kReadChunkBytes);
  // Bounded: each pass adds a chunk, and text stops growing past limit.
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const size_t got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    if (text->size() + got > limit) return false;
    text->append(chunk.data(), got);
  }
  return true;
}

// The whole input as one payload starting where its first non-blank
// character is. The text keeps its leading blank lines so that parse error
// positions count lines of the input itself.
Payload WholeInput(std::string_view text, std::string_view trimmed) {
  const size_t start = static_cast<size_t>(trimmed.data() - text.data());
  size_t line = 1;
  for (size_t i = 0; i < start; ++i) line += text[i] == '\n';
  return Payload{line, text};
}

// Splits the input into payloads: the whole of it when it is one JSON value,
// otherwise its non-blank lines. One exception: input whose first non-blank
// line is a lone "{" or "[" is a pretty-printed document even when it does
// not parse, so it gives one parse error rather than one per line.
std::vector<Payload> SplitPayloads(std::string_view text) {
  std::vector<Payload> payloads;
  const std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return payloads;
  if (nlohmann::json::accept(trimmed)) {
    payloads.push_back(WholeInput(text, trimmed));
    return payloads;
  }
  const std::string_view first_line =
      Trim(trimmed.substr(0, trimmed.find('\n')));
  if (first_line == "{" || first_line == "[") {
    payloads.push_back(WholeInput(text, trimmed));
    return payloads;
  }
  size_t line = 1;
  size_t begin = 0;
  // Bounded by the input size, itself bounded by kMaxValidateInputBytes.
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view content = Trim(text.substr(begin, end - begin));
    if (!content.empty()) payloads.push_back(Payload{line, content});
    ++line;
    begin = end + 1;
  }
  return payloads;
}

int Validate(std::istream& in, const std::string& source_name,
             std::ostream& out, std::ostream& err) {
  std::string text;
  if (!ReadBounded(in, kMaxValidateInputBytes, &text)) {
    err << "hooksim validate: " << source_name << ": input is larger than "
        << (kMaxValidateInputBytes >> 20)
        << " MiB; split it into smaller files\n";
    return ToInt(ExitCode::kUsage);
  }
  if (in.bad()) {
    err << "hooksim validate: " << source_name << ": could not read input\n";
    return ToInt(ExitCode::kUsage);
  }
  // JSON text never holds a NUL byte: such input is binary (an
  // executable, an image, a compressed file), not payloads; one line for
  // it, not one parse error per stretch of bytes.
  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    err << "hooksim validate: " << source_name
        << ": not a text file (a NUL byte at offset " << nul
        << "); give JSON payloads, one per line or one document\n";
    return ToInt(ExitCode::kUsage);
  }
  const std::vector<Payload> payloads = SplitPayloads(text);
  if (payloads.empty()) {
    err << "hooksim validate: " << source_name
        << ": no payload: the input is empty or blank\n";
    return ToInt(ExitCode::kUsage);
  }
  Result<std::shared_ptr<const PayloadValidator>> validator =
      PayloadValidator::Bundled();
  if (!validator.ok()) {
    err << "hooksim validate: cannot load the bundled schemas: "
        << validator.error().ToString() << "\n";
    return ToInt(ExitCode::kUsage);
  }
  size_t valid = 0;
  for (const Payload& payload : payloads) {
    const PayloadVerdict verdict = (*validator)->Validate(payload.text);
    if (verdict.valid()) {
      ++valid;
      continue;
    }
    for (const PayloadIssue& issue : verdict.issues) {
      out << source_name << ":" << payload.line << ": " << RuleId(issue.rule) << " "
          << (issue.pointer.empty() ? "/" : issue.pointer) << ": "
          << issue.message << "\n";
    }
  }
  out << payloads.size() << (payloads.size() == 1 ? " payload: " : " payloads: ")
      << valid << " valid, "
      << payloads.size() - valid << " invalid\n";
  return ToInt(valid == payloads.size() ? ExitCode::kOk : ExitCode::kFailed);
}

}  // namespace

int RunValidate(std::istream& in, const std::string& source_name,
                std::ostream& out, std::ostream& err) {
  try {
    return Validate(in, source_name, out, err);
  } catch (const std::exception& e) {
    err << "hooksim validate: " << source_name << ": " << e.what() << "\n";
  } catch (...) {
    err << "hooksim validate: " << source_name << ": unexpected error\n";
  }
  return ToInt(ExitCode::kUsage);
}

int RunEvents(int64_t count, uint64_t seed, const ReleaseEventOptions& options,
              std::ostream& out) {
  if (count < 0 || count > kMaxEventCount) return ToInt(ExitCode::kUsage);
  if (Status s = ValidateReleaseEventOptions(options); !s.ok()) {
    return ToInt(ExitCodeFor(s));
  }
  try {
    ReleaseEventGenerator generator(options, Random(seed));
    for (int64_t i = 0; i < count && out; ++i) {
      out << generator.Next().body << '\n';
    }
    out.flush();
  } catch (const std::exception&) {
    return ToInt(ExitCode::kFailed);
  }
  return ToInt(out ? ExitCode::kOk : ExitCode::kFailed);
}

}  // namespace hooksim
