// Bytes both server cores write alike: the answer to a request refused
// before the behaviour, and a socket's address as the journal gives it.
#ifndef HOOKSIM_MOCK_RECEIVERS_HTTP_REFUSAL_ANSWER_H_
#define HOOKSIM_MOCK_RECEIVERS_HTTP_REFUSAL_ANSWER_H_

#include <string>

namespace hooksim {

// The whole answer to a refused request: the status line (400 Bad
// Request, 405, 413, 431, else "Error"), Content-Type application/json,
// Content-Length, `Allow: <allow>` when allow is not empty, Connection:
// close, and the body {"error": reason} (invalid UTF-8 in reason replaced).
std::string RefusalAnswer(int status, const std::string& reason,
                          const std::string& allow);

// The numeric IP and port of a socket's end (the peer's, or the local
// one); false, with ip "" and port -1, when the kernel does not tell.
bool SocketAddress(int fd, bool peer, std::string& ip, int& port);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_HTTP_REFUSAL_ANSWER_H_
