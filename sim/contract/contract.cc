#include "sim/contract/contract.h"

#include "sim/contract/http_types.h"

namespace hooksim {

namespace {

// Per Rule, in its order: the id reports print and the rule in words.
struct RuleInfo {
  std::string_view id;
  std::string_view title;
};
constexpr RuleInfo kRules[kRuleCount] = {
    {"C1", "method is POST"},
    {"C2", "Content-Type is application/json"},
    {"C3", "body is JSON with \"event\" (string) and \"data\" (object)"},
    {"C4", "release body matches the release schema and is consistent"},
    {"C5", "no further attempt after a 2xx"},
    {"C6",
     "non-2xx, timeout or error is re-attempted, 6 attempts at most, "
     "exactly 6 when never delivered"},
    {"C7", "every attempt carries the same body and delivery id"},
    {"C8",
     "nothing reaches a paused hook; no delivery is lost (held "
     "deliveries go out after resume)"},
    {"expect", "the scenario's expectations"},
};

}  // namespace

std::string_view RuleId(Rule rule) {
  return kRules[static_cast<size_t>(rule)].id;
}

std::string_view RuleTitle(Rule rule) {
  return kRules[static_cast<size_t>(rule)].title;
}

Rule SchemaRuleOf(std::string_view issue) {
  return issue.substr(0, 2) == "C3" ? Rule::kC3Envelope
                                    : Rule::kC4ReleaseSchema;
}

bool Contract::ContentTypeOk(std::string_view content_type) const {
  return IsJsonContentType(content_type);
}

std::string_view GoneHandlingName(GoneHandling value) {
  switch (value) {
    case GoneHandling::kRetry:
      return "retry";
    case GoneHandling::kDisableEndpoint:
      return "disable";
  }
  return "retry";
}

std::string_view RetryAfterModeName(RetryAfterMode value) {
  switch (value) {
    case RetryAfterMode::kIgnore:
      return "ignore";
    case RetryAfterMode::kHonour:
      return "honour";
    case RetryAfterMode::kClamp:
      return "clamp";
  }
  return "ignore";
}

std::string_view SigningSchemeName(SigningScheme value) {
  switch (value) {
    case SigningScheme::kNone:
      return "none";
    case SigningScheme::kStandardWebhooks:
      return "standard-webhooks";
    case SigningScheme::kGithubSha256:
      return "github-sha256";
  }
  return "none";
}

bool Contract::HonoursRetryAfter(int status) const {
  if (retry_after == RetryAfterMode::kIgnore) return false;
  for (int s : retry_after_statuses) {
    if (s == status) return true;
  }
  return false;
}

const Contract& DivshotContract() {
  static const Contract* const contract = new Contract();
  return *contract;
}

}  // namespace hooksim
