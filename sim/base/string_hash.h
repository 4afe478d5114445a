// Transparent hashing for unordered containers keyed by std::string, so
// lookups by std::string_view do not allocate (hot paths: per-attempt
// lookups by delivery id).
#ifndef HOOKSIM_SIM_BASE_STRING_HASH_H_
#define HOOKSIM_SIM_BASE_STRING_HASH_H_

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hooksim {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>{}(s);
  }
};

template <typename V>
using StringMap =
    std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_STRING_HASH_H_
