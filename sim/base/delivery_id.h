// Delivery ids as numbers: the engine's ids are "dlv_" + 16 lowercase hex
// digits (a 64-bit number), so they are kept as that number (8 bytes) and
// formatted only where they are printed or sent. Any other text (an id a
// durable store or another sender made) is kept as text.
//
// DeliveryIdText is the formatted text of a canonical id, held inline
// (no allocation); DeliveryId is an id of either kind.
// Thread: plain values.
#ifndef HOOKSIM_SIM_BASE_DELIVERY_ID_H_
#define HOOKSIM_SIM_BASE_DELIVERY_ID_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace hooksim {

// Length of a canonical id: "dlv_" + 16 hex digits.
inline constexpr size_t kDeliveryIdSize = 20;

// True when `text` is exactly "dlv_" + 16 lowercase hex digits; then
// *number is their value (so FormatDeliveryId(*number) == text).
bool ParseDeliveryId(std::string_view text, uint64_t* number);
// Writes "dlv_" + 16 lowercase hex digits of `number` to out[0..20).
void FormatDeliveryId(uint64_t number, char* out);

// The text of a canonical id, held inline. Views into it live as long as
// it does.
class DeliveryIdText {
 public:
  explicit DeliveryIdText(uint64_t number) { FormatDeliveryId(number, text_); }
  std::string_view view() const {
    return std::string_view(text_, kDeliveryIdSize);
  }

 private:
  char text_[kDeliveryIdSize];
};

// A delivery id: a canonical one as its number (8 bytes and a null
// pointer), any other as its text.
class DeliveryId {
 public:
  DeliveryId() = default;
  // The canonical id of `number`.
  explicit DeliveryId(uint64_t number) : number_(number) {}
  // The id `text`: kept as a number when canonical.
  static DeliveryId FromText(std::string_view text);

  DeliveryId(const DeliveryId& other) { *this = other; }
  DeliveryId& operator=(const DeliveryId& other);
  DeliveryId(DeliveryId&&) noexcept = default;
  DeliveryId& operator=(DeliveryId&&) noexcept = default;

  // False for a text id that is not canonical.
  bool canonical() const { return text_ == nullptr; }
  // The number of a canonical id (0 for another).
  uint64_t number() const { return canonical() ? number_ : 0; }
  // The text, formatted for a canonical id.
  std::string str() const;
  // The text: a view of `scratch` (formatted there) for a canonical id, or
  // of the kept text; valid while both live.
  std::string_view View(char (&scratch)[kDeliveryIdSize]) const;

  friend bool operator==(const DeliveryId& a, const DeliveryId& b);
  friend bool operator==(const DeliveryId& a, std::string_view b);
  friend std::ostream& operator<<(std::ostream& out, const DeliveryId& id);

 private:
  uint64_t number_ = 0;
  std::unique_ptr<std::string> text_;  // Set for a non-canonical id only.
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_DELIVERY_ID_H_
