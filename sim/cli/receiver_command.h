// `hooksim receiver`: serves mock receivers over real HTTP on loopback (or
// the address given) until SIGINT or SIGTERM.
//
// One receiver from --behavior JSON (or --behavior-file, or the routes of
// --behavior-dir), named "default",
// or every receiver of a --scenario, each on its own port: the first one
// (in name order) on --listen's port, the others on kernel-chosen ports
// (all kernel-chosen when that port is 0). Each receiver checks bodies
// against the bundled schemas (C3/C4), journals what it received, draws
// its randomness from Random(seed).Fork("receiver:NAME") as `hooksim run`
// does, and serves the admin API under /__hooksim/.
//
// Output: one line per receiver once all are listening (stdout, flushed):
//   receiver NAME  http://HOST:PORT/hook  admin http://HOST:PORT/__hooksim/
// with --log, one line per webhook request as it ends (with several
// receivers, text lines start with "[NAME] "; JSON lines carry
// "receiver"), and, after the stop signal, one summary line per receiver.
// Routes that overlap or are never reached (RouteWarnings) are warned
// about on `err` before serving ("hooksim receiver: warning: receiver
// NAME: ...").
// A --listen host that is not loopback (IsLoopbackHost) without
// --admin-token prints a warning on `err` first: anyone who can reach the
// port can reset the journal and replace the behaviour.
// With --admin-listen, one more line per receiver:
//   admin NAME  http://HOST:PORT/__hooksim/
// Exit codes: 0 after a clean stop; 2 for bad input (bad --listen or
// --admin-listen, port in use, bad behaviour, unreadable or malformed file,
// a --behavior-dir that is missing or has no route file, a --journal-file
// that cannot be opened for appending, bad number, a body
// limit out of range), with a
// message on `err` naming the flag and the value.
// Thread: call from the main thread; the signal wait blocks SIGINT and
// SIGTERM in the calling thread while it runs (restored on return).
#ifndef HOOKSIM_SIM_CLI_RECEIVER_COMMAND_H_
#define HOOKSIM_SIM_CLI_RECEIVER_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/journal.h"
#include "mock-receivers/request_log.h"
#include "sim/base/result.h"

namespace hooksim {

inline constexpr size_t kMaxJournalCapacity = 1'000'000;
// Request bodies above --max-body-bytes get 413; the limit itself is
// 1..kMaxBodyBytesLimit.
inline constexpr size_t kMaxBodyBytesLimit = size_t{1} << 30;
// --journal-max-bytes is kMinJournalMaxBytes..kMaxJournalMaxBytes.
inline constexpr size_t kMinJournalMaxBytes = 4096;
inline constexpr size_t kMaxJournalMaxBytes = size_t{16} << 30;

struct ReceiverCommandOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT ("[::1]:80" for IPv6).
  // At most one behaviour source; none: always 200.
  std::optional<std::string> behavior;       // --behavior JSON text.
  std::optional<std::string> behavior_file;  // --behavior-file path.
  // --behavior-dir: one route per *.json file (LoadBehaviorDir).
  std::optional<std::string> behavior_dir;
  std::optional<std::string> scenario;       // --scenario path.
  std::optional<uint64_t> seed;              // Default: scenario's, or 1.
  double time_scale = 1.0;                   // (0, 1].
  size_t journal_capacity = 1024;            // 1..kMaxJournalCapacity.
  size_t max_body_bytes = 8 << 20;           // 1..kMaxBodyBytesLimit.
  // Bytes of each body the journal keeps (0..kMaxBodyBytesLimit).
  size_t journal_body_cap = kDefaultJournalBodyCap;
  // Recorded bytes each journal holds.
  size_t journal_max_bytes = kDefaultJournalMaxBytes;
  // --journal-file: every entry appended as a JSON line (journal_file.h).
  std::optional<std::string> journal_file;
  // --admin-listen HOST:PORT: the admin API on its own port (the
  // receivers' ports then answer /__hooksim/ with 404).
  std::optional<std::string> admin_listen;
  // --contract NAME|FILE: the stats' judgement (admin_api.h).
  std::optional<std::string> contract;
  // Required as "Authorization: Bearer TOKEN" on /__hooksim/ when set
  // (not empty, at most 1024 printable bytes).
  std::optional<std::string> admin_token;
  // --log / --log-format: one line per webhook request on `out` as it
  // ends (mock-receivers/request_log.h), flushed per line.
  bool log = false;
  RequestLogFormat log_format = RequestLogFormat::kText;
  // --server-core threads|event (http_receiver_server.h); unset: the
  // default (DefaultServerCore()).
  std::optional<ServerCore> server_core;
};

// True for an address only this machine can reach: 127.0.0.0/8, ::1,
// "localhost" (--listen's host, unresolved).
bool IsLoopbackHost(std::string_view host);

struct ListenAddress {
  std::string host;
  int port = 0;
};

// "127.0.0.1:8080" -> {127.0.0.1, 8080}; "[::1]:0" -> {::1, 0}. The port
// is 0..65535; the host is not resolved here.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// Runs the command. `wait_for_stop` blocks until it is time to stop; null
// waits for SIGINT or SIGTERM (sigwait).
int RunReceiverCommand(const ReceiverCommandOptions& options, std::ostream& out,
                       std::ostream& err,
                       const std::function<void()>& wait_for_stop = nullptr);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_RECEIVER_COMMAND_H_
