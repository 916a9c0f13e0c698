#!/usr/bin/env bash
# The read path under a loopback load (wrk), as ratios to a bare axum handler measured in the
# same run (crates/server/examples/baseline.rs): /healthz, /api/v1/me with an API key, a roster
# of 50 subjects with their names (…/subjects?limit=50), and uploads of a 10 s dual-plate
# jump recording at 1000 Hz. SQLite (the embedded default), release build. Prints the figures.
#
#   [ROUNDS=5] scripts/bench-reads.sh [DURATION_S] [CONNECTIONS]
#
# Each figure is measured between two runs of the yardstick, in ROUNDS rounds of DURATION_S
# seconds each; the medians of the rounds' ratios are printed (uploads: one run of 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-3}
CONNS=${2:-32}
command -v wrk >/dev/null || { echo "bench-reads: wrk not found (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -p mhp-cli >&2
cargo build --release --locked -p mhp-server --example baseline >&2
BIN=$PWD/target/release/mhp
BASELINE=$PWD/target/release/examples/baseline
DIR=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"' EXIT
export MHP_DATA_DIR=$DIR/data MHP_LOG_LEVEL=warn

"$BASELINE" 127.0.0.1:0 > "$DIR/baseline.out" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q listening "$DIR/baseline.out" 2>/dev/null && break; sleep 0.05; done
BASE_ADDR=$(sed -n 's/^listening //p' "$DIR/baseline.out")

ORG=$("$BIN" admin bootstrap --org Bench --email bench@example.org \
  | sed -n 's/^organisation: .*(\(.*\))$/\1/p')
KEY=$("$BIN" admin api-key create --org "$ORG" --role org_admin --name bench | sed -n 's/^token (shown once): //p')
"$BIN" serve --listen 127.0.0.1:0 2>"$DIR/log" &
PID=$!
PIDS+=("$PID")
ADDR=""
for _ in $(seq 1 100); do
  ADDR=$(ss -ltnp 2>/dev/null | awk -v p="pid=$PID," '$0 ~ p {print $4; exit}')
  [ -n "$ADDR" ] && curl -sf "http://$ADDR/readyz" >/dev/null && break
  sleep 0.1
done
API=http://$ADDR/api/v1/orgs/$ORG

# 50 subjects with names, birth dates and external ids; one receives the uploads.
for i in $(seq 1 50); do
  curl -sf -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
    -d "{\"name\":\"Bench Athlete $i\",\"birth_date\":\"1999-04-01\",\"external_id\":\"B-$i\"}" \
    "$API/subjects" > "$DIR/subject.json"
done
SUBJECT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$DIR/subject.json")
scripts/jump-recording.py "$DIR/jump.csv"
curl -sf -o /dev/null -H "Authorization: Bearer $KEY" -H 'content-type: text/csv' \
  --data-binary "@$DIR/jump.csv" "$API/subjects/$SUBJECT/assessments" \
  || { echo "bench-reads: the jump recording was refused"; exit 1; }
cat > "$DIR/upload.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $KEY"
wrk.headers["Content-Type"] = "text/csv"
local f = io.open("$DIR/jump.csv", "rb")
wrk.body = f:read("*a")
f:close()
LUA

rate() { # URL [wrk args...] -> requests per second, and non-2xx count on stderr
  local url=$1; shift
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" "$@" "$url")
  echo "$out" | grep -E "Non-2xx|Socket errors" >&2 || true
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}

ROUNDS=${ROUNDS:-5}
echo "== wrk -t2 -c$CONNS -d${DURATION}s on $(nproc) cores, SQLite, release build, $ROUNDS rounds"
# The machine's speed moves from minute to minute (other work on the cores, frequency): each
# figure is measured beside the yardstick, which runs just before and just after it, and each
# round gives a ratio to the mean of those two. The median of the rounds' ratios is printed.
: > "$DIR/rounds"
for round in $(seq 1 "$ROUNDS"); do
  B0=$(rate "http://$BASE_ADDR/")
  H=$(rate "http://$ADDR/healthz")
  B1=$(rate "http://$BASE_ADDR/")
  M=$(rate "http://$ADDR/api/v1/me" -H "Authorization: Bearer $KEY")
  B2=$(rate "http://$BASE_ADDR/")
  L=$(rate "$API/subjects?limit=50" -H "Authorization: Bearer $KEY")
  B3=$(rate "http://$BASE_ADDR/")
  echo "$round $B0 $H $B1 $M $B2 $L $B3" >> "$DIR/rounds"
done
U=$(wrk -t2 -c4 -d10s -s "$DIR/upload.lua" "$API/subjects/$SUBJECT/assessments" \
  | awk '/Requests\/sec/ {print $2}')
python3 - "$DIR/rounds" "$U" <<'PY'
import statistics, sys
rows = [list(map(float, line.split()[1:])) for line in open(sys.argv[1])]
u = float(sys.argv[2])
figures = {"h": [], "m": [], "l": []}
base = []
for b0, h, b1, m, b2, l, b3 in rows:
    base += [b0, b1, b2, b3]
    figures["h"].append((h, h / ((b0 + b1) / 2)))
    figures["m"].append((m, m / ((b1 + b2) / 2)))
    figures["l"].append((l, l / ((b2 + b3) / 2)))
print(f"{'':40} {'req/s':>10} {'of bare axum':>13} {'target':>8}   rounds' ratios")
print(f"{'bare axum GET / (baseline, median)':40} {statistics.median(base):10.0f} {'100 %':>13}            "
      f"from {min(base):.0f} to {max(base):.0f}")
for key, name, target in [("h", "GET /healthz", "70 %"), ("m", "GET /api/v1/me (API key)", "40 %"),
                          ("l", "GET …/subjects?limit=50 (names)", "15 %")]:
    rates = [r for r, _ in figures[key]]
    ratios = [q for _, q in figures[key]]
    spread = " ".join(f"{100 * q:.1f}" for q in ratios)
    print(f"{name:40} {statistics.median(rates):10.0f} {100 * statistics.median(ratios):12.1f} % {target:>8}   {spread}")
print(f"{'POST …/assessments (10 s dual plate, -c4)':40} {u:10.0f} {'':>13} {'300/s':>8}")
PY
