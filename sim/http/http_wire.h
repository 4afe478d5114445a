// The wire rules of hooksim's HTTP client, which HttpTransport's
// event-driven engine (sim/http/http_io_loop.h) follows, and the helpers it
// shares: the request head and the AttemptError of a socket error.
//
// Why not cpp-httplib's client: it reports a reset, an empty reply, bytes
// that are not HTTP and a read timeout all as Error::Read, and its timeouts
// bound each socket operation, not the exchange, so a receiver that dribbles
// its answer one byte at a time holds it forever. hooksim must tell these
// apart (they are different receiver faults) and bound the whole attempt.
//
// What one attempt does, all before its deadline (connect + write + read of the
// complete answer; poll() on non-blocking sockets):
//   - parses the URL (sim/http/http_url.h) and resolves host:port once
//     (cached in the shared AddressCache), trying IPv4 addresses first;
//   - takes this client's idle keep-alive connection to that host:port, or
//     connects a new one (TCP_NODELAY on);
//   - writes "METHOD TARGET HTTP/1.1", Host, the request's headers (any Host,
//     Content-Length, Connection or Transfer-Encoding among them, and any
//     header with CR, LF or NUL in it, are dropped), Content-Length,
//     "Connection: keep-alive", then the body, in one sendmsg where it fits;
//   - reads the answer with HttpAnswerParser (sim/http/http_answer_parser.h:
//     the parsing rules, caps and kEmptyReply / kMalformed verdicts live
//     there):
//     the status line and headers (at most max_head_bytes; 1xx interim
//     answers other than 101 are skipped), then the body, which is
//     discarded: chunked, Content-Length, or until the server closes.
//     Redirects are never followed: a 3xx is an answer like any other.
//
// Errors (AttemptResult::error):
//   kRefused     the URL is not http://host[:port]/path, the host does not
//                resolve, or no address accepted the connection;
//   kTimeout     the deadline passed at any stage, including in the middle
//                of a slowly dribbled answer;
//   kReset       the connection was reset (ECONNRESET, or another socket
//                error) while writing or reading;
//   kEmptyReply  the server closed the connection before any answer byte;
//   kMalformed   bytes that are not an HTTP/1.x answer (checked from the
//                first five bytes on, so garbage is reported at once), a
//                status line or header that does not parse, a head larger
//                than max_head_bytes, or a connection closed in the middle
//                of an answer.
// A body larger than max_drained_body_bytes is not read to its end: the
// status counts (the receiver has answered) and the connection is closed.
//
// Keep-alive: after a complete answer with HTTP/1.1 (without
// "Connection: close") or HTTP/1.0 with "Connection: keep-alive", and with
// no stray bytes after it, the connection is kept idle for the next request
// to the same host:port. An idle connection older than max_idle, or one
// that has shown EOF, a reset or unexpected bytes by the time it is taken
// (the server closed it while idle; epoll reports it, and the loop looks
// at what epoll reported before it hands idle connections out, or uses
// what its own epoll_wait of that round just returned), is discarded and a
// new one is connected. When
// writing on a reused connection fails before any byte of the request was
// accepted, the request is sent once more on a new connection: the server
// cannot have seen it, so this is not a new attempt. A request that was
// fully written is never sent again, even if the reused connection then
// closes without an answer: the receiver may have processed it (a receiver
// whose fault is "empty" does exactly that), and sending it twice would
// make one attempt look like two at the receiver. (This is the rule of
// Go's net/http for non-idempotent requests.) max_idle defaults below
// cpp-httplib's 5 s server keep-alive timeout so that race is avoided with
// hooksim's own receivers.
//
// Thread: the functions are pure or act on the given descriptor only.
#ifndef HOOKSIM_SIM_HTTP_HTTP_WIRE_H_
#define HOOKSIM_SIM_HTTP_HTTP_WIRE_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/contract/http_types.h"
#include "sim/http/address_cache.h"
#include "sim/http/http_answer_parser.h"
#include "sim/http/http_url.h"

namespace hooksim {

// Counters shared by the clients of one transport.
struct HttpClientCounters {
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> connections_reused{0};  // Requests on a kept one.
  // Idle connections found closed by the server, and requests sent again
  // because writing on a reused connection failed.
  std::atomic<uint64_t> stale_connections{0};
};

// The request head BuildRequestHead writes into *head (see above).
void BuildRequestHead(const HttpRequest& request, const HttpUrl& url,
                      std::string* head);
// The AttemptError of a failed connect(), and of a send/recv error.
AttemptError ConnectErrorKind(int err);
AttemptError SocketErrorKind(int err);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_HTTP_HTTP_WIRE_H_
