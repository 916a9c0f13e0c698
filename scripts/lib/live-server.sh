# Shared by the scripts that check a live `mhp serve` from outside (schemathesis.sh,
# check-openapi-client.sh): `start_live_server BIN ORG_NAME` makes a temporary directory
# ($WORK, removed at exit with the server), an installation on SQLite in it with one
# organisation and an org-admin API key, and serves it on a free loopback port until ready.
# Sets WORK, ORG, KEY, BASE and SERVER_PID.

start_live_server() {
  local bin=$1 name=$2 port
  WORK=$(mktemp -d)
  SERVER_PID=
  trap stop_live_server EXIT
  export MHP_DATA_DIR="$WORK/data" MHP_LOG_LEVEL=warn
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" admin bootstrap --org "$name" --email ops@example.org > "$WORK/boot.txt"
  ORG=$(sed -n 's/^organisation: .*(\(.*\))$/\1/p' "$WORK/boot.txt")
  KEY=$("$bin" admin api-key create --org "$ORG" --role org_admin --name checks | sed -n 's/^token (shown once): //p')
  "$bin" serve --listen "127.0.0.1:$port" 2> "$WORK/server.log" &
  SERVER_PID=$!
  BASE="http://127.0.0.1:$port"
  local _
  for _ in $(seq 1 100); do
    if "$bin" healthcheck --url "$BASE/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "the server did not become ready:" >&2
  cat "$WORK/server.log" >&2
  return 1
}

stop_live_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "${WORK:?}"
}
