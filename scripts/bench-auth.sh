#!/usr/bin/env bash
# Sign-in latency (Argon2id-bound) and the cost of authentication under a loopback load (wrk):
# the same small JSON answer unauthenticated (/healthz) and authenticated (/api/v1/me) with an
# API key, an access token and a session cookie. Prints the figures.
#
#   scripts/bench-auth.sh [DURATION_S] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-32}
command -v wrk >/dev/null || { echo "bench-auth: wrk not found (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -p mhp-cli >&2
BIN=$PWD/target/release/mhp
DIR=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
export MHP_DATA_DIR=$DIR/data MHP_LOG_LEVEL=warn
PASSWORD='bench passphrase long enough'

ORG=$(echo "$PASSWORD" | "$BIN" admin bootstrap --org Bench --email bench@example.org --password-stdin \
  | sed -n 's/^organisation: .*(\(.*\))$/\1/p')
KEY=$("$BIN" admin api-key create --org "$ORG" --role org_admin --name bench | sed -n 's/^token (shown once): //p')
"$BIN" serve --listen 127.0.0.1:0 2>"$DIR/log" &
PID=$!
ADDR=""
for _ in $(seq 1 100); do
  ADDR=$(ss -ltnp 2>/dev/null | awk -v p="pid=$PID," '$0 ~ p {print $4; exit}')
  [ -n "$ADDR" ] && curl -sf "http://$ADDR/readyz" >/dev/null && break
  sleep 0.1
done
BASE=http://$ADDR

LOGIN_BODY="{\"email\":\"bench@example.org\",\"password\":\"$PASSWORD\"}"
LOGIN=$(curl -s -D "$DIR/h" -H 'content-type: application/json' -d "$LOGIN_BODY" "$BASE/api/v1/auth/login")
COOKIE=$(sed -n 's/^set-cookie: \([^;]*\).*/\1/Ip' "$DIR/h" | tr -d '\r')
CSRF=$(echo "$LOGIN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
TOKEN=$(curl -s -X POST -H "cookie: $COOKIE" -H "x-csrf-token: $CSRF" "$BASE/api/v1/auth/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

echo "== sign-in: 50 sequential POST /api/v1/auth/login (Argon2id m=19 MiB, t=2, p=1)"
python3 - "$BASE" "$LOGIN_BODY" <<'PY'
import sys, time, urllib.request, statistics
base, body = sys.argv[1], sys.argv[2].encode()
times = []
for _ in range(50):
    req = urllib.request.Request(base + "/api/v1/auth/login", data=body,
                                 headers={"content-type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
        r.read()
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"   p50 {statistics.median(times):.1f} ms   p99 {times[int(len(times) * 0.99) - 1]:.1f} ms   "
      f"min {times[0]:.1f} ms")
PY

cat > "$DIR/login.lua" <<LUA
wrk.method = "POST"
wrk.body = '$LOGIN_BODY'
wrk.headers["Content-Type"] = "application/json"
LUA
echo "== sign-in throughput: wrk -t2 -c4 -d${DURATION}s (each sign-in hashes once)"
wrk -t2 -c4 -d"${DURATION}s" --latency -s "$DIR/login.lua" "$BASE/api/v1/auth/login" \
  | grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx"

run() {
  local label=$1 path=$2; shift 2
  echo "== $label: wrk -t2 -c$CONNS -d${DURATION}s $path"
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$BASE$path" \
    | grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx"
}
run "unauthenticated" /healthz
run "API key" /api/v1/me -H "Authorization: Bearer $KEY"
run "access token" /api/v1/me -H "Authorization: Bearer $TOKEN"
run "session cookie" /api/v1/me -H "Cookie: $COOKIE"
