// Flat, insertion-ordered tables keyed by strings, for the per-delivery
// counters on the virtual world's hot path (journal, wire recorder, route
// counts).
//
// FlatIndex numbers distinct keys 0, 1, 2, ... in insertion order. Lookup is
// open addressing with linear probing over a power-of-two array of 8-byte
// slots, each holding the upper half of the key's 64-bit hash (a tag) and
// the key's number; a tag match is confirmed by comparing the stored key, so
// hash collisions never merge two keys.
//
// Keys are kept compactly, since a big run has a million of them per table:
// a canonical delivery id ("dlv_" + 16 lowercase hex digits, delivery_id.h)
// as its 64-bit number, any other key's bytes in one contiguous arena. Hashes
// are not stored: a rehash recomputes them with the index's hasher. So a
// delivery id costs 8 bytes and a bit plus its slots (about 25 bytes at
// most half full), where its text, offset and hash took 36 more. The index
// allocates O(log n) times as it grows, never once per key.
//
// FlatTable<V> pairs a FlatIndex with a std::vector<V> indexed by key
// number: values are contiguous and iterate in insertion order, so anything
// derived from an iteration is deterministic.
//
// Bounds: an index holds at most `max_keys` keys (fixed at construction);
// FindOrInsert of a new key beyond that reports that the index is full.
// Memory is O(keys + bytes of keys that are not delivery ids).
// Thread: not thread-safe; const calls may run concurrently with each other.
#ifndef HOOKSIM_SIM_BASE_FLAT_INDEX_H_
#define HOOKSIM_SIM_BASE_FLAT_INDEX_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/delivery_id.h"

namespace hooksim {

// A key of a FlatIndex, as text: a view of the stored bytes, or a delivery
// id formatted inline. Converts to a string_view only as an lvalue (a view
// of a temporary FlatKey would dangle); str() copies it.
class FlatKey {
 public:
  explicit FlatKey(std::string_view stored) : stored_(stored) {}
  explicit FlatKey(uint64_t delivery_id) : packed_(true) {
    FormatDeliveryId(delivery_id, id_);
  }

  std::string_view view() const& {
    return packed_ ? std::string_view(id_, kDeliveryIdSize) : stored_;
  }
  std::string_view view() const&& = delete;
  operator std::string_view() const& { return view(); }
  operator std::string_view() const&& = delete;
  std::string str() const { return std::string(view()); }
  size_t size() const { return view().size(); }
  bool empty() const { return view().empty(); }

  friend bool operator==(const FlatKey& a, std::string_view b) {
    return a.view() == b;
  }
  friend std::ostream& operator<<(std::ostream& out, const FlatKey& key) {
    return out << key.view();
  }

 private:
  std::string_view stored_;
  bool packed_ = false;
  char id_[kDeliveryIdSize] = {};  // The formatted id when packed_.
};

class FlatIndex {
 public:
  // The most keys any index can hold (key numbers are 32-bit).
  static constexpr size_t kMaxKeys = (size_t{1} << 31) - 1;

  using Hasher = uint64_t (*)(std::string_view key);

  // max_keys is clamped to kMaxKeys. `hasher` is the hash every call must
  // pass for a key (HashKey; tests give others to force collisions).
  explicit FlatIndex(size_t max_keys = kMaxKeys, Hasher hasher = &HashKey);

  // The hash to pass for `key` (a delivery id's number, mixed; any other
  // key's bytes, Hash64). Callers that look a key up more than once may
  // compute it once and pass it. The hash passed
  // must be the index's hasher of the key (a rehash recomputes it from the
  // key); equal hashes of different keys cost speed, not correctness.
  // The one-argument Find (and FlatTable's map-like reads) use the hasher.
  static uint64_t HashKey(std::string_view key);

  // A key made ready for lookups: its hash and, for a delivery id, its
  // number, each computed once (a lookup by text parses the key itself).
  // Views `key`, which must outlive it.
  struct Probe {
    std::string_view key;
    uint64_t hash = 0;    // The index's hasher's hash of key.
    bool packed = false;  // key is a delivery id, and number its number.
    uint64_t number = 0;
  };
  // The probe for `key` under this index's hasher (one parse of the key).
  Probe Prepare(std::string_view key) const;

  // The number of `key`, or nullopt when absent. `hash` is the hasher's
  // hash of `key`.
  std::optional<uint32_t> Find(std::string_view key, uint64_t hash) const {
    return Find(WithHash(key, hash));
  }
  std::optional<uint32_t> Find(const Probe& probe) const;
  std::optional<uint32_t> Find(std::string_view key) const {
    return Find(Prepare(key));
  }

  struct Slot {
    uint32_t index = 0;  // The key's number.
    bool added = false;  // True when this call inserted the key.
  };
  // The number of `key`, inserting it (as number size()) when absent;
  // nullopt when it is absent and the index already holds max_keys keys.
  // `hash` is the hasher's hash of `key`.
  std::optional<Slot> FindOrInsert(std::string_view key, uint64_t hash) {
    return FindOrInsert(WithHash(key, hash));
  }
  std::optional<Slot> FindOrInsert(const Probe& probe);

  // The key numbered `index` (< size()). A view of it is valid until the
  // next FindOrInsert or Clear, and while the FlatKey lives.
  FlatKey key(uint32_t index) const {
    if (packed_[index]) return FlatKey(codes_[index]);
    const uint64_t g = codes_[index];
    return FlatKey(std::string_view(arena_).substr(
        offsets_[g], offsets_[g + 1] - offsets_[g]));
  }
  // Whether key `index` equals `key`; `packed` is set when `key` is a
  // delivery id (then *number is its number).
  bool KeyEquals(uint32_t index, std::string_view key, bool packed,
                 uint64_t number) const;
  Hasher hasher() const { return hasher_; }

  size_t size() const { return codes_.size(); }
  bool empty() const { return size() == 0; }
  size_t max_keys() const { return max_keys_; }

  // Makes room for `keys` keys (capped at max_keys), and when `key_bytes`
  // is given, for that many bytes of each (keys that are not delivery ids:
  // those take no arena bytes), so the table does not grow while they are
  // inserted.
  void Reserve(size_t keys, size_t key_bytes = 0);

  // Removes every key; keeps the allocated memory.
  void Clear();

 private:
  // A slot is (tag << 32) | (number + 1); 0 marks an empty slot.
  static constexpr uint64_t kEmpty = 0;

  // The probe for `key` whose hash is known.
  static Probe WithHash(std::string_view key, uint64_t hash);
  // Rebuilds the slot array with `capacity` slots (a power of two).
  void Rehash(size_t capacity);
  // The smallest power-of-two slot count that keeps `keys` keys at most
  // half full.
  static size_t CapacityFor(size_t keys);

  size_t max_keys_;
  Hasher hasher_;
  std::vector<uint64_t> slots_;  // Power-of-two size, or empty.
  // Per key number: the delivery id's number when packed_[i], else the
  // key's ordinal g among the other keys, whose bytes are
  // arena_[offsets_[g], offsets_[g + 1]).
  std::vector<uint64_t> codes_;
  std::vector<bool> packed_;
  std::string arena_;
  std::vector<size_t> offsets_{0};
};

// A FlatIndex with one V per key, contiguous and in insertion order.
// Read access mirrors a map's (size, find, at, contains, range-for over
// {key, value} pairs); only the owner mutates, through FindOrInsert.
template <typename V>
class FlatTable {
 public:
  explicit FlatTable(size_t max_keys = FlatIndex::kMaxKeys,
                     FlatIndex::Hasher hasher = &FlatIndex::HashKey)
      : index_(max_keys, hasher) {}

  // One {key, value} pair of an iteration. Views of `first` are valid
  // while the Entry lives and the table does not change.
  struct Entry {
    FlatKey first;
    const V& second;
  };

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using reference = Entry;

    // Lets it->first and it->second work on the temporary Entry.
    struct Arrow {
      Entry entry;
      const Entry* operator->() const { return &entry; }
    };

    const_iterator() = default;
    Entry operator*() const {
      return Entry{table_->index_.key(i_), table_->values_[i_]};
    }
    Arrow operator->() const { return Arrow{**this}; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const const_iterator& other) const {
      return i_ == other.i_;
    }

   private:
    friend class FlatTable;
    const_iterator(const FlatTable* table, uint32_t i) : table_(table), i_(i) {}
    const FlatTable* table_ = nullptr;
    uint32_t i_ = 0;
  };

  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const {
    return const_iterator(this, static_cast<uint32_t>(values_.size()));
  }
  size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }

  // The value for `key`, or null when absent.
  const V* find(std::string_view key) const {
    std::optional<uint32_t> i = index_.Find(key);
    return i ? &values_[*i] : nullptr;
  }
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  // Throws std::out_of_range when absent, like std::map::at.
  const V& at(std::string_view key) const {
    const V* v = find(key);
    if (v == nullptr) throw std::out_of_range("FlatTable::at: no such key");
    return *v;
  }

  // --- For the owner -------------------------------------------------------

  // The value for `key` (hash: the hasher's, FlatIndex::HashKey unless
  // given at construction), or null.
  V* Find(std::string_view key, uint64_t hash) {
    std::optional<uint32_t> i = index_.Find(key, hash);
    return i ? &values_[*i] : nullptr;
  }
  // The value for `key`, value-initialised when the key is new; null when
  // the key is new and the table is full. *added tells whether it was new.
  V* FindOrInsert(std::string_view key, uint64_t hash, bool* added = nullptr) {
    return ValueOf(index_.FindOrInsert(key, hash), added);
  }
  // The same for a key made ready once (Prepare below).
  V* FindOrInsert(const FlatIndex::Probe& probe, bool* added = nullptr) {
    return ValueOf(index_.FindOrInsert(probe), added);
  }
  // The number of `key`, or nullopt when absent.
  std::optional<uint32_t> IndexOf(std::string_view key) const {
    return index_.Find(key);
  }
  std::optional<uint32_t> IndexOf(const FlatIndex::Probe& probe) const {
    return index_.Find(probe);
  }
  FlatIndex::Probe Prepare(std::string_view key) const {
    return index_.Prepare(key);
  }
  // The value numbered `index` (< size()) and its key.
  V& value(uint32_t index) { return values_[index]; }
  const V& value(uint32_t index) const { return values_[index]; }
  FlatKey key(uint32_t index) const { return index_.key(index); }

  void Reserve(size_t keys, size_t key_bytes = 0) {
    index_.Reserve(keys, key_bytes);
    values_.reserve(std::min(keys, index_.max_keys()));
  }
  void Clear() {
    index_.Clear();
    values_.clear();
  }
  size_t max_keys() const { return index_.max_keys(); }

 private:
  // The value of a slot FindOrInsert returned (null for none), adding it
  // when the key is new.
  V* ValueOf(std::optional<FlatIndex::Slot> slot, bool* added) {
    if (!slot) return nullptr;
    if (slot->added) values_.emplace_back();
    if (added) *added = slot->added;
    return &values_[slot->index];
  }

  FlatIndex index_;
  std::vector<V> values_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_FLAT_INDEX_H_
