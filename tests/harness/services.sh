#!/usr/bin/env bash
# Starts the real services the test suite talks to, on loopback, and stops exactly what it started.
#   services.sh start DIR   -> writes DIR/env (KHOSO_TEST_* variables) and DIR/started
#   services.sh stop DIR
# PostgreSQL and Redis already answering on their standard ports are used as they are (a fresh
# database is created); otherwise a private instance is started on a free port.
set -euo pipefail
cmd=${1:?start|stop}; dir=$(mkdir -p "${2:?state dir}" && cd "$2" && pwd)
started="$dir/started"; envfile="$dir/env"

port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
free_port() { local p=$1; while ! port_free "$p"; do p=$((p + 1)); done; echo "$p"; }
wait_for() {
  local what=$1; shift
  for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "services: $what did not come up" >&2; return 1
}
note() { echo "$1" >> "$started"; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

start_clamd() {
  local c="$dir/clamav"; mkdir -p "$c/db"
  # clamd writes each stream to its TemporaryDirectory first: on a tmpfs where there is a
  # roomy one (see KHOSO_CLAMD_TMPDIR in the README; a container's 64 MB /dev/shm is not).
  local tmp="$c/tmp" shm_kib
  shm_kib=$(df --output=avail -k /dev/shm 2>/dev/null | tail -1 || echo 0)
  if [ -w /dev/shm ] && [ "${shm_kib:-0}" -ge $((8 * 1024 * 1024)) ]; then
    tmp=$(mktemp -d /dev/shm/khoso-clamd.XXXXXX); note "tmpdir $tmp"
  fi
  mkdir -p "$tmp"
  # EICAR as a hash signature and as a body signature; the EICAR bytes themselves are never stored.
  local eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
  printf '%s:%s:Test.EICAR.HDB\n' "$(printf '%s' "$eicar" | md5sum | cut -d' ' -f1)" "${#eicar}" > "$c/db/test.hdb"
  printf 'Test.EICAR.NDB:0:*:%s\n' "$(printf '%s' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE' | od -An -tx1 | tr -d ' \n')" > "$c/db/test.ndb"
  local port; port=$(free_port 3310)
  cat > "$c/clamd.conf" <<CONF
Foreground no
LocalSocket $c/clamd.sock
FixStaleSocket yes
TCPSocket $port
TCPAddr 127.0.0.1
DatabaseDirectory $c/db
TemporaryDirectory $tmp
PidFile $c/clamd.pid
LogFile $c/clamd.log
StreamMaxLength 4095M
MaxScanSize 4095M
MaxFileSize 4095M
MaxRecursion 16
AlertExceedsMax yes
SelfCheck 0
CONF
  clamd -c "$c/clamd.conf"
  wait_for clamd test -S "$c/clamd.sock"
  note "pidfile $c/clamd.pid"
  echo "KHOSO_TEST_CLAMD=unix://$c/clamd.sock" >> "$envfile"
  echo "KHOSO_TEST_CLAMD_TCP=tcp://127.0.0.1:$port" >> "$envfile"
}

start_moto() {
  # Two harness runs starting at once can pick the same free port: the loser's moto_server exits
  # and its health check would pass against the winner's, sharing (and later losing) its buckets.
  # So the server must still be ours once it answers; else try the next port.
  local port=5055 pid
  for _ in $(seq 20); do
    port=$(free_port "$port")
    moto_server -H 127.0.0.1 -p "$port" > "$dir/moto.log" 2>&1 &
    pid=$!
    if wait_for moto curl -sf -o /dev/null "http://127.0.0.1:$port/moto-api/" && sleep 0.3 \
        && kill -0 "$pid" 2>/dev/null; then
      echo "$pid" > "$dir/moto.pid"; note "pidfile $dir/moto.pid"
      echo "KHOSO_TEST_S3_ENDPOINT=http://127.0.0.1:$port" >> "$envfile"
      return 0
    fi
    kill "$pid" 2>/dev/null || true
    port=$((port + 1))
  done
  echo "services: moto did not come up" >&2; return 1
}

start_postgres() {
  local url
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    url="postgresql+psycopg://postgres@127.0.0.1:5432"
  else
    local port bin; port=$(free_port 5499); bin=$(pg_bin)
    mkdir -p "$dir/pg"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/pg"
    local as=(); [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
    "${as[@]}" "$bin/initdb" -D "$dir/pg/data" -A trust -U postgres --no-sync > /dev/null
    "${as[@]}" "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/pg.log" \
      -o "-p $port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off" -w start > /dev/null
    note "pgdata $dir/pg/data"
    url="postgresql+psycopg://postgres@127.0.0.1:$port"
  fi
  local db="khoso_test_$$"
  PGOPTIONS="--client-min-messages=warning" psql "${url/+psycopg/}/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" > /dev/null
  note "pgdb ${url/+psycopg/}/postgres $db"
  echo "KHOSO_TEST_PG_URL=$url/$db" >> "$envfile"
}

start_redis() {
  local port=6379
  if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    port=$(free_port 6390)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" > /dev/null
    wait_for redis redis-cli -p "$port" ping
    note "pidfile $dir/redis.pid"
  fi
  # A database of its own per harness run, so parallel runs on one server do not meet.
  echo "KHOSO_TEST_REDIS_URL=redis://127.0.0.1:$port/$(( RANDOM % 15 + 1 ))" >> "$envfile"
}

stop_all() {
  [ -f "$started" ] || return 0
  tac "$started" | while read -r kind a b; do
    case $kind in
      pidfile) [ -f "$a" ] && kill "$(cat "$a")" 2>/dev/null || true; rm -f "$a" ;;
      pgdata)
        local as=(); [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
        "${as[@]}" "$(pg_bin)/pg_ctl" -D "$a" -m fast stop > /dev/null 2>&1 || true ;;
      tmpdir) rm -rf "$a" ;;
      pgdb) psql "$a" -qc "DROP DATABASE IF EXISTS $b WITH (FORCE)" > /dev/null 2>&1 || true ;;
    esac
  done
  rm -f "$started" "$envfile"
}

case $cmd in
  start)
    stop_all; : > "$envfile"; : > "$started"
    start_postgres; start_redis; start_moto; start_clamd ;;
  stop) stop_all ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
