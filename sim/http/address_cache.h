// Resolves host:port pairs to socket addresses once and remembers them.
//
// Numeric addresses and "localhost" resolve locally; other names go through
// getaddrinfo and may block on DNS (not bounded by any attempt's timeout,
// but done once per host:port). IPv4 addresses come before IPv6 ones, each
// family in getaddrinfo's order, so "localhost" reaches servers that bind
// 127.0.0.1 on the first connect. Failures are not cached (DNS may recover).
// At most max_entries host:port pairs are kept; beyond that, results are
// returned but not remembered.
// Errors: a value with getaddrinfo's message.
// Thread: Resolve is thread-safe (one mutex; getaddrinfo runs outside it).
#ifndef HOOKSIM_SIM_HTTP_ADDRESS_CACHE_H_
#define HOOKSIM_SIM_HTTP_ADDRESS_CACHE_H_

#include <sys/socket.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sim/base/result.h"

namespace hooksim {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = 0;
};

using AddressList = std::shared_ptr<const std::vector<SocketAddress>>;

// "host|port": the key of a host:port pair (addresses, idle connections).
std::string AddressKey(const std::string& host, uint16_t port);

class AddressCache {
 public:
  explicit AddressCache(size_t max_entries = 1024)
      : max_entries_(max_entries) {}
  AddressCache(const AddressCache&) = delete;
  AddressCache& operator=(const AddressCache&) = delete;

  // One or more addresses for host:port, or why there are none.
  Result<AddressList> Resolve(const std::string& host, uint16_t port);
  // The same, with `key` given: exactly AddressKey(host, port) (callers
  // that resolve the same pair per request build it once).
  Result<AddressList> Resolve(const std::string& host, uint16_t port,
                              const std::string& key);

 private:
  const size_t max_entries_;
  std::mutex mu_;
  std::map<std::string, AddressList> entries_;  // Key "host|port".
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_HTTP_ADDRESS_CACHE_H_
