#include "sim/contract/webhook_signature.h"

#include <gtest/gtest.h>

namespace hooksim {
namespace {

// The known-answer vector of the Standard Webhooks specification.
TEST(WebhookSignatureTest, StandardWebhooksKnownAnswer) {
  Result<std::string> key =
      DecodeWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(SignWebhook(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                        R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignatureTest, AnyChangedPartChangesTheSignature) {
  const std::string key = *DecodeWebhookSecret("whsec_c2VjcmV0");
  const std::string base = SignWebhook(key, "id", 10, "body");
  EXPECT_NE(SignWebhook(key, "id2", 10, "body"), base);
  EXPECT_NE(SignWebhook(key, "id", 11, "body"), base);
  EXPECT_NE(SignWebhook(key, "id", 10, "body "), base);
  EXPECT_NE(SignWebhook("other", "id", 10, "body"), base);
  EXPECT_EQ(SignWebhook(key, "id", 10, "body"), base);
}

TEST(WebhookSignatureTest, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    const std::string encoded = Base64Encode(bytes);
    EXPECT_EQ(encoded.size() % 4, 0u);
    const std::optional<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, bytes);
    bytes += static_cast<char>(n * 37 + 200);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
}

TEST(WebhookSignatureTest, BadSecretsAreErrorsThatSayWhy) {
  struct Case {
    const char* secret;
    const char* message;
  } cases[] = {
      {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with \"whsec_\""},
      {"whsec_", "decode to 1..1024 bytes, got 0"},
      {"whsec_abc", "must be standard base64"},
      {"whsec_ab!d", "must be standard base64"},
      {"whsec_a===", "must be standard base64"},
      {"whsec_Zg==Zg==", "must be standard base64"},
  };
  for (const Case& c : cases) {
    Result<std::string> key = DecodeWebhookSecret(c.secret);
    ASSERT_FALSE(key.ok()) << c.secret;
    EXPECT_NE(key.error().message().find(c.message), std::string::npos)
        << c.secret << ": " << key.error().message();
  }
}

}  // namespace
}  // namespace hooksim
