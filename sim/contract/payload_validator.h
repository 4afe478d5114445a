// Checks webhook payloads against the contract's rules C3 and C4.
//
// C3: the body parses as JSON, an object with "event" (string) and "data"
// (object): checked with the envelope JSON Schema.
// C4: a "release" body matches the release JSON Schema and is
// self-consistent (permanent_url names the version and app; url names the
// app; rollback is false or an earlier version number; source_env appears
// only for promotions and differs from env).
// Schemas are checked with valijson. A plain valid body (printable ASCII,
// int64 integers only, no duplicate key) is read with RapidJSON and checked
// by the same valijson schemas without collecting errors (or, for the
// bundled schemas, by one compiled pass over RapidJSON's SAX events, with
// no tree, that passes only what valijson passes); any other body, and any
// body that fails, is read with nlohmann/json and every issue worded
// (ValidateFully). The bundled schemas are the files in scenarios/schemas/,
// compiled into the binary.
// Thread: Validate is const and safe to call concurrently.
#ifndef HOOKSIM_SIM_CONTRACT_PAYLOAD_VALIDATOR_H_
#define HOOKSIM_SIM_CONTRACT_PAYLOAD_VALIDATOR_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/result.h"
#include "sim/contract/contract.h"

namespace hooksim {

struct PayloadIssue {
  Rule rule = Rule::kC3Envelope;  // kC3Envelope or kC4ReleaseSchema.
  std::string pointer;  // JSON pointer of the offending field ("" = root).
  std::string message;  // Why, in words.
};

struct PayloadVerdict {
  std::string event;  // The "event" value when there is one.
  std::vector<PayloadIssue> issues;

  bool valid() const { return issues.empty(); }
  // "pointer: message" of the first issue, or "" when valid.
  std::string FirstIssue() const;
};

class PayloadValidator {
 public:
  // The schemas compiled into the binary (one shared validator per
  // process).
  static Result<std::shared_ptr<const PayloadValidator>> Bundled();
  // Schemas from JSON text (for tests and --schema overrides).
  static Result<std::shared_ptr<const PayloadValidator>> FromSchemaText(
      std::string_view envelope_schema, std::string_view release_schema);

  ~PayloadValidator();

  PayloadVerdict Validate(std::string_view body) const;
  // The same verdict without the fast path for plain valid bodies (every
  // body read with nlohmann/json, every valijson error collected): what
  // Validate must agree with, for tests and benchmarks.
  PayloadVerdict ValidateFully(std::string_view body) const;
  // The fast path's answer alone: Validate's verdict for a plain valid body,
  // or nullopt where the fast path leaves the body to ValidateFully (for
  // tests: a body it gives up on is only checked more slowly). Never
  // throws.
  std::optional<PayloadVerdict> FastVerdict(std::string_view body) const;
  // Whether the schemas are the bundled ones, which the fast path checks
  // with compiled code rather than valijson (same verdicts; faster).
  bool compiled() const;

 private:
  struct Impl;
  explicit PayloadValidator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A bounded, thread-safe cache of verdicts keyed by body hash and size, so a
// receiver can check every request without re-validating retries of the
// same body. When full, it is cleared (bounded memory, simple).
// The cache is one flat open-addressed array (a verdict's validity sits in
// its slot), so a hit costs one probe into contiguous memory; it grows by
// doubling up to twice max_entries slots.
class CachedPayloadValidator {
 public:
  explicit CachedPayloadValidator(
      std::shared_ptr<const PayloadValidator> validator,
      size_t max_entries = 65536);

  // A cache over PayloadValidator::Bundled(); the error says the bundled
  // schemas could not be loaded.
  static Result<std::shared_ptr<CachedPayloadValidator>> Bundled();

  // Returns the verdict for body; body_hash must be Hash64(body).
  std::shared_ptr<const PayloadVerdict> Validate(std::string_view body,
                                                 uint64_t body_hash);
  // The same verdict's gist without sharing it (the hot path: a receiver
  // keeps only this): whether the body is valid and, when it is not, its
  // first issue as "<rule id> <pointer>: <message>" in *issue (left alone
  // when valid).
  bool Check(std::string_view body, uint64_t body_hash, std::string* issue);

 private:
  struct Slot {
    uint64_t key = 0;
    bool valid = false;
    std::shared_ptr<const PayloadVerdict> verdict;  // Null: an empty slot.
  };
  // The slot holding `key`, or the empty one where it would go (mu_ held;
  // slots_ not empty).
  Slot& Probe(uint64_t key);
  // Computes the verdict for body (no lock held).
  std::shared_ptr<const PayloadVerdict> Compute(std::string_view body) const;
  // Stores a verdict computed for `key` (mu_ held): clears the cache first
  // when it holds max_entries, grows the array when half full.
  void Store(uint64_t key, std::shared_ptr<const PayloadVerdict> verdict);
  // The key of a body: its hash with its size mixed in.
  static uint64_t KeyOf(std::string_view body, uint64_t body_hash);

  std::shared_ptr<const PayloadValidator> validator_;
  size_t max_entries_;
  std::mutex mu_;
  std::vector<Slot> slots_;  // Power-of-two size (or empty), <= half full.
  size_t size_ = 0;          // Slots in use.
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONTRACT_PAYLOAD_VALIDATOR_H_
