#include "sim/base/flat_index.h"

#include <algorithm>
#include <bit>

#include "sim/base/random.h"

namespace hooksim {
namespace {

// Tables start at this many slots once the first key arrives.
constexpr size_t kMinCapacity = 16;

uint32_t TagOf(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

// A slot's low word: the key's number + 1, and kNumbered for a numbered key.
constexpr uint32_t kNumbered = uint32_t{1} << 31;

// The number of a key spelt "dlv_" + 16 lowercase hex digits (the engine's
// delivery ids), or nullopt for any other key. Distinct such keys have
// distinct numbers.
std::optional<uint64_t> KeyNumber(std::string_view key) {
  if (key.size() != 20 || key.substr(0, 4) != "dlv_") return std::nullopt;
  uint64_t n = 0;
  for (size_t i = 4; i < 20; ++i) {
    const char c = key[i];
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    n = (n << 4) | digit;
  }
  return n;
}

// SplitMix64's finaliser: a bijection on 64-bit numbers that spreads them,
// so two numbered keys have equal hashes exactly when they are equal.
uint64_t MixNumber(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Whether `key` is numbered and `hash` is the HashKey it has: then the
// hash alone tells it from every other numbered key.
bool IsNumbered(std::string_view key, uint64_t hash) {
  const std::optional<uint64_t> n = KeyNumber(key);
  return n && MixNumber(*n) == hash;
}

}  // namespace

FlatIndex::FlatIndex(size_t max_keys)
    : max_keys_(std::min(max_keys, kMaxKeys)) {}

uint64_t FlatIndex::HashKey(std::string_view key) {
  if (const std::optional<uint64_t> n = KeyNumber(key)) return MixNumber(*n);
  // Hash64 memcpy's from data(), which must not be null.
  if (key.data() == nullptr) key = std::string_view("", 0);
  return Hash64(key);
}

bool FlatIndex::SameKey(uint64_t slot, std::string_view key, uint64_t hash,
                        bool numbered) const {
  const uint32_t low = static_cast<uint32_t>(slot);
  const uint32_t index = (low & ~kNumbered) - 1;
  if (((low & kNumbered) != 0) != numbered) return false;
  // Numbered keys are equal when their hashes are (MixNumber is a
  // bijection); others are compared byte for byte.
  return numbered ? hashes_[index] == hash : this->key(index) == key;
}

size_t FlatIndex::CapacityFor(size_t keys) {
  return std::max(kMinCapacity, std::bit_ceil(keys * 2 + 1));
}

std::optional<uint32_t> FlatIndex::Find(std::string_view key,
                                        uint64_t hash) const {
  if (slots_.empty()) return std::nullopt;
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = TagOf(hash);
  const bool numbered = IsNumbered(key, hash);
  // At most half full, so an empty slot always ends the probe.
  for (size_t pos = hash & mask;; pos = (pos + 1) & mask) {
    const uint64_t slot = slots_[pos];
    if (slot == kEmpty) return std::nullopt;
    if (static_cast<uint32_t>(slot >> 32) == tag &&
        SameKey(slot, key, hash, numbered)) {
      return (static_cast<uint32_t>(slot) & ~kNumbered) - 1;
    }
  }
}

std::optional<FlatIndex::Slot> FlatIndex::FindOrInsert(std::string_view key,
                                                       uint64_t hash) {
  if (slots_.empty()) Rehash(kMinCapacity);
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = TagOf(hash);
  const bool numbered = IsNumbered(key, hash);
  size_t pos = hash & mask;
  for (;; pos = (pos + 1) & mask) {
    const uint64_t slot = slots_[pos];
    if (slot == kEmpty) break;
    if (static_cast<uint32_t>(slot >> 32) == tag &&
        SameKey(slot, key, hash, numbered)) {
      return Slot{(static_cast<uint32_t>(slot) & ~kNumbered) - 1, false};
    }
  }
  if (size() >= max_keys_) return std::nullopt;
  const uint32_t index = static_cast<uint32_t>(size());
  arena_.append(key);
  offsets_.push_back(arena_.size());
  hashes_.push_back(hash);
  slots_[pos] = (static_cast<uint64_t>(tag) << 32) | (uint64_t{index} + 1) |
                (numbered ? kNumbered : 0);
  // Keep the table at most half full (the probe loops rely on it).
  if (size() * 2 >= slots_.size()) Rehash(slots_.size() * 2);
  return Slot{index, true};
}

void FlatIndex::Rehash(size_t capacity) {
  std::vector<uint64_t> old(capacity, kEmpty);
  old.swap(slots_);
  const size_t mask = capacity - 1;
  // Each slot moves whole (tag, number, numbered flag), in key order.
  for (const uint64_t slot : old) {
    if (slot == kEmpty) continue;
    const uint64_t hash =
        hashes_[(static_cast<uint32_t>(slot) & ~kNumbered) - 1];
    size_t pos = hash & mask;
    while (slots_[pos] != kEmpty) pos = (pos + 1) & mask;
    slots_[pos] = slot;
  }
}

void FlatIndex::Reserve(size_t keys, size_t key_bytes) {
  keys = std::min(keys, max_keys_);
  if (keys == 0) return;
  offsets_.reserve(keys + 1);
  hashes_.reserve(keys);
  if (key_bytes > 0) arena_.reserve(keys * key_bytes);
  const size_t capacity = CapacityFor(keys);
  if (capacity > slots_.size()) Rehash(capacity);
}

void FlatIndex::Clear() {
  std::fill(slots_.begin(), slots_.end(), kEmpty);
  arena_.clear();
  hashes_.clear();
  offsets_.assign(1, 0);
}

}  // namespace hooksim
