#include "sim/http/address_cache.h"

#include <netdb.h>

#include <algorithm>
#include <cstring>

namespace hooksim {

std::string AddressKey(const std::string& host, uint16_t port) {
  return host + "|" + std::to_string(port);
}

Result<AddressList> AddressCache::Resolve(const std::string& host,
                                          uint16_t port) {
  return Resolve(host, port, AddressKey(host, port));
}

Result<AddressList> AddressCache::Resolve(const std::string& host,
                                          uint16_t port,
                                          const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    return Status::Unavailable("cannot resolve \"" + host +
                               "\": " + gai_strerror(rc));
  }
  auto list = std::make_shared<std::vector<SocketAddress>>();
  constexpr size_t kMaxAddresses = 16;
  for (addrinfo* ai = found; ai != nullptr && list->size() < kMaxAddresses;
       ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    SocketAddress a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = static_cast<socklen_t>(ai->ai_addrlen);
    a.family = ai->ai_family;
    list->push_back(a);
  }
  freeaddrinfo(found);
  if (list->empty()) {
    return Status::Unavailable("cannot resolve \"" + host +
                               "\": no IPv4 or IPv6 address");
  }
  std::stable_partition(list->begin(), list->end(), [](const SocketAddress& a) {
    return a.family == AF_INET;
  });
  AddressList shared = std::move(list);
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() < max_entries_) entries_.emplace(key, shared);
  return shared;
}

}  // namespace hooksim
