#include "sim/base/delivery_id.h"

#include <array>
#include <bit>
#include <cstring>

namespace hooksim {
namespace {

constexpr std::string_view kPrefix = "dlv_";

// Per byte: the value of a lowercase hex digit, else -1 (sign bit set).
constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
           : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
                                  : int8_t{-1};
  }
  return t;
}();

// The value of 8 hex digits at p; *bad gets its sign bit set when one is
// not a lowercase hex digit. Branch-free: this runs on every table lookup.
uint64_t Hex8(const char* p, int* bad) {
  uint64_t value = 0;
  int flags = 0;
  for (int i = 0; i < 8; ++i) {
    const int8_t digit = kHexValue[static_cast<unsigned char>(p[i])];
    flags |= digit;
    value = (value << 4) | static_cast<uint8_t>(digit & 0xf);
  }
  *bad |= flags;
  return value;
}

}  // namespace

bool ParseDeliveryId(std::string_view text, uint64_t* number) {
  if (text.size() != kDeliveryIdSize ||
      std::memcmp(text.data(), kPrefix.data(), kPrefix.size()) != 0) {
    return false;
  }
  int bad = 0;
  // Two independent halves (the CPU overlaps them).
  const uint64_t high = Hex8(text.data() + 4, &bad);
  const uint64_t low = Hex8(text.data() + 12, &bad);
  if (bad < 0) return false;
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
