#!/usr/bin/env bash
# What security monitoring costs, measured in one run on this machine (SQLite, release build):
#  1. the p50 latency of a hot authenticated read (GET one subject with its identifiers: a PHI
#     read, so an audit event each) on two instances that differ only in `security.monitor`,
#     taking turns (which goes first alternates by round), as a ratio of the medians;
#  2. the monitor's backlog (events waiting for the JSON-lines sink), sampled every 0.5 s during
#     the upload benchmark (10 s dual-plate recordings, 4 connections), and after it;
#  3. the outbox's drain rates (crates/server/examples/siem_bench.rs: the JSON-lines sink alone,
#     shipping, the detection rules).
#
#   [ROUNDS=15] scripts/bench-siem.sh [DURATION_S] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-5}
CONNS=${2:-16}
command -v wrk >/dev/null || { echo "bench-siem: wrk not found (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -p mhp-cli >&2
cargo build --release --locked -p mhp-server --example siem_bench >&2
BIN=$PWD/target/release/mhp
DIR=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"' EXIT
export MHP_LOG_LEVEL=warn

# start NAME MONITOR: an installation in $DIR/NAME with one subject; sets ADDR, API, KEY, SUBJECT.
start() {
  local name=$1 monitor=$2 data=$DIR/$1
  local org
  org=$(MHP_DATA_DIR=$data "$BIN" admin bootstrap --org Bench --email bench@example.org \
    | sed -n 's/^organisation: .*(\(.*\))$/\1/p')
  KEY=$(MHP_DATA_DIR=$data "$BIN" admin api-key create --org "$org" --role org_admin --name bench \
    | sed -n 's/^token (shown once): //p')
  MHP_DATA_DIR=$data MHP_SECURITY_MONITOR=$monitor MHP_SECURITY_INTERVAL_MS=${INTERVAL_MS:-1000} "$BIN" serve --listen 127.0.0.1:0 2>"$DIR/$name.log" &
  local pid=$!
  PIDS+=("$pid")
  ADDR=""
  for _ in $(seq 1 100); do
    ADDR=$(ss -ltnp 2>/dev/null | awk -v p="pid=$pid," '$0 ~ p {print $4; exit}')
    [ -n "$ADDR" ] && curl -sf "http://$ADDR/readyz" >/dev/null && break
    sleep 0.1
  done
  API=http://$ADDR/api/v1/orgs/$org
  SUBJECT=$(curl -sf -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
    -d '{"name":"Bench Athlete","birth_date":"1999-04-01","external_id":"B-1"}' "$API/subjects" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
}

start on true
ON_ADDR=$ADDR ON_API=$API ON_KEY=$KEY ON_SUBJECT=$SUBJECT
start off false
OFF_API=$API OFF_KEY=$KEY OFF_SUBJECT=$SUBJECT

p50() { # URL KEY -> p50 in ms
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $2" "$1" \
    | awk '$1 == "50%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; print v }'
}

ROUNDS=${ROUNDS:-15}
echo "== hot read GET …/subjects/{id} (PHI read, audited), wrk -t2 -c$CONNS -d${DURATION}s, $(nproc) cores, $ROUNDS rounds"
# The two instances take turns, so a change in the machine's load moves both sides; which one
# goes first alternates from round to round, so that neither always meets the machine as the
# other left it.
OFFS=() ONS=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then
    OFFS+=("$(p50 "$OFF_API/subjects/$OFF_SUBJECT" "$OFF_KEY")")
    ONS+=("$(p50 "$ON_API/subjects/$ON_SUBJECT" "$ON_KEY")")
  else
    ONS+=("$(p50 "$ON_API/subjects/$ON_SUBJECT" "$ON_KEY")")
    OFFS+=("$(p50 "$OFF_API/subjects/$OFF_SUBJECT" "$OFF_KEY")")
  fi
done
python3 - "${OFFS[*]}" "${ONS[*]}" <<'PY'
import statistics, sys
off = [float(v) for v in sys.argv[1].split()]
on = [float(v) for v in sys.argv[2].split()]
mo, mn = statistics.median(off), statistics.median(on)
paired = [b / a for a, b in zip(off, on)]
print("p50 without monitoring (ms):", " ".join(f"{v:.3f}" for v in off), f"median {mo:.3f}")
print("p50 with monitoring (ms):   ", " ".join(f"{v:.3f}" for v in on), f"median {mn:.3f}")
print("ratio per round:            ", " ".join(f"{v:.3f}" for v in paired))
print(f"ratio of medians: {mn / mo:.3f} (target: at most 1.05); median of the rounds' ratios: {statistics.median(paired):.3f}")
PY

echo "== backlog during the upload benchmark (wrk -t2 -c4 -d${DURATION}s)"
scripts/jump-recording.py "$DIR/jump.csv"
cat > "$DIR/upload.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $ON_KEY"
wrk.headers["Content-Type"] = "text/csv"
local f = io.open("$DIR/jump.csv", "rb")
wrk.body = f:read("*a")
f:close()
LUA
backlog() {
  curl -sf "http://$ON_ADDR/metrics" | awk '/^mhp_security_backlog_events\{sink="jsonl"\}/ {print $2}'
}
: > "$DIR/samples"
( while true; do backlog >> "$DIR/samples" || true; sleep 0.5; done ) &
SAMPLER=$!
PIDS+=("$SAMPLER")
UPLOADS=$(wrk -t2 -c4 -d"${DURATION}s" -s "$DIR/upload.lua" "$ON_API/subjects/$ON_SUBJECT/assessments" \
  | awk '/Requests\/sec/ {print $2}')
kill "$SAMPLER" 2>/dev/null || true
sleep 2
AFTER=$(backlog)
python3 - "$DIR/samples" "$UPLOADS" "$AFTER" <<'PY'
import sys
samples = [float(l) for l in open(sys.argv[1]) if l.strip()]
print(f"uploads: {float(sys.argv[2]):.0f}/s; backlog sampled {len(samples)} times: "
      f"max {max(samples, default=0):.0f} events, 2 s after the load {float(sys.argv[3] or 0):.0f}")
PY

echo "== draining the outbox (100,000 audit events)"
target/release/examples/siem_bench 100000
