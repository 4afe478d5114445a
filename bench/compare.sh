#!/usr/bin/env bash
# Side-by-side delivery throughput on this machine, in one run:
#   1. wrk -> nginx (nginx-light, `return 200` on 127.0.0.1)
#   2. wrk -> the hooksim receiver (journal and schema check on)
#   3. hooksim bench --target -> the same hooksim receiver, sending the
#      very payload wrk sends (--event-file)
#   4. the same with a freshly generated release event per delivery (the
#      bench's default: each body differs, so the sender serializes each
#      one and the receiver schema-checks each one; shown, not compared)
# with the same payload (a generated release event padded with trailing
# JSON whitespace to --payload-bytes), the same connection count and the
# same duration, and prints the rates and the ratios
#   hooksim-bench / wrk       (same receiver, connections and bytes)
#   hooksim-receiver / nginx  (same wrk load)
# With --baseline-hooksim BIN, also wrk -> a receiver started from BIN (an
# earlier build, say) in every round, and the ratio
#   hooksim-receiver / baseline-receiver  (same wrk load)
# with each receiver's CPU time per request (utime + stime from /proc
# over its wrk runs): on a shared machine the steadier of the two figures.
# --server-core CORE and --baseline-server-core CORE start the receiver
# and the baseline with `--server-core CORE` (threads or event); the
# baseline may be this same build (--baseline-hooksim build/hooksim), so
# both cores are compared in one run.
# With --baseline-sender BIN, also `BIN bench` (an earlier build's sender)
# against the same receiver with wrk's payload in every round, in turn with
# this build's (which goes first alternates by round), and the ratio
#   hooksim-bench / baseline-bench  (same receiver, payload, connections)
# with each sender's CPU time per request.
#
# Then the virtual world, on one core: build/engine_bench's
# BM_VirtualWorld/1000/10 and /10000/10 (N repetitions, the median), in
# attempts/s against the targets (1,000,000 and 700,000); --no-virtual
# skips it.
#
# usage: bench/compare.sh [--duration-s S] [--concurrency C] [--threads T]
#                         [--io-threads I] [--payload-bytes B] [--rounds N]
#                         [--baseline-hooksim BIN] [--server-core CORE]
#                         [--baseline-server-core CORE] [--baseline-sender BIN]
#                         [--no-virtual]
# Defaults: 10 s per run, 16 connections, wrk threads = nproc, hooksim
# bench's I/O threads 1 (its default), 512 bytes, 1 round. With N rounds
# the runs are repeated in turn N times and each rate is the median of its
# N runs (a shared machine's load drifts). The senders' CPU time per
# request (wrk's and hooksim bench's, from the shell's child times) is
# printed too: on a shared machine the steadier figure.
# wrk drives C connections from T event-loop threads; hooksim bench drives
# them from I epoll I/O threads plus its engine's loop thread (I = 0: the
# loop thread alone).
#
# Installs wrk and nginx-light with apt-get when missing (needs root) and
# builds hooksim (scripts/setup.sh) when build/hooksim is missing. Every
# process it starts is stopped on exit. Not part of the test suite: its
# figures depend on the machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration=10
connections=16
threads="$(nproc 2>/dev/null || echo 2)"
payload_bytes=512
rounds=1
io_threads=""  # hooksim bench's own default unless given.
baseline=""
server_core=""
baseline_core=""
baseline_sender=""
virtual=1

usage() { sed -n '2,53p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --duration-s) duration="${2:?--duration-s needs a value}"; shift 2 ;;
    --concurrency) connections="${2:?--concurrency needs a value}"; shift 2 ;;
    --duration) echo "compare.sh: --duration was renamed: use --duration-s" >&2; exit 2 ;;
    --connections) echo "compare.sh: --connections was renamed: use --concurrency" >&2; exit 2 ;;
    --threads) threads="${2:?--threads needs a value}"; shift 2 ;;
    --io-threads) io_threads="${2:?--io-threads needs a value}"; shift 2 ;;
    --payload-bytes) payload_bytes="${2:?--payload-bytes needs a value}"; shift 2 ;;
    --rounds) rounds="${2:?--rounds needs a value}"; shift 2 ;;
    --baseline-hooksim) baseline="${2:?--baseline-hooksim needs a value}"; shift 2 ;;
    --server-core) server_core="${2:?--server-core needs a value}"; shift 2 ;;
    --baseline-server-core) baseline_core="${2:?--baseline-server-core needs a value}"; shift 2 ;;
    --baseline-sender) baseline_sender="${2:?--baseline-sender needs a value}"; shift 2 ;;
    --no-virtual) virtual=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument \"$1\" (try --help)" >&2; exit 2 ;;
  esac
done
for pair in "duration-s:$duration" "concurrency:$connections" \
            "threads:$threads" "payload-bytes:$payload_bytes" "rounds:$rounds"; do
  if ! [[ "${pair#*:}" =~ ^[0-9]+$ ]] || [ "${pair#*:}" -lt 1 ]; then
    echo "compare.sh: --${pair%%:*}: expected a positive integer, got \"${pair#*:}\"" >&2
    exit 2
  fi
done
if [ -n "$io_threads" ] && ! [[ "$io_threads" =~ ^[0-9]+$ ]]; then
  echo "compare.sh: --io-threads: expected a whole number, got \"$io_threads\"" >&2
  exit 2
fi
for core in "$server_core" "$baseline_core"; do
  if [ -n "$core" ] && [ "$core" != threads ] && [ "$core" != event ]; then
    echo "compare.sh: --server-core/--baseline-server-core: expected threads or event, got \"$core\"" >&2
    exit 2
  fi
done
if [ -n "$baseline" ] && [ ! -x "$baseline" ]; then
  echo "compare.sh: --baseline-hooksim: not an executable file: \"$baseline\"" >&2
  exit 2
fi
if [ -n "$baseline_sender" ] && [ ! -x "$baseline_sender" ]; then
  echo "compare.sh: --baseline-sender: not an executable file: \"$baseline_sender\"" >&2
  exit 2
fi
if [ "$connections" -gt 28 ]; then
  echo "compare.sh: --concurrency: at most 28 (hooksim receiver serves 32 connections at once), got $connections" >&2
  exit 2
fi

# Tools.
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$NGINX" ] || missing+=(nginx-light)
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "compare.sh: need root to install ${missing[*]} (or install them yourself)" >&2
    exit 2
  fi
  echo "compare.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
fi
HOOKSIM="${HOOKSIM:-$ROOT/build/hooksim}"
if [ ! -x "$HOOKSIM" ]; then
  bash "$ROOT/scripts/setup.sh"
  HOOKSIM="$ROOT/build/hooksim"
fi

# Processes this script starts, stopped on exit.
work="$(mktemp -d)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The payload: one generated release event, padded like hooksim bench pads.
"$HOOKSIM" events --count 1 --seed 1 | tr -d '\n' >"$work/payload.json"
size="$(wc -c <"$work/payload.json")"
if [ "$size" -lt "$payload_bytes" ]; then
  printf '%*s' $((payload_bytes - size)) '' >>"$work/payload.json"
fi
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open("$work/payload.json", "rb"))
wrk.body = f:read("*a")
f:close()
LUA

# start_receiver BIN NAME [CORE]: a receiver from BIN on a kernel-chosen
# port, with its defaults (journal and schema check on) and the server core
# CORE when given; sets url_NAME and pid_NAME.
start_receiver() {
  local url=""
  "$1" receiver --listen 127.0.0.1:0 ${3:+--server-core "$3"} \
    >"$work/$2.out" 2>"$work/$2.err" &
  pids+=($!)
  printf -v "pid_$2" '%s' "$!"
  for _ in $(seq 100); do
    url="$(sed -n 's/^receiver default  \(http:[^ ]*\) .*/\1/p' "$work/$2.out")"
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "compare.sh: $1 receiver did not start:" >&2
    cat "$work/$2.err" >&2
    exit 1
  fi
  printf -v "url_$2" '%s' "$url"
}
start_receiver "$HOOKSIM" receiver "$server_core"
receiver_url="$url_receiver"
if [ -n "$baseline" ]; then
  start_receiver "$baseline" baseline "$baseline_core"
fi

# nginx on a free loopback port (tried until one binds).
nginx_url=""
for _ in $(seq 20); do
  port=$((20000 + RANDOM % 30000))
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # Taken.
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
}
CONF
  "$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>>"$work/nginx/start.err" &
  nginx_pid=$!
  for _ in $(seq 50); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      nginx_url="http://127.0.0.1:$port/hook"
      break
    fi
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -n "$nginx_url" ]; then
    pids+=("$nginx_pid")
    break
  fi
  kill "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
done
if [ -z "$nginx_url" ]; then
  echo "compare.sh: nginx did not start:" >&2
  cat "$work/nginx/start.err" "$work/nginx/error.log" 2>/dev/null >&2
  exit 1
fi

# rate_of FILE: wrk's Requests/sec.
rate_of() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
# snap_children_cpu FILE: the builtin `times` of this shell into FILE; its
# second line is the user and system time of the children it has waited
# for (the foreground wrk and hooksim bench runs). Not in a pipe or $(...):
# a subshell would report its own (zero) children.
snap_children_cpu() { times >"$1"; }
# cpu_between BEFORE AFTER N: microseconds of children CPU per one of N.
cpu_between() {
  awk -v n="$3" 'FNR == 2 { split($1, u, "m"); split($2, s, "m");
                            t[NR > FNR] = u[1] * 60 + u[2] + s[1] * 60 + s[2] }
                 END { printf "%.2f\n", (t[1] - t[0]) * 1e6 / n }' "$1" "$2"
}
# requests_of FILE: how many requests wrk completed.
requests_of() { sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$1"; }
# cpu_ticks PID: the process's user + system time so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_s="$(getconf CLK_TCK)"
# wrk_with_cpu URL PID OUT NAME: run_wrk, then append the rate to
# NAME.rates and the receiver's CPU microseconds per request to NAME.cpu.
wrk_with_cpu() {
  local before after
  before="$(cpu_ticks "$2")"
  run_wrk "$1" "$3"
  after="$(cpu_ticks "$2")"
  rate_of "$3" >>"$work/$4.rates"
  awk -v t="$((after - before))" -v n="$(requests_of "$3")" -v hz="$ticks_per_s" \
    'BEGIN { printf "%.2f\n", t * 1e6 / hz / n }' >>"$work/$4.cpu"
}
run_wrk() {  # URL OUT
  wrk -t "$threads" -c "$connections" -d "${duration}s" --latency \
    -s "$work/post.lua" "$1" >"$2" 2>&1
  if ! grep -q '^Requests/sec' "$2" || grep -q 'Non-2xx' "$2"; then
    echo "compare.sh: wrk against $1 failed or got non-2xx answers:" >&2
    cat "$2" >&2
    exit 1
  fi
}

echo "compare.sh: $(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), ${duration} s per run, ${connections} connections, wrk ${threads} threads, hooksim bench ${io_threads:-default (1)} I/O threads, payload ${payload_bytes} bytes" >&2
# median FILE...: the median of one number per file.
median() { sort -g "$@" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
json_field() { sed -n "s/^  \"$1\": \([0-9.e+-]*\),\{0,1\}$/\1/p" "$2"; }
p99() { sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$1"; }
# run_bench BIN NAME ARGS...: BIN's hooksim bench against the receiver
# with the round's settings and ARGS (what to send); NAME.json, NAME.txt
# and a line of NAME.rates in $work. Not in a subshell (snap_children_cpu
# counts it).
run_bench() {
  local bin="$1" name="$2"
  shift 2
  "$bin" bench --target "$receiver_url" --concurrency "$connections" \
    ${io_threads:+--io-threads "$io_threads"} --duration-s "$duration" "$@" \
    --report-json "$work/$name.json" >"$work/$name.txt" 2>&1 || {
    cat "$work/$name.txt" >&2
    exit 1
  }
  json_field deliveries_per_s "$work/$name.json" >>"$work/$name.rates"
}
for round in $(seq "$rounds"); do
  echo "compare.sh: round $round/$rounds: wrk -> nginx ($nginx_url)" >&2
  run_wrk "$nginx_url" "$work/wrk-nginx.txt"
  rate_of "$work/wrk-nginx.txt" >>"$work/nginx.rates"
  echo "compare.sh: round $round/$rounds: wrk -> hooksim receiver ($receiver_url)" >&2
  snap_children_cpu "$work/cpu-before"
  wrk_with_cpu "$receiver_url" "$pid_receiver" "$work/wrk-receiver.txt" receiver
  snap_children_cpu "$work/cpu-after"
  cpu_between "$work/cpu-before" "$work/cpu-after" \
    "$(requests_of "$work/wrk-receiver.txt")" >>"$work/wrk-sender.cpu"
  if [ -n "$baseline" ]; then
    echo "compare.sh: round $round/$rounds: wrk -> baseline receiver ($url_baseline)" >&2
    wrk_with_cpu "$url_baseline" "$pid_baseline" "$work/wrk-baseline.txt" baseline
  fi
  senders=(bench)
  if [ -n "$baseline_sender" ]; then
    if ((round % 2)); then senders=(bench baseline-bench); else senders=(baseline-bench bench); fi
  fi
  for name in "${senders[@]}"; do
    bin="$HOOKSIM"
    [ "$name" = baseline-bench ] && bin="$baseline_sender"
    echo "compare.sh: round $round/$rounds: $name -> hooksim receiver (wrk's payload)" >&2
    before_ticks="$(cpu_ticks "$pid_receiver")"
    snap_children_cpu "$work/cpu-before"
    run_bench "$bin" "$name" --event-file "$work/payload.json"
    snap_children_cpu "$work/cpu-after"
    cpu_between "$work/cpu-before" "$work/cpu-after" \
      "$(json_field attempts "$work/$name.json")" >>"$work/$name-sender.cpu"
    awk -v t="$(($(cpu_ticks "$pid_receiver") - before_ticks))" \
        -v n="$(json_field attempts "$work/$name.json")" -v hz="$ticks_per_s" \
      'BEGIN { printf "%.2f\n", t * 1e6 / hz / n }' >>"$work/$name-receiver.cpu"
  done
  echo "compare.sh: round $round/$rounds: hooksim bench -> hooksim receiver (generated events)" >&2
  run_bench "$HOOKSIM" bench-gen --payload-bytes "$payload_bytes"
  echo "compare.sh: round $round/$rounds: nginx $(tail -1 "$work/nginx.rates"), receiver $(tail -1 "$work/receiver.rates"), bench $(tail -1 "$work/bench.rates"), bench generated $(tail -1 "$work/bench-gen.rates")" >&2
done

nginx_rate="$(median "$work/nginx.rates")"
receiver_rate="$(median "$work/receiver.rates")"
bench_rate="$(median "$work/bench.rates")"
gen_rate="$(median "$work/bench-gen.rates")"

awk -v n="$nginx_rate" -v r="$receiver_rate" -v b="$bench_rate" -v g="$gen_rate" \
    -v pn="$(p99 "$work/wrk-nginx.txt")" -v pr="$(p99 "$work/wrk-receiver.txt")" \
    -v pb="$(sed -n '/"attempt_latency_ms"/,/}/s/^ *"p99": \([0-9.]*\),/\1/p' "$work/bench.json")" \
    -v pg="$(sed -n '/"attempt_latency_ms"/,/}/s/^ *"p99": \([0-9.]*\),/\1/p' "$work/bench-gen.json")" \
    -v c="$connections" -v t="$threads" -v io="${io_threads:-1}" -v d="$duration" -v r_="$rounds" 'BEGIN {
  printf "%-40s %14s %12s\n", "run (" c " conns, " d " s, median of " r_ ")", "requests/s", "p99 (last)";
  printf "%-40s %14.0f %12s\n", "wrk -t" t " -> nginx return 200", n, pn;
  printf "%-40s %14.0f %12s\n", "wrk -t" t " -> hooksim receiver", r, pr;
  printf "%-40s %14.0f %12s\n", "hooksim bench --io-threads " io " -> receiver", b, pb "ms";
  printf "%-40s %14.0f %12s\n", "  same, generated events (not like wrk)", g, pg "ms";
  printf "ratio hooksim-bench / wrk (same receiver):   %.2f  (target >= 0.80)\n", b / r;
  printf "  with generated events:                     %.2f  (each body serialized and schema-checked anew)\n", g / r;
  printf "ratio hooksim-receiver / nginx (same wrk):   %.2f  (target >= 0.70)\n", r / n;
}'
printf "hooksim receiver CPU per request (median):   %.1f us under wrk, %.1f us under hooksim bench\n" \
  "$(median "$work/receiver.cpu")" "$(median "$work/bench-receiver.cpu")"
awk -v w="$(median "$work/wrk-sender.cpu")" -v b="$(median "$work/bench-sender.cpu")" 'BEGIN {
  printf "sender CPU per request (median): wrk %.1f us, hooksim bench %.1f us: wrk / bench %.2f\n", w, b, w / b;
}'
if [ -n "$baseline" ]; then
  awk -v r="$receiver_rate" -v b="$(median "$work/baseline.rates")" \
      -v rc="$(median "$work/receiver.cpu")" -v bc="$(median "$work/baseline.cpu")" \
      -v bin="$baseline" 'BEGIN {
    printf "%-40s %14.0f\n", "wrk -> baseline receiver", b;
    printf "  (%s)\n", bin;
    printf "ratio hooksim-receiver / baseline (same wrk): %.2f  (target >= 0.90)\n", r / b;
    printf "CPU per request, receiver / baseline:         %.1f / %.1f us = %.2f\n", rc, bc, rc / bc;
  }'
fi
if [ -n "$baseline_sender" ]; then
  awk -v b="$bench_rate" -v o="$(median "$work/baseline-bench.rates")" \
      -v bc="$(median "$work/bench-sender.cpu")" -v oc="$(median "$work/baseline-bench-sender.cpu")" \
      -v rc="$(median "$work/baseline-bench-receiver.cpu")" \
      -v bin="$baseline_sender" 'BEGIN {
    printf "%-40s %14.0f\n", "baseline hooksim bench -> receiver", o;
    printf "  (%s)\n", bin;
    printf "ratio hooksim-bench / baseline-bench:         %.2f\n", b / o;
    printf "sender CPU per request, bench / baseline:     %.1f / %.1f us = %.2f\n", bc, oc, bc / oc;
    printf "receiver CPU per request under the baseline:  %.1f us\n", rc;
  }'
fi
echo "hooksim bench details (last round):"
sed 's/^/  /' "$work/bench.txt"
if [ "$virtual" = 1 ]; then
  engine_bench="$(dirname "$HOOKSIM")/engine_bench"
  if [ ! -x "$engine_bench" ]; then
    echo "compare.sh: no $engine_bench: the virtual world is not measured (build it, or pass --no-virtual)" >&2
    exit 1
  fi
  echo "compare.sh: the virtual world: $engine_bench BM_VirtualWorld, $rounds repetition(s)" >&2
  "$engine_bench" --benchmark_filter='BM_VirtualWorld/' --benchmark_min_time=1 \
    --benchmark_repetitions="$rounds" --benchmark_format=json >"$work/engine.json"
  python3 - "$work/engine.json" <<'PY'
import json, statistics, sys
runs = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") != "iteration":
        continue
    name = b["run_name"].removesuffix("/real_time")
    runs.setdefault(name, []).append(b["items_per_second"])
targets = {"BM_VirtualWorld/1000/10": 1_000_000, "BM_VirtualWorld/10000/10": 700_000}
print("virtual world, one core (attempts/s, median of %d):" % max(map(len, runs.values())))
for name, rates in runs.items():
    target = targets.get(name)
    print("  %-28s %10.0f  (target >= %s)" % (name, statistics.median(rates),
          format(target, ",") if target else "none"))
PY
fi
