// The order cpp-httplib files a request's header fields in (its Headers
// multimap: by name, ignoring ASCII case, equal names in arrival order),
// which the event core reproduces for the journal and its answers.
#ifndef HOOKSIM_MOCK_RECEIVERS_HTTP_HEADER_ORDER_H_
#define HOOKSIM_MOCK_RECEIVERS_HTTP_HEADER_ORDER_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

namespace hooksim {

// cpp-httplib's compare of header names: by bytes, ignoring case (its
// ::tolower is ASCII's in the "C" locale hooksim runs in).
inline bool HeaderNameLess(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return static_cast<unsigned char>(u >= 'A' && u <= 'Z' ? u + 32 : u);
  };
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = lower(a[i]);
    const unsigned char y = lower(b[i]);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

// The first 16 bytes of a header name in ASCII lower case, as two
// big-endian words padded with zero bytes: ordering names by these words
// is ordering them by HeaderNameLess, except between names whose first 16
// bytes fold alike (then HeaderNameLess decides). Zero sorts below every
// byte, as a shorter name sorts below a longer one it begins.
struct HeaderSortKey {
  uint64_t hi = 0;
  uint64_t lo = 0;

  HeaderSortKey() = default;
  explicit HeaderSortKey(std::string_view name) {
    unsigned char bytes[16] = {};
    const auto* data = reinterpret_cast<const unsigned char*>(name.data());
    if (name.size() < 16) {
      std::memcpy(bytes, data, name.size());
      data = bytes;
    }
    hi = Fold(Load(data));
    lo = Fold(Load(data + 8));
  }
  bool operator<(const HeaderSortKey& o) const {
    return hi != o.hi ? hi < o.hi : lo < o.lo;
  }
  bool operator==(const HeaderSortKey& o) const {
    return hi == o.hi && lo == o.lo;
  }

 private:
  static uint64_t Load(const unsigned char* p) {  // Big-endian.
    uint64_t v;
    std::memcpy(&v, p, 8);
    if constexpr (std::endian::native == std::endian::little) {
      v = __builtin_bswap64(v);
    }
    return v;
  }
  // Adds 0x20 to each byte in 'A'..'Z' (eight at a time: a byte's top
  // bit says "ASCII", "at least 'A'" and "above 'Z'" in three sums).
  static uint64_t Fold(uint64_t x) {
    constexpr uint64_t kHigh = 0x8080808080808080ull;
    const uint64_t low7 = x & ~kHigh;
    const uint64_t at_least_a = low7 + 0x3f3f3f3f3f3f3f3full;
    const uint64_t above_z = low7 + 0x2525252525252525ull;
    const uint64_t upper = ~x & (at_least_a ^ above_z) & kHigh;
    return x | (upper >> 2);
  }
};

// Sorts `items` by HeaderNameLess of `name(item)`, keeping the order of
// equal names. A request's or answer's few fields are sorted in place by
// their HeaderSortKey (insertion sort: no buffer to allocate, as
// std::stable_sort takes, and a word compare where the names share a long
// prefix, as X-Hooksim-* do); long lists go to std::stable_sort.
template <typename T, typename Name>
inline void SortHeadersByName(std::vector<T>& items, Name name) {
  constexpr size_t kInPlace = 32;
  if (items.size() > kInPlace) {
    std::stable_sort(items.begin(), items.end(),
                     [&name](const T& a, const T& b) {
                       return HeaderNameLess(name(a), name(b));
                     });
    return;
  }
  HeaderSortKey keys[kInPlace];
  for (size_t i = 0; i < items.size(); ++i) {
    keys[i] = HeaderSortKey(name(items[i]));
  }
  const auto less = [&](size_t a, size_t b) {
    if (!(keys[a] == keys[b])) return keys[a] < keys[b];
    return HeaderNameLess(name(items[a]), name(items[b]));
  };
  // Bounded by the list's size squared (at most 32 x 32 compares).
  for (size_t i = 1; i < items.size(); ++i) {
    for (size_t j = i; j > 0 && less(j, j - 1); --j) {
      std::swap(items[j], items[j - 1]);
      std::swap(keys[j], keys[j - 1]);
    }
  }
}

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_HTTP_HEADER_ORDER_H_
