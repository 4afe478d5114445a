// Receiver behaviours: the pure decision of how a mock receiver answers.
//
// A behaviour is data (BehaviorSpec, parsed from JSON by ParseBehavior in
// behavior_parser.h) plus a decision function. It keeps no state of its
// own: everything that changes between requests (how many times this
// delivery has been seen, how many requests this receiver has seen) arrives
// in DecisionContext, and randomness comes from the caller's Random. The
// same behaviour object is used by the virtual world and by the HTTP server.
// Thread: Decide is const and safe to call concurrently with distinct Random
// objects.
#ifndef HOOKSIM_MOCK_RECEIVERS_BEHAVIOR_H_
#define HOOKSIM_MOCK_RECEIVERS_BEHAVIOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mock-receivers/signature_check.h"
#include "sim/base/random.h"
#include "sim/base/time.h"
#include "sim/contract/contract.h"
#include "sim/contract/http_types.h"

namespace hooksim {

enum class Fault {
  kNone,
  kHang,     // Never answer; the sender's timeout fires.
  kReset,    // Reset the connection (RST).
  kEmpty,    // Close the connection without any answer.
  kGarbage,  // Send bytes that are not HTTP, then close.
  kDribble,  // Answer 200, but send the answer's bytes slowly, spread over
             // the reply's latency: a success when the latency is below the
             // sender's timeout, a timeout otherwise.
};

std::string_view FaultName(Fault fault);  // "none", "hang", "reset", ...
std::optional<Fault> ParseFault(std::string_view name);

// Where 3xx answers point. A webhook path on purpose: a sender that follows
// the redirect shows up in the journal as an extra request to this target.
inline constexpr char kRedirectLocation[] =
    "/hooksim-redirect-not-to-be-followed";

// One way of answering: an HTTP status or a fault.
struct Answer {
  int status = 200;  // Used when fault is kNone or kDribble (always 200).
  Fault fault = Fault::kNone;

  bool operator==(const Answer&) const = default;
  // A 2xx the receiver gives (a dribbled 200 included): whether the sender
  // sees it depends on the latency against its timeout.
  bool IsSuccess() const {
    return (fault == Fault::kNone || fault == Fault::kDribble) &&
           status >= 200 && status < 300;
  }
};

// "200", "hang", ...
std::string DescribeAnswer(const Answer& answer);

struct Reply {
  Answer answer;
  Duration latency{0};  // Time before the answer is sent (ignored for hang).
  // What the signature check found (kNotChecked when the behaviour checks
  // none, or an outage window answered instead).
  SignatureVerdict signature = SignatureVerdict::kNotChecked;
  // The Retry-After header to send ("" none); points into the behaviour's
  // spec, which outlives every reply.
  std::string_view retry_after;
};

struct DecisionContext {
  // 1-based: requests of this delivery this receiver has seen, this one
  // included (counted since the last reset).
  int delivery_attempt = 1;
  // 0-based index of this request among all requests of this receiver.
  uint64_t request_index = 0;
  // The Unix time of the run timeline's zero, for signature timestamps.
  Duration unix_origin = std::chrono::seconds(kDefaultStartUnixSeconds);
};

// --- The data of a behaviour --------------------------------------------

struct FixedAnswer {
  Answer answer;
};

enum class SequenceScope { kDelivery, kReceiver };
enum class SequenceEnd { kRepeatLast, kCycle };

struct SequenceAnswer {
  std::vector<Answer> answers;  // Never empty.
  SequenceScope per = SequenceScope::kDelivery;
  SequenceEnd then = SequenceEnd::kRepeatLast;
};

struct WeightedAnswer {
  // Answers with probabilities summing to 1, in a fixed (sorted) order so
  // the same seed picks the same answer everywhere.
  std::vector<std::pair<Answer, double>> choices;
};

struct LatencyFixed {
  Duration value{0};
};
struct LatencyUniform {
  Duration lo{0};
  Duration hi{0};
};
struct LatencyLogNormal {
  Duration median{0};
  double sigma = 0.5;
  Duration cap{0};  // Draws above cap are cut to cap.
};
using LatencySpec =
    std::variant<LatencyFixed, LatencyUniform, LatencyLogNormal>;

// During [from, to) of the run timeline the receiver answers `answer`.
struct OutageWindow {
  TimePoint from;
  TimePoint to;
  Answer answer;
};

struct BehaviorSpec {
  std::variant<FixedAnswer, SequenceAnswer, WeightedAnswer> answers =
      FixedAnswer{};
  LatencySpec latency = LatencyFixed{};
  std::vector<OutageWindow> outages;  // First matching window wins.
  // "whsec_..." or empty: when set, a request whose Standard Webhooks
  // signature is missing, bad or older/newer than kSignatureTolerance is
  // answered 401 (unless an outage window answers first). verify_key is
  // the decoded secret (set by the parser along with verify_secret).
  std::string verify_secret;
  std::string verify_key;
  // How requests are verified when verify_secret is set: Standard Webhooks
  // (above), or kGithubSha256: X-Hub-Signature-256 with the secret text
  // itself as key (never stale). Set by `hooksim conform` under a profile.
  SigningScheme verify_scheme = SigningScheme::kStandardWebhooks;
  // "headers": {"Retry-After": "2"}: sent, verbatim, with every status
  // answer of the behaviour (not with faults, outage windows or a refused
  // signature); "" for none. Only Retry-After so far (issue 15 extends it).
  std::string retry_after;
};

// --- The decision ---------------------------------------------------------

class ReceiverBehavior {
 public:
  explicit ReceiverBehavior(BehaviorSpec spec);

  // Decides how to answer one request. Draws from rng only for weighted
  // answers and random latencies, always in the same order.
  Reply Decide(const HttpRequest& request, const DecisionContext& context,
               TimePoint now, Random& rng) const;

  const BehaviorSpec& spec() const { return spec_; }

  // True when Decide never draws from rng (the answer depends only on the
  // delivery attempt and the time). The runner uses this to derive expected
  // attempt counts for scenarios that state none.
  bool IsDeterministic() const;

 private:
  BehaviorSpec spec_;
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_BEHAVIOR_H_
