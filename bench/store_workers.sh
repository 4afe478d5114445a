#!/usr/bin/env bash
# Store-backed deliveries/s: SQLite with 1 runner, PostgreSQL with 1, 2 and
# 4 runners, in one run (so the ratios compare like with like on a shared
# machine). Each round: a fresh state, one hook to a loopback receiver that
# always answers 200, K-1 `hooksim worker`s started first, then `hooksim
# deliver --generate N` (the K-th runner: it stores the events, sends too,
# and returns once every delivery has ended); deliveries/s = N / its wall
# time. PostgreSQL is a throwaway cluster in a temporary directory (as
# root it runs as `nobody`), with its default durability (fsync on).
#
#   bash bench/store_workers.sh [N]      (default N = 1000)
# HOOKSIM_BIN: the binary (default build/hooksim). Prints one line per
# round and the ratios to SQLite's; stops everything it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-1000}"
HOOKSIM="${HOOKSIM_BIN:-$ROOT/build/hooksim}"
source "$ROOT/scripts/pg_cluster.sh"
if [ ! -x "$HOOKSIM" ] || ! pg_find_bin; then
  echo "store_workers: needs $HOOKSIM and PostgreSQL's server binaries" >&2
  exit 2
fi
DIR="$(mktemp -d /tmp/hooksim_storebench_XXXXXX)"
chmod 755 "$DIR"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_cluster_stop "$DIR"
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_cluster_start "$DIR" || exit 2

"$HOOKSIM" receiver --listen 127.0.0.1:0 >"$DIR/receiver.log" 2>&1 &
PIDS+=($!)
for i in $(seq 1 100); do
  grep -q 'http://127.0.0.1:' "$DIR/receiver.log" && break
  sleep 0.1
done
URL="$(grep -o 'http://127.0.0.1:[0-9]*/hook' "$DIR/receiver.log" | head -n 1)"

# round NAME STATE K: prints deliveries/s.
round() {
  local state=$1 k=$2 w start end workers=()
  "$HOOKSIM" hooks add "$URL" --state "$state" >/dev/null
  for w in $(seq 2 "$k"); do
    "$HOOKSIM" worker --state "$state" --poll-ms 20 --seed "$w" \
      >"$DIR/worker.log" 2>&1 &
    workers+=($!)
    PIDS+=($!)
  done
  start=$(date +%s.%N)
  "$HOOKSIM" deliver --generate "$N" --state "$state" >"$DIR/deliver.log" 2>&1 || {
    cat "$DIR/deliver.log" >&2; exit 1; }
  end=$(date +%s.%N)
  for w in "${workers[@]}"; do kill -TERM "$w"; wait "$w" 2>/dev/null || true; done
  python3 -c "print(f'{$N / ($end - $start):.0f}')"
}

# pg_state NAME SYNCHRONOUS_COMMIT: a fresh database, its URL.
pg_state() {
  pg_create_db "$1" "ALTER DATABASE $1 SET synchronous_commit = $2"
}
SQLITE="$(round "$DIR/state.db" 1)"
echo "sqlite (WAL, synchronous=NORMAL)  1 runner:  $SQLITE deliveries/s ($N deliveries)"
# synchronous_commit on: every commit waits for its WAL fsync (PostgreSQL's
# default); off: as SQLite's NORMAL, a crash of the machine may lose the
# last commits, a crash of a worker loses nothing.
for sync in on off; do
  for k in 1 2 4; do
    rate="$(round "$(pg_state "r_${sync}_$k" "$sync")" "$k")"
    printf 'postgresql (synchronous_commit=%-3s) %d runner%s: %s deliveries/s = %s x sqlite'"'"'s\n' \
      "$sync" "$k" "$([ "$k" = 1 ] && echo ' ' || echo s)" "$rate" \
      "$(python3 -c "print(f'{$rate / $SQLITE:.2f}')")"
  done
done
