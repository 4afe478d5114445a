// The HTTP request/answer vocabulary shared by the engine, the transports
// and the receivers, in both worlds.
//
// HttpRequest is a non-owning view: the party that builds it keeps the bytes
// alive for as long as the contract of the call that takes it says (for
// Transport::Send, until `done` has been called). This keeps the virtual
// world free of per-attempt allocations.
#ifndef HOOKSIM_SIM_CONTRACT_HTTP_TYPES_H_
#define HOOKSIM_SIM_CONTRACT_HTTP_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sim/base/time.h"

namespace hooksim {

// Headers hooksim's engine sends on every attempt.
inline constexpr std::string_view kDeliveryIdHeader = "X-Hooksim-Delivery";
inline constexpr std::string_view kEventTypeHeader = "X-Hooksim-Event";
inline constexpr std::string_view kAttemptHeader = "X-Hooksim-Attempt";
inline constexpr std::string_view kHooksimVersion = "0.1.0";
inline constexpr std::string_view kUserAgent = "hooksim/0.1.0";

struct Header {
  std::string_view name;
  std::string_view value;
};

// Hash64 of some bytes, and which bytes: a sender that hashed a body once
// hands the hash on with each request that carries those bytes.
struct KnownBodyHash {
  const char* data = nullptr;
  size_t size = 0;
  uint64_t hash = 0;
};

struct HttpRequest {
  std::string_view method;
  // Sender side: the absolute URL. Receiver side: the request target (path).
  std::string_view target;
  std::span<const Header> headers;
  std::string_view body;
  // Hash64(body) when the sender knows it (the engine hashes each event's
  // body once); used only while it names these very bytes (see BodyHash).
  KnownBodyHash known_hash;

  // Case-insensitive header lookup; the first match wins.
  std::optional<std::string_view> FindHeader(std::string_view name) const;
};

// Hash64(request.body): the known hash when it was taken of the same bytes
// (same address and size), else hashed now. Every consumer of one attempt
// (wire recorder, receiver) so shares one hash of the body.
uint64_t BodyHash(const HttpRequest& request);

// Why an attempt got no HTTP answer.
enum class AttemptError {
  kNone,        // An HTTP status was received.
  kTimeout,     // No complete answer within the per-attempt timeout.
  kRefused,     // Nothing listens at the URL.
  kReset,       // The connection was reset.
  kEmptyReply,  // The connection closed with no answer at all.
  kMalformed,   // Bytes came back, but not an HTTP answer.
  kDns,         // The URL's host name does not resolve.
};
inline constexpr size_t kAttemptErrorKinds = 7;  // kNone .. kDns.

// "timeout", "refused", ... ("none" for kNone).
std::string_view AttemptErrorName(AttemptError error);
std::optional<AttemptError> ParseAttemptError(std::string_view name);

// What one attempt ended with, as seen by the sender.
inline constexpr int64_t kNoRetryAfter = -1;
inline constexpr int64_t kBadRetryAfter = -2;

struct AttemptResult {
  AttemptError error = AttemptError::kNone;
  int status = 0;  // Meaningful only when error == kNone.
  // The answer's Retry-After in ms when it held a number of seconds or an
  // HTTP date (kNoRetryAfter: none); kBadRetryAfter: present but neither.
  int64_t retry_after_ms = -1;

  bool IsSuccess() const {
    return error == AttemptError::kNone && status >= 200 && status < 300;
  }
};

// A Retry-After value (RFC 9110 10.2.3) in ms from `now_unix_s`: delay
// seconds ("120") or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"; a
// date in the past is 0); kBadRetryAfter when it is neither (the sender
// then treats the answer as if it had none, and the journal records it).
int64_t ParseRetryAfter(std::string_view value, int64_t now_unix_s);

// "200", "timeout", "reset", ... for logs and traces.
std::string DescribeAttemptResult(const AttemptResult& result);

namespace http_types_internal {
// Whether the n bytes at a and b are equal as ASCII in any case.
bool BytesEqualIgnoreCase(const char* a, const char* b, size_t n);
}  // namespace http_types_internal

// Whether a and b are equal as ASCII in any case (header names). Inline:
// names are matched on every request, mostly as spelt, so eight bytes at a
// time while they are equal as bytes settles them, folding only a word that
// differs; the last word overlaps the one before it when the size is not a
// multiple of eight.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  using http_types_internal::BytesEqualIgnoreCase;
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n < 8) return BytesEqualIgnoreCase(a.data(), b.data(), n);
  auto words_equal = [&a, &b](size_t at) {
    uint64_t x;
    uint64_t y;
    std::memcpy(&x, a.data() + at, 8);
    std::memcpy(&y, b.data() + at, 8);
    return x == y || BytesEqualIgnoreCase(a.data() + at, b.data() + at, 8);
  };
  for (size_t i = 0; i + 8 < n; i += 8) {
    if (!words_equal(i)) return false;
  }
  return words_equal(n - 8);
}

// True when a Content-Type value's media type is application/json
// (parameters such as "; charset=utf-8" allowed, case-insensitive).
bool IsJsonContentType(std::string_view value);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONTRACT_HTTP_TYPES_H_
