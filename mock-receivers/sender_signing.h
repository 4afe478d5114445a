// The receivers' half of a signing contract: a behaviour that answers 401
// to any request not signed, by the contract's scheme, with the secret
// handed to the sender (sim/contract/sender_env.h), as `conform`'s signed
// case and `bench --sender-cmd` under a signing profile check.
// Errors: none. Thread: pure function.
#ifndef HOOKSIM_MOCK_RECEIVERS_SENDER_SIGNING_H_
#define HOOKSIM_MOCK_RECEIVERS_SENDER_SIGNING_H_

#include "mock-receivers/behavior.h"
#include "sim/contract/contract.h"

namespace hooksim {

// Sets spec's signature check to the contract's scheme and kSenderSecret;
// leaves spec unchanged when the contract does not sign.
void VerifySenderSignatures(const Contract& contract, BehaviorSpec& spec);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_SENDER_SIGNING_H_
