# shellcheck shell=bash
# Shared by the scripts that run throwaway PostgreSQL clusters (with-postgres.sh, pitr-drill.sh,
# ha-drill.sh): finds the server binaries (installing them with apt-get as root when missing),
# runs commands as the `postgres` user when root (PostgreSQL refuses to run as root), picks free
# loopback ports, and installs the Debian package of a tool a drill needs. Sets PG_BIN.

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

# shellcheck disable=SC2034 # PG_BIN is read by the scripts that source this file
if ! PG_BIN=$(find_pg_bin); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL server binaries not found; installing them with apt-get" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    PG_BIN=$(find_pg_bin) || { echo "initdb still not found" >&2; exit 1; }
  else
    echo "initdb and pg_ctl not found (install PostgreSQL 15 server binaries)" >&2
    exit 1
  fi
fi

if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home /nonexistent --shell /usr/sbin/nologin postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# need_tool COMMAND PACKAGE: installs Debian's PACKAGE with apt-get (as root) when COMMAND is
# missing, or fails saying which package it needs.
need_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $2 with apt-get" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
  else
    echo "$1 not found (Debian package $2)" >&2
    exit 1
  fi
}

# mhp_binary [PATH]: the absolute path of the mhp binary to drill (default target/debug/mhp).
mhp_binary() {
  local bin
  bin=$(readlink -f "${1:-target/debug/mhp}")
  [ -x "$bin" ] || { echo "$bin not built" >&2; exit 1; }
  echo "$bin"
}
