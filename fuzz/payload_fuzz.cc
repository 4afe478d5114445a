// libFuzzer target: payload validation (sim/contract/payload_validator.h), the
// bundled schemas, bytes in as a webhook body.
//
// Checks: Validate never crashes or throws; it gives ValidateFully's verdict
// (the fast path agrees with the full one); every issue is C3 or C4; and,
// against an independent reading of the body with nlohmann/json, a body
// that is not a JSON object with "event" (string) and "data" (object) is
// never valid, and a valid body's event is the one in the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sim/contract/payload_validator.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

const hooksim::PayloadValidator& Validator() {
  static const std::shared_ptr<const hooksim::PayloadValidator> validator =
      [] {
        auto v = hooksim::PayloadValidator::Bundled();
        Check(v.ok());
        return *v;
      }();
  return *validator;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const hooksim::PayloadVerdict verdict = Validator().Validate(body);
  // The fast path for plain valid bodies agrees with the full one.
  const hooksim::PayloadVerdict full = Validator().ValidateFully(body);
  Check(verdict.valid() == full.valid());
  Check(verdict.event == full.event);
  Check(verdict.issues.size() == full.issues.size());
  for (size_t i = 0; i < full.issues.size(); ++i) {
    Check(verdict.issues[i].rule == full.issues[i].rule);
    Check(verdict.issues[i].pointer == full.issues[i].pointer);
    Check(verdict.issues[i].message == full.issues[i].message);
  }
  for (const hooksim::PayloadIssue& issue : verdict.issues) {
    Check(issue.rule == hooksim::Rule::kC3Envelope ||
          issue.rule == hooksim::Rule::kC4ReleaseSchema);
    Check(!issue.message.empty());
  }
  Check(verdict.valid() == verdict.FirstIssue().empty());
  if (!verdict.valid()) return 0;
  const nlohmann::json doc = nlohmann::json::parse(
      body, /*cb=*/nullptr, /*allow_exceptions=*/false);
  Check(!doc.is_discarded());
  Check(doc.is_object());
  Check(doc.contains("event") && doc["event"].is_string());
  Check(doc.contains("data") && doc["data"].is_object());
  Check(doc["event"].get<std::string>() == verdict.event);
  return 0;
}
