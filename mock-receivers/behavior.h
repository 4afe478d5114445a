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
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mock-receivers/route_match.h"
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

// A header an answer sends ("Retry-After": "2"). The parser refuses names
// that are not HTTP tokens, values with CR, LF or NUL, and the framing
// headers Content-Length and Transfer-Encoding (the server frames).
struct AnswerHeader {
  std::string name;
  std::string value;
  bool operator==(const AnswerHeader&) const = default;
};

// How an answer's body was given.
enum class AnswerBodyKind {
  kDefault,  // None given: the server's own ({"ok":true}, {"status":N}).
  kJson,     // A JSON value, sent as its compact text (application/json).
  kText,     // A JSON string, sent as its text (text/plain; charset=utf-8).
};

// The headers and body an answer carries beyond its status. Immutable once
// built and shared by every copy of the answer, so answers stay small and
// a reply keeps its headers alive even when the behaviour is replaced.
struct AnswerExtras {
  std::vector<AnswerHeader> headers;  // In the order given; names unique
                                      // (case-insensitively).
  AnswerBodyKind body_kind = AnswerBodyKind::kDefault;
  std::string body;  // The bytes sent when body_kind is not kDefault.

  // The value of header `name` (case-insensitive); "" when absent.
  std::string_view FindHeader(std::string_view name) const;
  bool operator==(const AnswerExtras&) const = default;
};

// One way of answering: an HTTP status or a fault.
struct Answer {
  int status = 200;  // Used when fault is kNone or kDribble (always 200).
  Fault fault = Fault::kNone;
  // Headers and body sent with a status answer (null: none). Never set on
  // a fault by the parser; ignored for faults.
  std::shared_ptr<const AnswerExtras> extras = nullptr;

  // Same status, fault and extras (compared by value).
  bool operator==(const Answer& other) const;
  // The Retry-After header this answer sends ("" none).
  std::string_view RetryAfter() const;
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
  // The scheme it checked by (meaningful when signature is not kNotChecked).
  SignatureScheme signature_scheme = SignatureScheme::kStandardWebhooks;
};

struct DecisionContext {
  // 1-based: requests of this delivery this receiver has seen, this one
  // included (counted since the last reset).
  int delivery_attempt = 1;
  // 0-based index of this request among all requests of this receiver.
  uint64_t request_index = 0;
  // The Unix time of the run timeline's zero, for signature timestamps.
  Duration unix_origin = std::chrono::seconds(kDefaultStartUnixSeconds);
  // When set, signature timestamps are judged against this Unix time (the
  // wall clock of a receiver real senders sign for, whatever its time
  // scale) instead of unix_origin + now.
  std::optional<Duration> signature_unix_now;
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
  // Answers with probabilities summing to 1, in a fixed order so the same
  // seed picks the same answer everywhere: sorted by key for the object
  // form, as listed for the list form.
  std::vector<std::pair<Answer, double>> choices;
  // Given as a list ([{"weight": 0.3, "status": 429, ...}]), the form that
  // lets answers carry headers and a body.
  bool listed = false;
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

struct ReceiverRoute;

struct BehaviorSpec {
  // Routes, in order (first match wins): when not empty, every request is
  // answered by the behaviour of the first route whose match it meets
  // (routes.h), or 404 when none does, and the answer fields below are
  // unused (the parser leaves them at their defaults). Empty: the plain
  // form, one behaviour for every request (the route "default").
  std::vector<ReceiverRoute> routes;
  std::variant<FixedAnswer, SequenceAnswer, WeightedAnswer> answers =
      FixedAnswer{};
  LatencySpec latency = LatencyFixed{};
  std::vector<OutageWindow> outages;  // First matching window wins.
  // The secret, or empty: when set, a request whose signature (by
  // verify_scheme) is missing, bad or, for timestamped schemes, outside
  // the scheme's tolerance is answered 401 (unless an outage window
  // answers first). verify_key is the HMAC key (set by the parser along
  // with verify_secret): the decoded "whsec_" secret for Standard
  // Webhooks, the secret text itself for the other schemes.
  std::string verify_secret;
  std::string verify_key;
  SignatureScheme verify_scheme = SignatureScheme::kStandardWebhooks;
};

// One route of a receiver: which requests it takes, and how it answers
// them. Its behaviour has no routes of its own.
struct ReceiverRoute {
  std::string name;  // Unique within the receiver.
  RouteMatch match;
  // The "default" route of the routes form: matches every request, comes
  // last, written back as "default".
  bool is_default = false;
  BehaviorSpec behavior;
};

// Adds header name: value to every status answer of the answer source
// (fixed, sequence, weighted; not faults, outage windows), replacing one
// of the same name (case-insensitive). For callers building specs in code.
void AddHeaderToStatusAnswers(BehaviorSpec& spec, const std::string& name,
                              const std::string& value);

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
