// Raw-socket operations on one accepted TCP connection: the faults a mock
// receiver plays below HTTP (reset, empty, garbage, hang, dribble) and the
// check whether the peer has gone.
//
// Every function takes the connection's descriptor and never closes it:
// the descriptor stays valid (a number the owner closes exactly once), so
// no other thread can be handed the same number while the owner still
// holds it. Sends use MSG_NOSIGNAL: a vanished peer is an error value,
// never a SIGPIPE. Thread: each function works on its own descriptor;
// call them from the thread that serves the connection.
#ifndef HOOKSIM_MOCK_RECEIVERS_HTTP_CONNECTION_FAULTS_H_
#define HOOKSIM_MOCK_RECEIVERS_HTTP_CONNECTION_FAULTS_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <string_view>

namespace hooksim {

// The bytes the garbage fault sends: not an HTTP answer (no "HTTP/"
// status line), with a NUL and bytes that are not UTF-8.
inline constexpr char kGarbageData[] =
    "\x16\x03\x01GARBAGE\x00\xff\xfe hooksim: this is not HTTP\r\n\r\n";
inline constexpr std::string_view kGarbageBytes{kGarbageData,
                                                sizeof(kGarbageData) - 1};

// Non-blocking: true when the peer has closed its side (FIN or RST) and no
// byte of it is left to read. Data the peer sent is left in place.
bool PeerHasClosed(int fd);

// Sends every byte, waiting up to `timeout` for room each time the socket
// buffer is full. False on error (peer gone) or timeout.
bool SendAll(int fd, std::string_view bytes, std::chrono::milliseconds timeout);

// Reset: sets SO_LINGER {on, 0 s} and replaces the connection's descriptor
// with a fresh unconnected socket (dup2), which closes the connection at
// once with an RST. The number `fd` then names the harmless replacement.
// False when the replacement could not be made (the connection is then
// shut down instead: the peer sees EOF, not RST).
bool ResetConnection(int fd);

// Empty answer: shuts the connection down both ways (the peer reads EOF
// with no byte).
void ShutDownConnection(int fd);

// Garbage: sends kGarbageBytes then shuts the connection down. False when
// the peer was already gone.
bool SendGarbageAndClose(int fd, std::chrono::milliseconds timeout);

enum class HangEnd {
  kPeerClosed,  // The peer closed (or reset) the connection.
  kWoken,       // wake_fd became readable (the server is stopping).
  kOverflow,    // The peer sent more than kMaxHangDiscardBytes meanwhile.
  kError,       // poll failed.
};
inline constexpr size_t kMaxHangDiscardBytes = 1 << 20;

// Hang: answers nothing and waits until the peer closes the connection or
// wake_fd (a StopSignal's fd, may be -1) is readable. Bytes the peer sends
// meanwhile are read and dropped, up to kMaxHangDiscardBytes. Does not
// close or shut down anything.
HangEnd HoldUntilPeerCloses(int fd, int wake_fd);

enum class DribbleEnd {
  kSent,        // Every byte went out.
  kPeerClosed,  // The peer closed before the last byte was sent.
  kStopped,     // wait_until returned false (the server is stopping).
  kError,       // A send failed or timed out.
};

// Dribble: sends `bytes` in up to `max_pieces` parts spread evenly over
// `spread`: the first part at once, the last when `spread` has elapsed.
// Between parts it sleeps with wait_until(deadline), which returns false
// to abandon the answer. Does not close or shut down anything.
DribbleEnd DribbleBytes(
    int fd, std::string_view bytes, std::chrono::nanoseconds spread,
    size_t max_pieces, std::chrono::milliseconds send_timeout,
    const std::function<bool(std::chrono::steady_clock::time_point)>&
        wait_until);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_HTTP_CONNECTION_FAULTS_H_
