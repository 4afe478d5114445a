#include "sim/engine/slot_pool.h"

namespace hooksim {

uint32_t SlotPool::TakeDelivery(size_t size, uint64_t ordinal, bool* reused) {
  *reused = false;
  if (!reuses()) return static_cast<uint32_t>(size);
  uint32_t index = static_cast<uint32_t>(size);
  if (!free_deliveries_.empty()) {
    index = free_deliveries_.back();
    free_deliveries_.pop_back();
    *reused = true;
  } else {
    ordinal_.push_back(0);
  }
  ordinal_[index] = ordinal;
  return index;
}

uint32_t SlotPool::TakeEvent(size_t size, bool* reused) {
  *reused = false;
  if (!counts_events()) return static_cast<uint32_t>(size);
  if (!reuses()) {
    event_open_.push_back(0);
    return static_cast<uint32_t>(size);
  }
  if (!free_events_.empty()) {
    const uint32_t index = free_events_.back();
    free_events_.pop_back();
    event_open_[index] = 0;
    *reused = true;
    return index;
  }
  event_open_.push_back(0);
  return static_cast<uint32_t>(size);
}

void SlotPool::OpenDelivery(uint32_t event) {
  if (counts_events()) ++event_open_[event];
}

bool SlotPool::FreeDelivery(uint32_t index, uint32_t event) {
  if (!counts_events()) return false;
  if (reuses()) free_deliveries_.push_back(index);
  if (--event_open_[event] != 0) return false;
  if (reuses()) free_events_.push_back(event);
  return true;
}

bool SlotPool::FreeEventIfUnused(uint32_t event) {
  if (!counts_events() || event_open_[event] != 0) return false;
  if (reuses()) free_events_.push_back(event);
  return true;
}

void SlotPool::FreeDeliveryOnly(uint32_t index) {
  if (reuses()) free_deliveries_.push_back(index);
}

void SlotPool::CloseDelivery(uint32_t event) {
  if (counts_events()) --event_open_[event];
}

}  // namespace hooksim
