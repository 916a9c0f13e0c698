#!/usr/bin/env bash
# High availability, drilled (tools/ha/drill.py): two `mhp serve` and two `mhp worker` on one
# PostgreSQL behind HAProxy, under load, through kill -9 of a server, a rolling restart, a
# PostgreSQL restart and kill -9 of a worker in the middle of a training run. Prints
# throughput, error counts and p99 per phase; exit 1 when an acknowledged upload is missing or
# stored twice, the run did not complete, the audit log does not verify, an error fell outside
# a fault, or sign-in throttling did not hold across servers.
#
#   scripts/ha-drill.sh [MHP_BINARY]     (default target/debug/mhp)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/postgres.sh
. scripts/lib/postgres.sh
MHP=$(mhp_binary "${1:-}")
need_tool haproxy haproxy

WORK=$(mktemp -d /tmp/mhp-ha.XXXXXX)
chmod 0755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
cleanup() {
  [ -n "${KEEP_HA_LOGS:-}" ] && { mkdir -p "$KEEP_HA_LOGS"; cp "$WORK"/*.log "$WORK"/haproxy.cfg "$KEEP_HA_LOGS"/ 2>/dev/null || true; }
  pkill -f "$WORK" 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

PORT=$(free_port)
APP_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
printf "CREATE ROLE mhp LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '%s';\nCREATE DATABASE mhp OWNER mhp;\nCREATE DATABASE mhp_keys OWNER mhp;\n" "$APP_PASSWORD" \
  | as_pg "$PG_BIN/postgres" --single -D "$WORK/pg" postgres >"$WORK/single.log" 2>&1 \
  || { cat "$WORK/single.log" >&2; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -t 60 start \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $WORK -c max_connections=200" >/dev/null \
  || { cat "$WORK/pg.log" >&2; exit 1; }
python3 scripts/jump-recording.py "$WORK/jump.csv"

AS=""
[ "$(id -u)" = 0 ] && AS="runuser -u postgres --"
env MHP="$MHP" WORK="$WORK" PG_BIN="$PG_BIN" PG_DATA="$WORK/pg" PG_SOCKET="$WORK" PG_PORT="$PORT" \
  AS_PG="$AS" \
  DATABASE_URL="postgres://mhp:$APP_PASSWORD@127.0.0.1:$PORT/mhp" \
  KEYS_URL="postgres://mhp:$APP_PASSWORD@127.0.0.1:$PORT/mhp_keys" \
  python3 tools/ha/drill.py
