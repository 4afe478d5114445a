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
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ ! -x "$HOOKSIM" ] || [ -z "$PGBIN" ]; then
  echo "store_workers: needs $HOOKSIM and PostgreSQL's server binaries" >&2
  exit 2
fi
DIR="$(mktemp -d /tmp/hooksim_storebench_XXXXXX)"
chmod 755 "$DIR"
AS=()
[ "$(id -u)" -ne 0 ] || AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
PIDS=()
PG_UP=0
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ "$PG_UP" = 0 ] || "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/pgrun/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

mkdir "$DIR/pgrun"
[ ${#AS[@]} -eq 0 ] || chown nobody:nogroup "$DIR/pgrun"
"${AS[@]}" "$PGBIN/initdb" -D "$DIR/pgrun/data" -U hooksim -A trust -E UTF8 \
  --no-locale >/dev/null 2>&1
PGPORT="$(free_port)"
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/pgrun/data" -w -t 60 -l "$DIR/pgrun/pg.log" \
  -o "-p $PGPORT -k $DIR/pgrun -c listen_addresses=127.0.0.1" start >/dev/null
PG_UP=1

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
  psql -q -h 127.0.0.1 -p "$PGPORT" -U hooksim -d postgres \
    -c "CREATE DATABASE $1" -c "ALTER DATABASE $1 SET synchronous_commit = $2" >/dev/null
  echo "postgres://hooksim@127.0.0.1:$PGPORT/$1"
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
