#!/usr/bin/env bash
# Page times of the web application (issue 15): the team dashboard of a 150-athlete team and
# the athlete page of an athlete with a season of tests, served by the release binary over
# loopback. Prints p50/p95/p99 of the time to the last byte of N sequential requests (one
# signed-in browser, gzip accepted, after 20 uncounted requests per page) and each page's
# compressed size. The targets: p99 <= 30 ms,
# no page over 200 KB compressed.
#
#   scripts/bench-pages.sh [MHP_BINARY] [REQUESTS]   (defaults: target/release/mhp, 200)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/mhp}
N=${2:-200}

WORK=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export MHP_LOG_LEVEL=warn
# One team of 150 athletes, a 16-week season of weekly tests.
"$BIN" demo --data-dir "$WORK/data" --teams 1 --subjects-per-team 150 --weeks 16 > "$WORK/demo.txt"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" 2>"$WORK/server.log" &
PID=$!
for _ in $(seq 1 100); do
  "$BIN" healthcheck --url "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
python3 - "$PORT" "$WORK/demo.txt" "$N" <<'PY'
import gzip, http.client, re, sys, time, urllib.parse

port, demo, n = int(sys.argv[1]), open(sys.argv[2]).read(), int(sys.argv[3])
email, password = re.search(r"^  clinician\s+(\S+)\s+(\S+)$", demo, re.M).groups()
conn = http.client.HTTPConnection("127.0.0.1", port)
cookies = {}

def request(method, path, body=None, headers=None):
    h = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Accept-Encoding": "gzip"}
    h.update(headers or {})
    conn.request(method, path, body=body, headers=h)
    res = conn.getresponse()
    raw = res.read()
    for k, v in res.getheaders():
        if k.lower() == "set-cookie":
            name, _, value = v.split(";")[0].partition("=")
            cookies[name] = value
    data = gzip.decompress(raw) if res.getheader("Content-Encoding") == "gzip" else raw
    res.wire_bytes = len(raw)
    return res, data

_, page = request("GET", "/sign-in")
token = re.search(rb'name="_csrf" value="([^"]+)"', page).group(1).decode()
form = urllib.parse.urlencode({"_csrf": token, "email": email, "password": password})
res, _ = request("POST", "/sign-in", form, {"Content-Type": "application/x-www-form-urlencoded"})
assert res.status == 303, res.status
res, _ = request("GET", "/")
res, _ = request("GET", res.getheader("Location"))
team = res.getheader("Location")
res, html = request("GET", team)
athlete = re.search(rb'href="(/orgs/[^"]+/athletes/[^"]+)"', html).group(1).decode()

def measure(name, path):
    # Warm-up, not counted: the first requests after start meet cold caches and the server's
    # start-up chores (planner statistics, checkpoint, key upkeep); the figures are steady state.
    for _ in range(20):
        request("GET", path)
    times = []
    size = 0
    for _ in range(n):
        t = time.perf_counter()
        res, body = request("GET", path)
        times.append((time.perf_counter() - t) * 1000)
        assert res.status == 200, (name, res.status)
        assert res.getheader("Content-Encoding") == "gzip", name
        size = res.wire_bytes
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(f"{name:<28} p50 {q(0.5):6.1f} ms   p95 {q(0.95):6.1f} ms   p99 {q(0.99):6.1f} ms   "
          f"{size / 1024:6.1f} KB gzip   ({n} requests)")

rows = html.count(b"<tr>") - 1
print(f"dashboard rows: {rows}")
measure("dashboard (150 athletes)", team)
measure("athlete page (a season)", athlete)
PY
