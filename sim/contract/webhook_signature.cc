#include "sim/contract/webhook_signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace hooksim {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string Hmac(std::string_view key, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       mac.data(), &mac_len);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac_len);
}

std::string LowerHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                       (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8) |
                       uint32_t{static_cast<uint8_t>(bytes[i + 2])};
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // Data after padding.
      v[k] = DecodeChar(c);
      if (v[k] < 0) return std::nullopt;
    }
    const uint32_t n = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) |
                       (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

Result<std::string> DecodeWebhookSecret(std::string_view secret) {
  if (secret.substr(0, kWebhookSecretPrefix.size()) != kWebhookSecretPrefix) {
    return Status::InvalidArgument(
        "a webhook secret starts with \"whsec_\", got \"" +
        std::string(secret.substr(0, 64)) + "\"");
  }
  const std::string_view encoded = secret.substr(kWebhookSecretPrefix.size());
  std::optional<std::string> key = Base64Decode(encoded);
  if (!key) {
    return Status::InvalidArgument(
        "the part of a webhook secret after \"whsec_\" must be standard "
        "base64 (A-Z a-z 0-9 + /, padded with =), got \"" +
        std::string(encoded.substr(0, 64)) + "\"");
  }
  if (key->empty() || key->size() > kMaxWebhookSecretBytes) {
    return Status::InvalidArgument("a webhook secret must decode to 1.." +
                                   std::to_string(kMaxWebhookSecretBytes) +
                                   " bytes, got " +
                                   std::to_string(key->size()));
  }
  return std::move(*key);
}

std::string SignWebhook(std::string_view key, std::string_view id,
                        int64_t timestamp_s, std::string_view body) {
  std::string message;
  const std::string ts = std::to_string(timestamp_s);
  message.reserve(id.size() + ts.size() + body.size() + 2);
  message.append(id).append(".").append(ts).append(".").append(body);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       mac.data(), &mac_len);
  return "v1," + Base64Encode(std::string_view(
                     reinterpret_cast<const char*>(mac.data()), mac_len));
}

std::string SignGithubSha256(std::string_view key, std::string_view body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(),
       mac.data(), &mac_len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  out.reserve(7 + 2 * mac_len);
  for (unsigned int i = 0; i < mac_len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0xf]);
  }
  return out;
}

std::string SignStripeV1(std::string_view key, int64_t timestamp_s,
                         std::string_view body) {
  std::string message = std::to_string(timestamp_s);
  message.reserve(message.size() + 1 + body.size());
  message.append(".").append(body);
  return LowerHex(Hmac(key, message));
}

std::string StripeSignatureHeader(std::string_view key, int64_t timestamp_s,
                                  std::string_view body) {
  return "t=" + std::to_string(timestamp_s) +
         ",v1=" + SignStripeV1(key, timestamp_s, body);
}

std::string SignShopify(std::string_view key, std::string_view body) {
  return Base64Encode(Hmac(key, body));
}

}  // namespace hooksim
