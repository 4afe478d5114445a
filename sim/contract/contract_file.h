// Contract profiles as files and as built-in values.
//
// A contract file is a JSON object in the format of
// scenarios/schemas/contract.schema.json (README "Contracts"): name,
// source, attempts, schedule_ms, jitter, timeout_ms, success, redirects,
// gone_410, retry_after {mode, statuses, clamp, max_ms}, throttle_floor_ms,
// signing. `hooksim contracts show NAME` prints a built-in profile in the
// same format, so a printed profile parses back to the same Contract.
// Thread: pure functions; the built-in table is immutable.
#ifndef HOOKSIM_SIM_CONTRACT_CONTRACT_FILE_H_
#define HOOKSIM_SIM_CONTRACT_CONTRACT_FILE_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/result.h"
#include "sim/contract/contract.h"

namespace hooksim {

// Contract files larger than this are refused.
inline constexpr size_t kMaxContractFileBytes = 64 * 1024;

// Checks `doc` against the contract schema (valijson), then its consistency
// (at most attempts-1 delays, at least one delay when re-attempts are
// allowed, jitter in [0, 1), success range ordered, clamp ordered). Errors
// carry the JSON pointer of the bad field in Status::path().
Result<Contract> ContractFromJson(const nlohmann::json& doc);
// Parses JSON text (`name` is the file name for errors).
Result<Contract> ParseContractText(std::string_view text,
                                   std::string_view name);
// The file format of `contract` (every key written).
nlohmann::json ContractToJson(const Contract& contract);

// The built-in profiles, divshot first; each names its source.
const std::vector<Contract>& BuiltinContracts();
// The built-in profile `name`, or nullptr.
const Contract* FindBuiltinContract(std::string_view name);
// "divshot, standard-webhooks, svix, github".
std::string BuiltinContractNames();

// NAME|FILE: a built-in profile name, else a path to a contract file (a
// value holding '/' or ending in ".json"). An unknown name is an error
// listing the known ones; a bad file names the file and the pointer.
Result<Contract> LoadContract(std::string_view name_or_file);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONTRACT_CONTRACT_FILE_H_
