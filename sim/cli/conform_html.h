// The picture of a conform run for its HTML page (html_conform_report.h),
// taken from the cases' results.
// Thread: pure function.
#ifndef HOOKSIM_SIM_CLI_CONFORM_HTML_H_
#define HOOKSIM_SIM_CLI_CONFORM_HTML_H_

#include <vector>

#include "sim/cli/conform_command.h"
#include "sim/report/html_conform_report.h"

namespace hooksim {

ConformPicture ConformHtmlPicture(const ConformOptions& options,
                                  const std::vector<CaseResult>& results,
                                  Duration total, bool interrupted);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_CONFORM_HTML_H_
