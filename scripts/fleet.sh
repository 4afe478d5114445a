#!/usr/bin/env bash
# A fleet on one machine, laid out as it would be on many (README "Past one
# machine"), all on loopback:
#   - PostgreSQL (a throwaway cluster in a temporary directory; as root it
#     runs as `nobody`), holding the one queue;
#   - 3 `hooksim worker`s sharing it;
#   - 2 `hooksim receiver`s (a seeded 45 % of 503s) behind nginx with
#     `hash $http_webhook_id consistent` (every attempt of a delivery reaches
#     the same receiver: webhook-id is the delivery id, sent on every
#     attempt of a signed hook);
#   - a publisher (`hooksim deliver --generate N`: it stores the events,
#     sends too, and returns once every delivery of its batch has ended).
# Halfway through, one worker is killed with kill -9. Then it checks, from
# the receivers' journals (--log-format json) and from the database: every
# delivery delivered or gave_up, none over the contract's six attempts,
# none sent after a recorded 2xx (a delivery whose attempt was in flight in
# the killed worker may get one more request: at-least-once, counted
# apart), and each delivery seen by one receiver only. It prints the
# figures and stops everything it started.
#
#   bash scripts/fleet.sh [EVENTS]      (default 1000 events x 2 hooks)
# HOOKSIM_BIN: the hooksim binary (default build/hooksim, built by
# scripts/setup.sh when missing).
# Exit code: 0 every check held, 1 a check failed, 2 a setup failure, 77
# PostgreSQL's server binaries or nginx are not installed.
set -euo pipefail
HOOKSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EVENTS="${1:-1000}"
HOOKSIM="${HOOKSIM_BIN:-$HOOKSIM_ROOT/build/hooksim}"
if [ ! -x "$HOOKSIM" ]; then
  source "$HOOKSIM_ROOT/scripts/setup.sh"
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
source "$HOOKSIM_ROOT/scripts/pg_cluster.sh"
if ! pg_find_bin || [ ! -x "$NGINX" ]; then
  echo "fleet: skipped: PostgreSQL's server binaries or nginx not found" \
    "(apt-get install postgresql nginx; scripts/setup.sh does)" >&2
  exit 77
fi

DIR="$(mktemp -d /tmp/hooksim_fleet_XXXXXX)"
chmod 755 "$DIR"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -f "$DIR/nginx.pid" ]; then
    kill -QUIT "$(cat "$DIR/nginx.pid")" 2>/dev/null || true
  fi
  pg_cluster_stop "$DIR"
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { pg_free_port; }
# Waits (bounded) until the file has a line matching the pattern.
wait_for_line() {
  local file=$1 pattern=$2 i
  for i in $(seq 1 300); do
    if grep -q "$pattern" "$file" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "fleet: timed out waiting for '$pattern' in $file:" >&2
  cat "$file" >&2 || true
  exit 2
}

# 1. PostgreSQL.
# (Its own directory, the server's user's: data, log and socket.)
pg_cluster_start "$DIR" -c max_connections=50 || exit 2
STATE="$(pg_create_db hooksim)"
export HOOKSIM_STATE="$STATE"
SQL() { psql -qAt -h 127.0.0.1 -p "$PGPORT" -U hooksim -d hooksim -c "$1"; }
echo "fleet: PostgreSQL at 127.0.0.1:$PGPORT ($STATE)"

# 2. Two receivers behind nginx.
RPORTS=()
for r in 1 2; do
  "$HOOKSIM" receiver --listen 127.0.0.1:0 --seed "$r" --log-format json \
    --journal-capacity 1000000 \
    --behavior '{"weighted":{"200":0.55,"503":0.45}}' >"$DIR/receiver$r.log" 2>&1 &
  PIDS+=($!)
  wait_for_line "$DIR/receiver$r.log" 'http://127.0.0.1:'
  RPORTS+=("$(grep -o 'http://127.0.0.1:[0-9]*/hook' "$DIR/receiver$r.log" | head -n 1 | sed 's|.*:\([0-9]*\)/hook|\1|')")
done
NPORT="$(free_port)"
cat >"$DIR/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $DIR/nginx-body;
  proxy_temp_path $DIR/nginx-proxy;
  fastcgi_temp_path $DIR/nginx-fastcgi;
  uwsgi_temp_path $DIR/nginx-uwsgi;
  scgi_temp_path $DIR/nginx-scgi;
  upstream receivers {
    # Every attempt of one delivery to the same receiver.
    hash \$http_webhook_id consistent;
    server 127.0.0.1:${RPORTS[0]};
    server 127.0.0.1:${RPORTS[1]};
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$NPORT;
    location / {
      proxy_pass http://receivers;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # An attempt goes to one receiver once: never re-sent elsewhere.
      proxy_next_upstream off;
    }
  }
}
EOF
"$NGINX" -p "$DIR" -c "$DIR/nginx.conf" >"$DIR/nginx.log" 2>&1 &
PIDS+=($!)
for i in $(seq 1 100); do
  if curl -s -o /dev/null "http://127.0.0.1:$NPORT/__hooksim/stats"; then break; fi
  sleep 0.1
done
echo "fleet: receivers at 127.0.0.1:${RPORTS[0]} and 127.0.0.1:${RPORTS[1]}, nginx at 127.0.0.1:$NPORT"

# 3. Hooks (signed: webhook-id carries the delivery id).
for h in 1 2; do
  "$HOOKSIM" hooks add "http://127.0.0.1:$NPORT/hook" \
    --secret "whsec_$(head -c 24 /dev/urandom | base64)" >/dev/null
done

# 4. Three workers.
RETRY=(--retry-schedule-ms 20,40,80,160,320 --jitter 0 --timeout-ms 5000)
for w in 1 2 3; do
  "$HOOKSIM" worker --poll-ms 50 --lease-ms 2000 --concurrency 8 --seed "$w" \
    "${RETRY[@]}" --metrics-listen 127.0.0.1:0 >"$DIR/worker$w.log" 2>&1 &
  PIDS+=($!)
done
WORKER1=${PIDS[-3]}

# 5. Publish; kill -9 worker 1 once half the deliveries have ended.
START=$(date +%s.%N)
"$HOOKSIM" deliver --generate "$EVENTS" --concurrency 2 "${RETRY[@]}" \
  --lease-ms 2000 >"$DIR/publish.log" 2>&1 &
PUBLISHER=$!
TOTAL=$((EVENTS * 2))
KILLED_AT=""
for i in $(seq 1 6000); do
  if ! kill -0 "$PUBLISHER" 2>/dev/null; then break; fi
  if [ -z "$KILLED_AT" ]; then
    ended="$(SQL "SELECT count(*) FROM deliveries WHERE state IN ('delivered','gave_up')" 2>/dev/null || echo 0)"
    if [ "${ended:-0}" -ge $((TOTAL / 2)) ]; then
      kill -9 "$WORKER1"
      wait "$WORKER1" 2>/dev/null || true  # (Without bash's "Killed" line.)
      KILLED_AT="$ended"
      echo "fleet: kill -9 worker 1 (pid $WORKER1) with $ended of $TOTAL deliveries ended"
    fi
  fi
  sleep 0.1
done
set +e
wait "$PUBLISHER"
PUBLISH_CODE=$?
set -e
END=$(date +%s.%N)
# Let the receivers' journals settle, then stop the fleet's senders.
sleep 0.5

# 6. Checks.
FAIL=0
check() {  # check NAME ACTUAL EXPECTED
  if [ "$2" = "$3" ]; then
    printf '  ok    %-58s %s\n' "$1" "$2"
  else
    printf '  FAIL  %-58s %s (expected %s)\n' "$1" "$2" "$3"
    FAIL=1
  fi
}
DB_TOTAL="$(SQL "SELECT count(*) FROM deliveries")"
DELIVERED="$(SQL "SELECT count(*) FROM deliveries WHERE state = 'delivered'")"
GAVE_UP="$(SQL "SELECT count(*) FROM deliveries WHERE state = 'gave_up'")"
OPEN="$(SQL "SELECT count(*) FROM deliveries WHERE state NOT IN ('delivered','gave_up')")"
OVER="$(SQL "SELECT count(*) FROM deliveries WHERE attempts > 6")"
DB_ATTEMPTS="$(SQL "SELECT count(*) FROM attempts")"
LOST="$(SQL "SELECT count(*) FROM attempts WHERE result IS NULL")"
AFTER_2XX_DB="$(SQL "SELECT count(*) FROM attempts a JOIN attempts b ON b.delivery_id = a.delivery_id AND b.attempt > a.attempt WHERE a.result LIKE '2%'")"
SQL "SELECT id FROM deliveries d WHERE EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_id = d.id AND a.result IS NULL)" >"$DIR/lost.txt"
python3 - "$DIR" >"$DIR/journal.txt" <<'EOF'
import json, sys, collections
d = sys.argv[1]
seen = collections.defaultdict(list)   # delivery -> [(receiver, status)]
for r in (1, 2):
    for line in open(f"{d}/receiver{r}.log"):
        line = line.strip()
        if not line.startswith("{"):
            continue
        j = json.loads(line)
        if j.get("path") != "/hook":
            continue
        seen[j["delivery"]].append((r, j.get("status")))
lost = set(open(f"{d}/lost.txt").read().split())
requests = sum(len(v) for v in seen.values())
over = sum(1 for v in seen.values() if len(v) > 6)
split = sum(1 for v in seen.values() if len({r for r, _ in v}) > 1)
after = after_lost = 0
for k, v in seen.items():
    statuses = [s for _, s in v]
    firsts = [i for i, s in enumerate(statuses) if s is not None and 200 <= s < 300]
    if firsts and firsts[0] < len(statuses) - 1:
        if k in lost:
            after_lost += 1
        else:
            after += 1
per_receiver = [sum(1 for v in seen.values() for r, _ in v if r == n) for n in (1, 2)]
print(len(seen), requests, over, split, after, after_lost, per_receiver[0], per_receiver[1])
EOF
read -r SEEN REQUESTS OVER_RX SPLIT AFTER_RX AFTER_LOST RX1 RX2 <"$DIR/journal.txt"
WALL="$(python3 -c "print(f'{$END - $START:.1f}')")"
echo "fleet: $EVENTS events x 2 hooks, 3 workers + the publisher, worker 1 killed with kill -9 at ${KILLED_AT:-never} ended"
echo "fleet: publisher exit $PUBLISH_CODE (1: some gave up), $WALL s, $(python3 -c "print(f'{$DB_TOTAL / ($END - $START):.0f}')") deliveries/s"
echo "fleet: database: $DELIVERED delivered, $GAVE_UP gave_up, $DB_ATTEMPTS attempts ($LOST started and never ended: lost in the kill)"
echo "fleet: receivers: $REQUESTS requests for $SEEN deliveries (receiver 1: $RX1, receiver 2: $RX2)"
check "deliveries stored" "$DB_TOTAL" "$TOTAL"
check "deliveries neither delivered nor gave_up (database)" "$OPEN" 0
check "deliveries seen by the receivers (none lost)" "$SEEN" "$TOTAL"
check "deliveries over six attempts (database)" "$OVER" 0
check "deliveries over six requests (receivers)" "$OVER_RX" 0
check "attempts recorded after a 2xx (database)" "$AFTER_2XX_DB" 0
check "requests after a 2xx, outside the kill (receivers)" "$AFTER_RX" 0
check "deliveries split across receivers (consistent hash)" "$SPLIT" 0
echo "  info  requests after a 2xx whose record the kill lost:         $AFTER_LOST (at-least-once)"
for w in 2 3; do
  url="$(grep -o 'http://127.0.0.1:[0-9]*/metrics' "$DIR/worker$w.log" | head -n 1)"
  takeovers="$(curl -s "$url" | awk '/^hooksim_worker_lease_takeovers_total/ {print $2}')"
  attempts="$(curl -s "$url" | awk '/^hooksim_worker_attempts_total/ {s += $2} END {print s + 0}')"
  echo "  info  worker $w: $attempts attempts, took over ${takeovers:-?} deliveries from the killed worker's leases"
done
if [ "$FAIL" -ne 0 ]; then
  echo "fleet: FAILED; logs in $DIR (kept)" >&2
  trap - EXIT
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  [ ! -f "$DIR/nginx.pid" ] || kill -QUIT "$(cat "$DIR/nginx.pid")" 2>/dev/null || true
  pg_cluster_stop "$DIR"
  exit 1
fi
echo "fleet: every check held"
