#include "sim/base/delivery_id.h"

#include <array>
#include <bit>
#include <cstring>

namespace hooksim {
namespace {

constexpr std::string_view kPrefix = "dlv_";
static_assert(kPrefix.size() == 4, "ParseDeliveryId reads the prefix as one word");

// The value of the 8 lowercase hex digits at p, most significant first;
// false when one is not a lowercase hex digit. Eight bytes at once (this
// runs on every table lookup): each byte is classed by adding a constant
// that sets its top bit exactly when it is at or above a bound (no carry
// crosses bytes once every top bit is known clear), then the nibbles are
// gathered pairwise.
[[gnu::always_inline]] inline bool Hex8(const char* p, uint64_t* value) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kTops = 0x8080808080808080ULL;
  uint64_t x;
  std::memcpy(&x, p, 8);
  if constexpr (std::endian::native == std::endian::big) {
    x = __builtin_bswap64(x);
  }
  // Byte i of x is the i-th character from here on (little-endian order).
  if ((x & kTops) != 0) return false;
  auto at_least = [x](unsigned bound) { return (x + (0x80 - bound) * kOnes) & kTops; };
  const uint64_t digit = at_least('0') & ~at_least('9' + 1);
  const uint64_t letter = at_least('a') & ~at_least('f' + 1);
  if ((digit | letter) != kTops) return false;
  // Each byte's nibble: '0'..'9' -> 0..9, 'a'..'f' -> 1..6 + 9.
  uint64_t v = (x & (0x0f * kOnes)) + (letter >> 7) * 9;
  // Byte 0 is the most significant digit: gather pairs, then quads, ...
  v = ((v << 4) | (v >> 8)) & 0x00ff00ff00ff00ffULL;
  v = ((v << 8) | (v >> 16)) & 0x0000ffff0000ffffULL;
  v = ((v << 16) | (v >> 32)) & 0x00000000ffffffffULL;
  *value = v;
  return true;
}

}  // namespace

bool ParseDeliveryId(std::string_view text, uint64_t* number) {
  if (text.size() != kDeliveryIdSize) return false;
  // The prefix as one 4-byte word (a fixed-size memcpy is a load).
  uint32_t prefix;
  uint32_t want;
  std::memcpy(&prefix, text.data(), 4);
  std::memcpy(&want, kPrefix.data(), 4);
  if (prefix != want) return false;
  uint64_t high;
  uint64_t low;
  if (!Hex8(text.data() + 4, &high) || !Hex8(text.data() + 12, &low)) {
    return false;
  }
  *number = (high << 32) | low;
  return true;
}

namespace {

// Writes the 8 lowercase hex digits of `v` to out[0..8), most significant
// first, without a loop: each nibble is spread to its own byte, then all
// eight become digits at once (this runs for every request sent).
void Hex8Out(uint32_t v, char* out) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  // The most significant nibble is now in the highest byte; memory order
  // wants it first.
  if constexpr (std::endian::native == std::endian::little) {
    x = __builtin_bswap64(x);
  }
  // Bytes of 10..15 get 'a' - '0' - 10 more than '0' + n.
  const uint64_t letters =
      ((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
  x += 0x3030303030303030ULL + letters * ('a' - '0' - 10);
  std::memcpy(out, &x, 8);
}

}  // namespace

void FormatDeliveryId(uint64_t number, char* out) {
  std::memcpy(out, kPrefix.data(), kPrefix.size());
  Hex8Out(static_cast<uint32_t>(number >> 32), out + 4);
  Hex8Out(static_cast<uint32_t>(number), out + 12);
}

DeliveryId DeliveryId::FromText(std::string_view text) {
  DeliveryId id;
  if (!ParseDeliveryId(text, &id.number_)) {
    id.text_ = std::make_unique<std::string>(text);
  }
  return id;
}

DeliveryId& DeliveryId::operator=(const DeliveryId& other) {
  if (this == &other) return *this;
  number_ = other.number_;
  text_ = other.text_ ? std::make_unique<std::string>(*other.text_) : nullptr;
  return *this;
}

std::string DeliveryId::str() const {
  if (text_) return *text_;
  return std::string(DeliveryIdText(number_).view());
}

std::string_view DeliveryId::View(char (&scratch)[kDeliveryIdSize]) const {
  if (text_) return *text_;
  FormatDeliveryId(number_, scratch);
  return std::string_view(scratch, kDeliveryIdSize);
}

bool operator==(const DeliveryId& a, const DeliveryId& b) {
  if (a.canonical() != b.canonical()) return false;
  return a.canonical() ? a.number_ == b.number_ : *a.text_ == *b.text_;
}

bool operator==(const DeliveryId& a, std::string_view b) {
  if (!a.canonical()) return *a.text_ == b;
  uint64_t number = 0;
  return ParseDeliveryId(b, &number) && number == a.number_;
}

std::ostream& operator<<(std::ostream& out, const DeliveryId& id) {
  if (id.text_) return out << *id.text_;
  return out << DeliveryIdText(id.number_).view();
}

}  // namespace hooksim
