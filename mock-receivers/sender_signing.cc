#include "mock-receivers/sender_signing.h"

#include "sim/contract/sender_env.h"
#include "sim/contract/webhook_signature.h"

namespace hooksim {

void VerifySenderSignatures(const Contract& contract, BehaviorSpec& spec) {
  if (!contract.signatures_required()) return;
  spec.verify_secret = kSenderSecret;
  if (contract.signing == SigningScheme::kStandardWebhooks) {
    spec.verify_scheme = SignatureScheme::kStandardWebhooks;
    spec.verify_key = DecodeWebhookSecret(kSenderSecret).value();
  } else {
    // GitHub's key is the secret text itself.
    spec.verify_scheme = SignatureScheme::kGithub;
    spec.verify_key = kSenderSecret;
  }
}

}  // namespace hooksim
