// Where the delivery engine keeps its deliveries and events: slot numbers
// into its tables, handed out and taken back by a SlotPool.
//
// SlotReuse::kNone (a run's record): every delivery and event keeps its
// slot for the whole run; a slot is its ordinal. SlotReuse::kEnded (long
// benches, durable runners): a delivery's slot is freed once it has ended
// or left the engine, an event's once none of its deliveries is open, and
// later ones reuse them, so the tables follow what is open, not the run's
// length. The pool keeps each delivery slot's ordinal in the run (ids and
// jitter derive from it, so they do not depend on reuse) and each event
// slot's open deliveries. SlotReuse::kBodies (a big run's record): as
// kNone, every slot kept, but the pool counts each event's open deliveries
// so the engine can drop an event's body once they have all ended.
// Thread: the engine's (not thread-safe). Bounded by the tables it indexes.
#ifndef HOOKSIM_SIM_ENGINE_SLOT_POOL_H_
#define HOOKSIM_SIM_ENGINE_SLOT_POOL_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hooksim {

enum class SlotReuse {
  kNone,    // Keep every delivery and event (the default: a run's record).
  kEnded,   // Reuse the slots of ended deliveries and their events.
  kBodies,  // Keep every slot; drop event bodies once their deliveries end.
};

class SlotPool {
 public:
  explicit SlotPool(SlotReuse reuse) : reuse_(reuse) {}

  bool reuses() const { return reuse_ == SlotReuse::kEnded; }
  // Whether events' open deliveries are counted (kEnded and kBodies).
  bool counts_events() const { return reuse_ != SlotReuse::kNone; }

  // A slot for the delivery with this ordinal: a freed one (*reused true:
  // the caller resets it), or `size`, the next new one (the caller
  // appends).
  uint32_t TakeDelivery(size_t size, uint64_t ordinal, bool* reused);
  // A slot for a new event, likewise; it has no open delivery yet.
  uint32_t TakeEvent(size_t size, bool* reused);
  // One more open delivery of `event` (counts_events only).
  void OpenDelivery(uint32_t event);
  // Frees delivery slot `index` (reuse only). True when it was the last
  // open delivery of `event` (counts_events only): with reuse the event's
  // slot is freed too (the caller clears its record); with kBodies the
  // caller drops its body.
  bool FreeDelivery(uint32_t index, uint32_t event);
  // Frees event slot `event` when none of its deliveries is open (reuse;
  // with kBodies only tells so); true when none is.
  bool FreeEventIfUnused(uint32_t event);
  // Marks delivery slot `index` free without touching its event's count.
  void FreeDeliveryOnly(uint32_t index);
  // One fewer open delivery of `event`, without freeing anything.
  void CloseDelivery(uint32_t event);

  // The ordinal of the delivery in slot `index`.
  uint64_t ordinal(uint32_t index) const {
    return reuses() ? ordinal_[index] : index;
  }
  // Delivery slots free for reuse.
  size_t free_deliveries() const { return free_deliveries_.size(); }

 private:
  SlotReuse reuse_;
  std::vector<uint32_t> free_deliveries_;
  std::vector<uint32_t> free_events_;
  std::vector<uint32_t> event_open_;  // Per event slot: open deliveries.
  std::vector<uint64_t> ordinal_;     // Per delivery slot.
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_ENGINE_SLOT_POOL_H_
