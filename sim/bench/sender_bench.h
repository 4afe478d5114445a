// Measuring any webhook sender's delivery throughput from the receiving
// side: what `hooksim bench --sender-cmd CMD` runs.
//
// Starts `receivers` mock receivers over HTTP on 127.0.0.1 (kernel-chosen
// ports; each journals and schema-checks every request, with the run's
// behaviour), writes the events to a temporary HOOKSIM_EVENT_FILE, starts
// CMD as `conform` does (ChildProcess: /bin/sh -c, its own process group)
// with HOOKSIM_URL (the first receiver), HOOKSIM_URLS (every receiver, one
// per line), HOOKSIM_EVENT_FILE, HOOKSIM_CONTRACT, HOOKSIM_RETRY_SCHEDULE_MS
// (options.schedule) and, when the profile signs, HOOKSIM_SECRET set (the
// receivers then check every signature; sender_env.h, sender_signing.h),
// and hands it the events on standard input,
// one JSON document per line: all at once (closed model: every event is
// published at the start) or, with `rate`, each at its own time (open
// model). After the last event is handed over (standard input is then
// closed) the run waits for the deliveries: it ends when no request has
// arrived for `quiet` and either every delivery has had its 2xx or the
// sender has exited, or when `sender_wait` is over. The sender's group is
// then stopped (SIGTERM, SIGKILL 2 s later) and whatever it left behind
// killed; the receivers stop last.
//
// Figures come from the receivers' journals (mock-receivers/journal.h),
// their servers' traffic counts (connections, refusals) and the times of
// each delivery's first kMaxTimedAttempts requests (retry gaps):
// requests are matched to events by their body, so a sender needs no id
// header; latencies run from an event's publication (its due time in the
// open model) to the first request and to the first 2xx at each receiver.
// Errors: never throws; a receiver, the event file or the sender that
// cannot be started is an error Result (a sender that starts and fails is
// a run with figures of zero and its exit and stderr).
// Thread: runs on the calling thread; owns SIGINT while it runs
// (handle_interrupt).
#ifndef HOOKSIM_SIM_BENCH_SENDER_BENCH_H_
#define HOOKSIM_SIM_BENCH_SENDER_BENCH_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "sim/base/result.h"
#include "sim/bench/delivery_bench.h"

namespace hooksim {

// The bodies the run hands over: options.event_bodies when set, else
// `count` (default kDefaultBenchEvents; with rate and duration, rate x
// duration) generated release events from the seed. Errors: more than
// kMaxSenderBenchEvents.
Result<std::vector<std::string>> SenderBenchEvents(const BenchOptions& options);

// Runs options.sender_cmd (see above); `progress` gets the progress line.
Result<BenchRun> RunSenderBench(const BenchOptions& options,
                                std::ostream& progress);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BENCH_SENDER_BENCH_H_
