// Compares and copies of short byte runs (header names and values, methods,
// media types: mostly under 17 bytes) without a call into libc: the
// receiver's per-request journalling does a dozen of them.
// Thread: pure functions.
#ifndef HOOKSIM_MOCK_RECEIVERS_SHORT_BYTES_H_
#define HOOKSIM_MOCK_RECEIVERS_SHORT_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace hooksim {

namespace short_bytes_internal {
template <typename T>
inline T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
inline void Store(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}
}  // namespace short_bytes_internal

// Whether the n bytes at a and b are equal (n may be 0, a and b then
// unread).
inline bool SameBytes(const char* a, const char* b, size_t n) {
  using short_bytes_internal::Load;
  if (n > 16) return std::memcmp(a, b, n) == 0;
  if (n >= 8) {
    return Load<uint64_t>(a) == Load<uint64_t>(b) &&
           Load<uint64_t>(a + n - 8) == Load<uint64_t>(b + n - 8);
  }
  if (n >= 4) {
    return Load<uint32_t>(a) == Load<uint32_t>(b) &&
           Load<uint32_t>(a + n - 4) == Load<uint32_t>(b + n - 4);
  }
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Copies n bytes from `from` to `to` (not overlapping; n may be 0).
inline void CopyBytes(char* to, const char* from, size_t n) {
  using short_bytes_internal::Load;
  using short_bytes_internal::Store;
  if (n > 16) {
    std::memcpy(to, from, n);
  } else if (n >= 8) {
    const uint64_t head = Load<uint64_t>(from);
    const uint64_t tail = Load<uint64_t>(from + n - 8);
    Store(to, head);
    Store(to + n - 8, tail);
  } else if (n >= 4) {
    const uint32_t head = Load<uint32_t>(from);
    const uint32_t tail = Load<uint32_t>(from + n - 4);
    Store(to, head);
    Store(to + n - 4, tail);
  } else {
    for (size_t i = 0; i < n; ++i) to[i] = from[i];
  }
}

// Sets `out` to `text`, not copying when it holds that text already (a
// reused entry mostly had the same method, target, route, media type).
inline void SetText(std::string& out, std::string_view text) {
  if (out.size() == text.size() &&
      SameBytes(out.data(), text.data(), text.size())) {
    return;
  }
  out.assign(text);
}

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_SHORT_BYTES_H_
