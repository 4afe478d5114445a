// Why a listening socket cannot be had: the receiver's server and the
// worker's metrics server both listen through cpp-httplib, which says only
// that binding failed; this asks the kernel for the cause.
#ifndef HOOKSIM_SIM_OS_BIND_PROBE_H_
#define HOOKSIM_SIM_OS_BIND_PROBE_H_

#include <string>

namespace hooksim {

// Tries to bind and listen on host:port (each address the name resolves
// to) and returns why that fails, as the kernel or the resolver words it
// ("Address already in use", "Name or service not known"); "cannot
// listen" when every try succeeded (the failure was not the address's).
std::string DescribeBindFailure(const std::string& host, int port);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_OS_BIND_PROBE_H_
