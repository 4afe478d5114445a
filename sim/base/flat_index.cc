#include "sim/base/flat_index.h"

#include <algorithm>
#include <bit>

#include "sim/base/random.h"

namespace hooksim {
namespace {

// Tables start at this many slots once the first key arrives.
constexpr size_t kMinCapacity = 16;

uint32_t TagOf(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

}  // namespace

FlatIndex::FlatIndex(size_t max_keys, Hasher hasher)
    : max_keys_(std::min(max_keys, kMaxKeys)), hasher_(hasher) {}

// The hash of a delivery id, from its number: Mix64 spreads every bit of
// it, at a fraction of hashing the 20 bytes of its text.
static uint64_t HashDeliveryId(uint64_t number) { return Mix64(number); }

uint64_t FlatIndex::HashKey(std::string_view key) {
  uint64_t number;
  if (ParseDeliveryId(key, &number)) return HashDeliveryId(number);
  // Hash64 memcpy's from data(), which must not be null.
  if (key.data() == nullptr) key = std::string_view("", 0);
  return Hash64(key);
}

FlatIndex::Probe FlatIndex::Prepare(std::string_view key) const {
  Probe probe;
  probe.key = key;
  probe.packed = ParseDeliveryId(key, &probe.number);
  // HashKey's hash without parsing the key a second time.
  probe.hash = probe.packed && hasher_ == &HashKey
                   ? HashDeliveryId(probe.number)
                   : hasher_(key);
  return probe;
}

FlatIndex::Probe FlatIndex::WithHash(std::string_view key, uint64_t hash) {
  Probe probe;
  probe.key = key;
  probe.hash = hash;
  probe.packed = ParseDeliveryId(key, &probe.number);
  return probe;
}

size_t FlatIndex::CapacityFor(size_t keys) {
  return std::max(kMinCapacity, std::bit_ceil(keys * 2 + 1));
}

bool FlatIndex::KeyEquals(uint32_t index, std::string_view key, bool packed,
                          uint64_t number) const {
  if (packed_[index]) return packed && codes_[index] == number;
  if (packed) return false;  // A delivery id is always stored packed.
  const uint64_t g = codes_[index];
  return std::string_view(arena_).substr(
             offsets_[g], offsets_[g + 1] - offsets_[g]) == key;
}

std::optional<uint32_t> FlatIndex::Find(const Probe& probe) const {
  if (slots_.empty()) return std::nullopt;
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = TagOf(probe.hash);
  // At most half full, so an empty slot always ends the probe.
  for (size_t pos = probe.hash & mask;; pos = (pos + 1) & mask) {
    const uint64_t slot = slots_[pos];
    if (slot == kEmpty) return std::nullopt;
    if (static_cast<uint32_t>(slot >> 32) == tag) {
      const uint32_t index = static_cast<uint32_t>(slot) - 1;
      if (KeyEquals(index, probe.key, probe.packed, probe.number)) {
        return index;
      }
    }
  }
}

std::optional<FlatIndex::Slot> FlatIndex::FindOrInsert(const Probe& probe) {
  if (slots_.empty()) Rehash(kMinCapacity);
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = TagOf(probe.hash);
  size_t pos = probe.hash & mask;
  for (;; pos = (pos + 1) & mask) {
    const uint64_t slot = slots_[pos];
    if (slot == kEmpty) break;
    if (static_cast<uint32_t>(slot >> 32) == tag) {
      const uint32_t index = static_cast<uint32_t>(slot) - 1;
      if (KeyEquals(index, probe.key, probe.packed, probe.number)) {
        return Slot{index, false};
      }
    }
  }
  if (size() >= max_keys_) return std::nullopt;
  const uint32_t index = static_cast<uint32_t>(size());
  if (probe.packed) {
    codes_.push_back(probe.number);
  } else {
    codes_.push_back(offsets_.size() - 1);
    arena_.append(probe.key);
    offsets_.push_back(arena_.size());
  }
  packed_.push_back(probe.packed);
  slots_[pos] = (static_cast<uint64_t>(tag) << 32) | (uint64_t{index} + 1);
  // Keep the table at most half full (the probe loops rely on it).
  if (size() * 2 >= slots_.size()) Rehash(slots_.size() * 2);
  return Slot{index, true};
}

void FlatIndex::Rehash(size_t capacity) {
  slots_.assign(capacity, kEmpty);
  const size_t mask = capacity - 1;
  for (size_t i = 0; i < codes_.size(); ++i) {
    uint64_t hash;
    if (packed_[i] && hasher_ == &HashKey) {
      hash = HashDeliveryId(codes_[i]);  // HashKey's, without the text.
    } else {
      const FlatKey key = this->key(static_cast<uint32_t>(i));
      hash = hasher_(key);
    }
    size_t pos = hash & mask;
    while (slots_[pos] != kEmpty) pos = (pos + 1) & mask;
    slots_[pos] = (static_cast<uint64_t>(TagOf(hash)) << 32) |
                  (static_cast<uint64_t>(i) + 1);
  }
}

void FlatIndex::Reserve(size_t keys, size_t key_bytes) {
  keys = std::min(keys, max_keys_);
  if (keys == 0) return;
  codes_.reserve(keys);
  packed_.reserve(keys);
  if (key_bytes > 0) {
    offsets_.reserve(keys + 1);
    arena_.reserve(keys * key_bytes);
  }
  const size_t capacity = CapacityFor(keys);
  if (capacity > slots_.size()) Rehash(capacity);
}

void FlatIndex::Clear() {
  std::fill(slots_.begin(), slots_.end(), kEmpty);
  codes_.clear();
  packed_.clear();
  arena_.clear();
  offsets_.assign(1, 0);
}

}  // namespace hooksim
