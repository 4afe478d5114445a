#!/usr/bin/env bash
# Soak: the delivery engine against a flaky receiver over loopback, for a
# given time, then checks that nothing was lost.
#
# Starts one `hooksim receiver` on 127.0.0.1 (kernel-chosen port) whose
# behaviour mixes 200, 503, reset, garbage, empty answers and hangs, and
# runs `hooksim deliver` against it in rounds (COUNT events each, fast
# retries, a short timeout, seeds cycling over 8 values so the receiver's
# payload cache warms up once) until DURATION seconds have passed. After
# each round it reads the receiver's /__hooksim/stats and checks:
#   - every event accounted for: delivered + gave_up == published;
#   - the receiver's request count equals the engine's attempt count, and
#     its deliveries equal the events;
#   - every delivery the engine saw delivered got a 2xx at the receiver
#     (receiver 2xx deliveries >= engine delivered). The receiver may count
#     more: a 2xx it wrote after the sender's timeout had passed (the
#     sender never saw it, and retried or gave up). That race is inherent
#     to HTTP; such answers are counted and reported ("late 2xx"), and the
#     1 s timeout keeps them rare on a loaded machine;
# then POSTs /__hooksim/reset. It samples the receiver's VmRSS after every
# round; at the end, after a warm-up (the first quarter of the rounds,
# at least 8), the samples must stay within 10 % of each other (checked
# when at least 8 rounds remain after the warm-up).
# Usage: scripts/soak.sh [--duration-s S] [--count N] [--hooksim PATH]
#   --duration-s S  seconds to run (default 600); at least one round runs
#   --count N     events per round (default 200)
#   --hooksim P   the hooksim binary (default build/hooksim)
# Talks HTTP to the admin API with bash's /dev/tcp (no curl needed).
# Exit: 0 when every check passed, 1 when one failed, 2 on bad usage or a
# receiver that does not start.
set -euo pipefail

HOOKSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration=600
count=200
hooksim="$HOOKSIM_ROOT/build/hooksim"
while (($#)); do
  case "$1" in
    --duration-s) [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "soak.sh: --duration-s needs seconds, got '${2:-}'" >&2; exit 2; }
                  duration="$2"; shift 2 ;;
    --duration) echo "soak.sh: --duration was renamed: use --duration-s" >&2; exit 2 ;;
    --count) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: --count needs a positive integer, got '${2:-}'" >&2; exit 2; }
             count="$2"; shift 2 ;;
    --hooksim) hooksim="${2:-}"; shift 2 ;;
    -h | --help) sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -x "$hooksim" ]] || { echo "soak.sh: --hooksim: no executable at '$hooksim'" >&2; exit 2; }

behavior='{"weighted":{"200":0.5,"503":0.3,"reset":0.08,"garbage":0.05,"empty":0.05,"hang":0.02}}'
work="$(mktemp -d)"
receiver_pid=""
cleanup() {
  if [[ -n "$receiver_pid" ]]; then
    kill -INT "$receiver_pid" 2>/dev/null || true
    wait "$receiver_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$hooksim" receiver --listen 127.0.0.1:0 --behavior "$behavior" --seed 7 \
  >"$work/receiver.out" 2>"$work/receiver.err" &
receiver_pid=$!
url=""
for _ in $(seq 1 200); do  # 20 s at most.
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*/hook' "$work/receiver.out" || true)"
  [[ -n "$url" ]] && break
  kill -0 "$receiver_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "soak.sh: the receiver did not start:" >&2
  cat "$work/receiver.err" >&2
  exit 2
fi
port="${url#http://127.0.0.1:}"
port="${port%%/*}"

# admin METHOD PATH: the answer's body on stdout.
admin() {
  local answer
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' "$1" "$2" >&3
  answer="$(cat <&3)"
  exec 3<&-
  printf '%s\n' "${answer#*$'\r\n\r\n'}"
}
# field NAME JSON: the top-level integer NAME of a flat stats answer.
field() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -1 | cut -d: -f2; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$receiver_pid/status"; }

echo "soak.sh: receiver $url (pid $receiver_pid), ${duration}s, $count events per round"
start=$SECONDS
round=0
failures=0
late=0
total_events=0 total_delivered=0 total_gave_up=0 total_attempts=0 total_requests=0
rss=()
while ((round == 0 || SECONDS - start < duration)); do
  round=$((round + 1))
  seed=$(((round - 1) % 8 + 1))
  rc=0
  "$hooksim" deliver --url "$url" --count "$count" --seed "$seed" \
    --retry-schedule-ms 5 --timeout-ms 1000 --jitter 0 --concurrency 16 \
    >"$work/deliver.out" 2>"$work/deliver.err" || rc=$?
  summary="$(grep -E '^[0-9]+ deliveries: ' "$work/deliver.out" | tail -1 || true)"
  if ((rc > 1)) || [[ -z "$summary" ]]; then
    echo "soak.sh: round $round: hooksim deliver failed (exit $rc):" >&2
    tail -5 "$work/deliver.err" >&2
    failures=$((failures + 1))
    break
  fi
  read -r published delivered gave_up attempts < <(sed -E \
    's/^([0-9]+) deliveries: ([0-9]+) delivered, ([0-9]+) gave_up; ([0-9]+) attempts.*/\1 \2 \3 \4/' <<<"$summary")
  stats="$(admin GET /__hooksim/stats)"
  requests="$(field requests "$stats")"
  r_deliveries="$(field deliveries "$stats")"
  r_delivered="$(field delivered "$stats")"
  problems=()
  ((published == count)) || problems+=("published $published, not $count")
  ((delivered + gave_up == published)) || problems+=("delivered $delivered + gave_up $gave_up != published $published")
  [[ "$requests" == "$attempts" ]] || problems+=("receiver requests ${requests:-?} != engine attempts $attempts")
  [[ "$r_deliveries" == "$published" ]] || problems+=("receiver deliveries ${r_deliveries:-?} != published $published")
  if [[ -z "$r_delivered" ]] || ((r_delivered < delivered)); then
    problems+=("receiver 2xx deliveries ${r_delivered:-?} < engine delivered $delivered")
  else
    late=$((late + r_delivered - delivered))
  fi
  if ((${#problems[@]})); then
    printf 'soak.sh: round %d (seed %d): %s\n' "$round" "$seed" "${problems[@]}" >&2
    echo "soak.sh: stats: $stats" >&2
    failures=$((failures + 1))
  fi
  admin POST /__hooksim/reset >/dev/null
  total_events=$((total_events + published))
  total_delivered=$((total_delivered + delivered))
  total_gave_up=$((total_gave_up + gave_up))
  total_attempts=$((total_attempts + attempts))
  total_requests=$((total_requests + ${requests:-0}))
  rss+=("$(rss_kb)")
done
elapsed=$((SECONDS - start))

echo "soak.sh: $round rounds in ${elapsed}s: $total_events events, $total_delivered delivered, $total_gave_up gave_up, lost $((total_events - total_delivered - total_gave_up)); engine attempts $total_attempts, receiver requests $total_requests; late 2xx (written after the sender's timeout) $late"
warmup=$((round / 4))
((warmup < 8)) && warmup=8
if ((round - warmup >= 8)); then
  min="" max=""
  for ((i = warmup; i < round; i++)); do
    v="${rss[$i]}"
    [[ -z "$min" || "$v" -lt "$min" ]] && min="$v"
    [[ -z "$max" || "$v" -gt "$max" ]] && max="$v"
  done
  echo "soak.sh: receiver VmRSS kB: first ${rss[0]}, after warm-up ($warmup rounds) min $min max $max, last ${rss[$((round - 1))]}"
  if ((max * 100 > min * 110)); then
    echo "soak.sh: receiver memory grew more than 10 % after warm-up" >&2
    failures=$((failures + 1))
  fi
else
  echo "soak.sh: receiver VmRSS kB: ${rss[*]} (too few rounds after a warm-up for the 10 % check)"
fi
if ((failures)); then
  echo "soak.sh: FAILED ($failures failed checks)" >&2
  exit 1
fi
echo "soak.sh: passed"
