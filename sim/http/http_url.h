// Parsing of the webhook URLs the HTTP transport can reach:
// http://HOST[:PORT][/PATH][?QUERY][#FRAGMENT], nothing else.
//
// HOST is a name, an IPv4 address or a bracketed IPv6 address ("[::1]");
// PORT is 1..65535 (default 80). The fragment is dropped (it is never sent).
// User info ("user@host"), other schemes (https:// included: hooksim's
// transport speaks plain HTTP/1.1 only), empty hosts, and spaces or control
// characters anywhere are errors.
// Errors: a value whose message says what is wrong with the URL.
// Thread: pure functions.
#ifndef HOOKSIM_SIM_HTTP_HTTP_URL_H_
#define HOOKSIM_SIM_HTTP_HTTP_URL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/base/result.h"

namespace hooksim {

struct HttpUrl {
  std::string host;  // Without brackets: "127.0.0.1", "::1", "a.b".
  uint16_t port = 80;
  std::string target;       // Path and query; "/" when the URL has none.
  std::string host_header;  // Value of the Host header: "a.b:8080",
                            // "[::1]:9", or "a.b" for port 80.
};

Result<HttpUrl> ParseHttpUrl(std::string_view url);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_HTTP_HTTP_URL_H_
