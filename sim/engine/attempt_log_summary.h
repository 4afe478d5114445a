// What the verifier needs of a run's attempt log, taken as attempts end, so
// a big run need not keep every record (EngineOptions::keep_attempt_log off).
//
// Kept, fed one AttemptRecord at a time in log order:
// - per delivery: the attempts seen, the first attempt answered 2xx, the
//   first answered a status the hook's contract stops on (410), and whether
//   the numbers ever broke the 1, 2, 3, ... order (8 bytes a delivery);
// - per hook: when an attempt to it was first answered such a stop status;
// - the attempts that started after their hook's stop (rule C6) and those
//   made after their delivery's 2xx (rule C5): how many, and the first
//   kExamples records of each;
// - every record of the deliveries to the hooks named at construction
//   (those the scenario ever pauses: pause windows and arrivals during a
//   pause are judged per attempt);
// - the fingerprint of the whole log (RunResult::Fingerprint).
// Everything else of a record (each attempt's times and answer) is dropped.
// Thread: the engine's loop thread while fed; read-only afterwards.
#ifndef HOOKSIM_SIM_ENGINE_ATTEMPT_LOG_SUMMARY_H_
#define HOOKSIM_SIM_ENGINE_ATTEMPT_LOG_SUMMARY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/engine/delivery_engine.h"

namespace hooksim {

class AttemptLogSummary {
 public:
  // The records kept per offence (at least as many examples as a rule
  // keeps per side).
  static constexpr size_t kExamples = 3;

  // keep_hooks[h]: keep every record of deliveries to hook h (hooks beyond
  // the vector: none kept). keep_all: every record of every hook.
  struct Options {
    std::vector<bool> keep_hooks;
    bool keep_all = false;
  };
  explicit AttemptLogSummary(Options options);

  // Sizing hint: room for `deliveries` deliveries.
  void Reserve(size_t deliveries) { replay_.reserve(deliveries); }

  // Takes one record of `engine`'s log (in log order; its delivery must
  // still be in engine.deliveries(), as during the attempt observer).
  void Add(const DeliveryEngine& engine, const AttemptRecord& a);

  // Per delivery index (deliveries without attempts may be missing: the
  // vector ends at the last delivery seen).
  struct Replay {
    uint16_t seen = 0;        // The latest attempt number.
    uint16_t success_at = 0;  // First attempt answered 2xx; 0 none.
    uint16_t gone_at = 0;     // First stop status before any 2xx; 0 none.
    bool broken_order = false;
  };
  Replay replay(uint32_t delivery) const {
    return delivery < replay_.size() ? replay_[delivery] : Replay{};
  }
  // Per hook index: when an attempt to it was first answered a stop
  // status (unset: never; hooks beyond the vector: never).
  std::optional<TimePoint> hook_gone(uint32_t hook) const {
    return hook < hook_gone_.size() ? hook_gone_[hook] : std::nullopt;
  }

  // Records of one kind of offence: how many, the first kExamples.
  struct Offences {
    uint64_t count = 0;
    std::vector<AttemptRecord> first;
  };
  // Attempts started after their hook's first stop status (C6).
  const Offences& after_gone() const { return after_gone_; }
  // Attempts made after their delivery's first 2xx (C5).
  const Offences& after_success() const { return after_success_; }
  // Every record of the kept hooks, in log order.
  const std::vector<AttemptRecord>& kept() const { return kept_; }
  // Whether hook h's records are all in kept().
  bool keeps(uint32_t hook) const {
    return options_.keep_all ||
           (hook < options_.keep_hooks.size() && options_.keep_hooks[hook]);
  }

  uint64_t attempts() const { return attempts_; }
  // Hex digest of the log (delivery ids, attempt numbers, times, results,
  // next-attempt times), as 16 hex digits.
  std::string Fingerprint() const;

 private:
  static void Note(Offences& o, const AttemptRecord& a);

  Options options_;
  std::vector<Replay> replay_;
  std::vector<std::optional<TimePoint>> hook_gone_;
  Offences after_gone_;
  Offences after_success_;
  std::vector<AttemptRecord> kept_;
  uint64_t attempts_ = 0;
  uint64_t fingerprint_ = 0x6a09e667f3bcc908ULL;
};

// The summary of a whole kept log (every hook's records kept).
AttemptLogSummary SummariseLog(const DeliveryEngine& engine);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_ENGINE_ATTEMPT_LOG_SUMMARY_H_
