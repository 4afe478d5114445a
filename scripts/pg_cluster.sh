# A throwaway PostgreSQL cluster for scripts/fleet.sh and
# bench/store_workers.sh (sourced, not run): a temporary directory of its
# own, 127.0.0.1 only, a kernel-chosen free port, run as `nobody` when the
# caller is root (PostgreSQL refuses to run as root).
#
#   pg_find_bin                 sets PGBIN to the newest installed server
#                               binaries; returns 1 when there are none
#   pg_cluster_start DIR [ARGS] initdb and start in DIR/pgrun (ARGS: more
#                               server options, e.g. "-c max_connections=50");
#                               sets PGPORT and PG_UP=1; on failure prints
#                               the log and returns 2
#   pg_cluster_stop DIR         stops it when PG_UP=1 (for the EXIT trap)
#   pg_create_db NAME [SQL]...  a database owned by user hooksim, then each
#                               SQL statement run in database postgres;
#                               prints its postgres:// URL
# Sets AS: the command prefix that runs as the server's user.

AS=()
[ "$(id -u)" -ne 0 ] || AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
PG_UP=0

pg_find_bin() {
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ]
}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_cluster_start() {
  local dir="$1/pgrun"
  shift
  mkdir "$dir"
  [ ${#AS[@]} -eq 0 ] || chown nobody:nogroup "$dir"
  "${AS[@]}" "$PGBIN/initdb" -D "$dir/data" -U hooksim -A trust -E UTF8 \
    --no-locale >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 2; }
  PGPORT="$(pg_free_port)"
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/pg.log" \
    -o "-p $PGPORT -k $dir -c listen_addresses=127.0.0.1 $*" \
    start >/dev/null || { cat "$dir/pg.log" >&2; return 2; }
  PG_UP=1
}

pg_cluster_stop() {
  [ "$PG_UP" = 1 ] || return 0
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$1/pgrun/data" -m fast -w stop >/dev/null 2>&1 || true
  PG_UP=0
}

pg_create_db() {
  local name="$1" sql=(-c "CREATE DATABASE $1")
  shift
  for s in "$@"; do sql+=(-c "$s"); done
  psql -q -h 127.0.0.1 -p "$PGPORT" -U hooksim -d postgres "${sql[@]}" >/dev/null
  echo "postgres://hooksim@127.0.0.1:$PGPORT/$name"
}
