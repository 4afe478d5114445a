// The JSON Schemas of scenarios/schemas/, compiled into the binary by CMake
// (see sim/embedded_schemas.cc.in).
#ifndef HOOKSIM_SIM_CONTRACT_EMBEDDED_SCHEMAS_H_
#define HOOKSIM_SIM_CONTRACT_EMBEDDED_SCHEMAS_H_

#include <string_view>

namespace hooksim {

std::string_view EmbeddedEnvelopeSchema();  // scenarios/schemas/envelope.schema.json
std::string_view EmbeddedReleaseSchema();   // scenarios/schemas/release.schema.json
std::string_view EmbeddedContractSchema();  // scenarios/schemas/contract.schema.json

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONTRACT_EMBEDDED_SCHEMAS_H_
