#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: initdb in a temporary directory, a free
# loopback port, a non-superuser role `mhp` (CREATEDB) for the tests, everything removed at exit.
# Exports MHP_TEST_PG_URL (the `mhp` role on the `postgres` database; tests create a fresh
# database per test from it).
#
#   scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

find_pg_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  done
  return 1
}

if ! PG_BIN=$(find_pg_bin); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "with-postgres: PostgreSQL server binaries not found; installing them with apt-get" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    PG_BIN=$(find_pg_bin) || { echo "with-postgres: initdb still not found" >&2; exit 1; }
  else
    echo "with-postgres: initdb and pg_ctl not found (install PostgreSQL 15 server binaries)" >&2
    exit 1
  fi
fi

# As root, the cluster runs as the `postgres` user (PostgreSQL refuses to run as root).
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home /nonexistent --shell /usr/sbin/nologin postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

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
