#include "sim/cli/contracts_command.h"

#include <nlohmann/json.hpp>

#include "sim/cli/exit_code.h"
#include "sim/contract/contract_file.h"

namespace hooksim {

std::string ContractsHelp() {
  return "usage: hooksim contracts list | show NAME|FILE\n"
         "\n"
         "  list            print the built-in contract profiles as a JSON "
         "array\n"
         "  show NAME|FILE  print one profile as JSON in the contract file "
         "format\n"
         "                  (scenarios/schemas/contract.schema.json)\n"
         "\n"
         "built-in profiles: " +
         BuiltinContractNames() +
         "\n"
         "exit codes: 0 printed, 2 unknown name, bad file or bad usage\n";
}

int RunContractsCommand(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    out << ContractsHelp();
    return ToInt(ExitCode::kOk);
  }
  if (args.size() == 1 && args[0] == "list") {
    nlohmann::json list = nlohmann::json::array();
    for (const Contract& c : BuiltinContracts()) {
      list.push_back(ContractToJson(c));
    }
    out << list.dump(2) << "\n";
    return ToInt(ExitCode::kOk);
  }
  if (args.size() == 2 && args[0] == "show") {
    Result<Contract> contract = LoadContract(args[1]);
    if (!contract.ok()) {
      err << "hooksim contracts: " << contract.error().ToString() << "\n";
      return ToInt(ExitCodeFor(contract.error()));
    }
    out << ContractToJson(*contract).dump(2) << "\n";
    return ToInt(ExitCode::kOk);
  }
  err << "hooksim contracts: expected \"list\" or \"show NAME|FILE\"\n"
      << ContractsHelp();
  return ToInt(ExitCode::kUsage);
}

}  // namespace hooksim
