#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: initdb in a temporary directory, a free
# loopback port, a non-superuser role `mhp` (CREATEDB) for the tests, everything removed at exit.
# Exports MHP_TEST_PG_URL (the `mhp` role on the `postgres` database; tests create a fresh
# database per test from it).
#
#   scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

# shellcheck source=scripts/lib/postgres.sh
. "$(dirname "$0")/lib/postgres.sh"

PG_DIR=$(mktemp -d /tmp/mhp-pg.XXXXXX)
chmod 0755 "$PG_DIR"
[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
PG_PORT=$(free_port)
PG_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')

cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap cleanup EXIT INT TERM

echo "$PG_PASSWORD" >"$PG_DIR/pwfile"
chmod 0600 "$PG_DIR/pwfile"
[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR/pwfile"
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  --pwfile="$PG_DIR/pwfile" -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
  || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
rm -f "$PG_DIR/pwfile"
# The application's role, created in single-user mode before the server starts (no psql needed).
APP_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
echo "CREATE ROLE mhp LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS PASSWORD '$APP_PASSWORD';" \
  | as_pg "$PG_BIN/postgres" --single -D "$PG_DIR/data" postgres >"$PG_DIR/single.log" 2>&1 \
  || { cat "$PG_DIR/single.log" >&2; exit 1; }

as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  >/dev/null || { cat "$PG_DIR/server.log" >&2; exit 1; }

export MHP_TEST_PG_URL="postgres://mhp:$APP_PASSWORD@127.0.0.1:$PG_PORT/postgres"
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (data in $PG_DIR)" >&2
"$@"
