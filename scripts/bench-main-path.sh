#!/usr/bin/env bash
# The main path under a loopback load (wrk), on SQLite and on a throwaway PostgreSQL cluster:
#  1. uploads per second end to end: a device key POSTs a 10 s dual-plate 1000 Hz CSV (one
#     countermovement jump); each request parses, analyses, seals the raw file into the object
#     store, stores the assessment with its metrics and audit event, and indexes it;
#  2. latency of a team roster listing with 150 subjects (identifiers opened, availability
#     derived, the read audited) under load.
# Prints the figures; run on an otherwise idle machine.
#
#   scripts/bench-main-path.sh [DURATION_S] [UPLOAD_CONNECTIONS] [LIST_CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
UP_CONNS=${2:-4}
LIST_CONNS=${3:-16}
command -v wrk >/dev/null || { echo "bench-main-path: wrk not found (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -p mhp-cli >&2
BIN=$PWD/target/release/mhp

bench_backend() {
  local label=$1 dir
  dir=$(mktemp -d)
  export MHP_DATA_DIR=$dir/data MHP_LOG_LEVEL=warn
  # 150 subjects on one team (the demo's first team), created through the API.
  "$BIN" demo --teams 1 --subjects-per-team 150 --weeks 1 > "$dir/demo.txt"
  local org key
  org=$(sed -n 's/^organisation: .*(\(.*\))$/\1/p' "$dir/demo.txt")
  key=$(sed -n 's/^administrator api key.*: //p' "$dir/demo.txt")
  local dev
  dev=$("$BIN" admin api-key create --org "$org" --role device --name bench | sed -n 's/^token (shown once): //p')
  "$BIN" serve --listen 127.0.0.1:0 2>"$dir/mhp.log" &
  local pid=$! addr=""
  for _ in $(seq 1 100); do
    addr=$(ss -ltnp 2>/dev/null | awk -v p="pid=$pid," '$0 ~ p {print $4; exit}')
    [ -n "$addr" ] && curl -sf "http://$addr/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "bench-main-path: server did not start"; cat "$dir/mhp.log"; kill $pid; exit 1; }
  local team subject
  team=$(curl -sf -H "Authorization: Bearer $key" "http://$addr/api/v1/orgs/$org/teams" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  subject=$(curl -sf -H "Authorization: Bearer $key" "http://$addr/api/v1/orgs/$org/teams/$team/subjects?limit=1" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  python3 - > "$dir/jump.csv" <<'PY'
# 10 s, 1000 Hz, two plates: stand, one countermovement jump, land, stand.
import math, random
random.seed(7)
bw = 784.0
f = [bw] * 3000
f += [bw - 350 * math.sin(math.pi * i / 350) ** 2 for i in range(350)]
f += [bw + 1000 * math.sin(math.pi * i / 550) ** 2 for i in range(550)]
f += [0.0] * 500
f += [bw + 1500 * math.sin(math.pi * i / 400) ** 2 for i in range(400)]
f += [bw] * (10000 - len(f))
print("# sample_rate_hz: 1000\n# units: N\ntime_s,fz_left_n,fz_right_n")
for i, v in enumerate(f):
    n = random.gauss(0, 2) if v > 0 else 0.0
    print(f"{i / 1000:.3f},{v * 0.52 + n:.2f},{v * 0.48 + n:.2f}")
PY
  cat > "$dir/upload.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $dev"
wrk.headers["Content-Type"] = "text/csv"
local f = io.open("$dir/jump.csv", "rb"); wrk.body = f:read("*a"); f:close()
LUA
  echo "== $label: uploads of a $(du -k "$dir/jump.csv" | cut -f1) KiB 10 s dual-plate CSV, wrk -t2 -c$UP_CONNS -d${DURATION}s"
  wrk -t2 -c"$UP_CONNS" -d"${DURATION}s" --latency -s "$dir/upload.lua" \
    "http://$addr/api/v1/orgs/$org/subjects/$subject/assessments" \
    | grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
  cat > "$dir/list.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $key"
LUA
  echo "== $label: team roster of 150 subjects, wrk -t2 -c$LIST_CONNS -d${DURATION}s"
  wrk -t2 -c"$LIST_CONNS" -d"${DURATION}s" --latency -s "$dir/list.lua" \
    "http://$addr/api/v1/orgs/$org/teams/$team/subjects?limit=500" \
    | grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
  kill -TERM $pid; wait $pid || true
  rm -rf "$dir"
}

bench_backend sqlite

export -f bench_backend
export BIN DURATION UP_CONNS LIST_CONNS
scripts/with-postgres.sh bash -c '
  psql "$MHP_TEST_PG_URL" -qc "CREATE DATABASE mhp_bench" >/dev/null
  export DATABASE_URL=${MHP_TEST_PG_URL%/postgres}/mhp_bench
  bench_backend postgres'
