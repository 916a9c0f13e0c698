#!/usr/bin/env bash
# Throughput and latency of /healthz and /readyz under a loopback load (wrk), on SQLite and on
# a throwaway PostgreSQL cluster. Prints the figures; run on an otherwise idle machine.
#
#   scripts/bench-http.sh [DURATION_S] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-64}
command -v wrk >/dev/null || { echo "bench-http: wrk not found (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -p mhp-cli >&2
BIN=$PWD/target/release/mhp

bench_backend() {
  local label=$1
  local dir
  dir=$(mktemp -d)
  local log=$dir/mhp.log
  MHP_LOG_LEVEL=warn "$BIN" serve --data-dir "$dir/data" --listen 127.0.0.1:0 2>"$log" &
  local pid=$!
  # The listening line is logged at info; read the address from a second, quiet probe instead.
  local addr=""
  for _ in $(seq 1 100); do
    addr=$(ss -ltnp 2>/dev/null | awk -v p="pid=$pid," '$0 ~ p {print $4; exit}')
    [ -n "$addr" ] && curl -sf "http://$addr/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "bench-http: server did not start"; cat "$log"; kill $pid; exit 1; }
  for path in /healthz /readyz; do
    echo "== $label $path: wrk -t2 -c$CONNS -d${DURATION}s --latency http://$addr$path"
    wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "http://$addr$path" \
      | grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
  done
  kill -TERM $pid; wait $pid || true
  rm -rf "$dir"
}

bench_backend sqlite

# PostgreSQL: a throwaway cluster, a database of its own for the benchmark.
export -f bench_backend
export BIN DURATION CONNS
scripts/with-postgres.sh bash -c '
  psql "$MHP_TEST_PG_URL" -qc "CREATE DATABASE mhp_bench" >/dev/null
  export DATABASE_URL=${MHP_TEST_PG_URL%/postgres}/mhp_bench
  bench_backend postgres'
