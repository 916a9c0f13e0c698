#!/usr/bin/env bash
# The pages in a real browser, against a live `mhp serve` holding a demo organisation:
#  1. headless Chromium (Debian's package, installed when missing) loads /api/v1/docs; its
#     script, allowed by hash in the page's content security policy, must have rendered one
#     entry per operation of the OpenAPI document;
#  2. the web application's browser suite (tools/browser: Playwright driving the same Chromium,
#     axe-core on every page, PDF printing read back with pdftotext);
#  3. Lighthouse 12 on sign-in, dashboard and athlete page (each category at least 95).
# Screenshots, the printed PDF, Lighthouse's reports and Playwright's traces of failures go to
# target/browser/.
#
#   scripts/check-pages.sh [MHP_BINARY]   (default: target/release/mhp)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/mhp}

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "check-pages: installing Debian's chromium" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
    CHROMIUM=$(command -v chromium)
  else
    echo "check-pages: chromium not found (apt-get install chromium)" >&2
    exit 1
  fi
fi

if ! command -v pdftotext >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "check-pages: installing Debian's poppler-utils (pdftotext)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >&2
  else
    echo "check-pages: pdftotext not found (apt-get install poppler-utils)" >&2
    exit 1
  fi
fi
# Playwright from npm drives the system Chromium; it never downloads a browser of its own.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tools/browser --no-audit --no-fund --loglevel=error

WORK=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# A small demo organisation (3 teams of 20, 8 weekly sessions) with a sign-in for every role.
MHP_LOG_LEVEL=warn "$BIN" demo --data-dir "$WORK/data" --subjects-per-team 20 --weeks 8 > "$WORK/demo.txt"
MHP_LOG_LEVEL=warn "$BIN" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" 2>"$WORK/server.log" &
PID=$!
for _ in $(seq 1 100); do
  "$BIN" healthcheck --url "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
BASE="http://127.0.0.1:$PORT"
expected=$(curl -sf "$BASE/api/v1/openapi.json" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(len(v) for v in d["paths"].values()))')
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$WORK/profile" --virtual-time-budget=10000 \
  --dump-dom "$BASE/api/v1/docs" > "$WORK/dom.html" 2>"$WORK/chromium.log" || true
rendered=$(grep -o 'class="op"' "$WORK/dom.html" | wc -l)
if [ "$rendered" -ne "$expected" ]; then
  echo "check-pages: /api/v1/docs rendered $rendered of $expected operations" >&2
  grep -i "content security policy\|refused" "$WORK/chromium.log" | head -5 >&2 || true
  exit 1
fi
echo "check-pages: /api/v1/docs rendered all $expected operations in Chromium"

OUT="$PWD/target/browser"
rm -rf "$OUT" && mkdir -p "$OUT"
if ! MHP_BASE_URL="$BASE" MHP_DEMO_OUT="$WORK/demo.txt" MHP_DATA_DIR="$WORK/data" MHP_BROWSER_OUT="$OUT" CHROMIUM="$CHROMIUM" \
  npm --prefix tools/browser test --silent; then
  echo "check-pages: the browser suite failed; the server's log:" >&2
  tail -n 20 "$WORK/server.log" >&2
  exit 1
fi
echo "check-pages: browser suite passed; screenshots in target/browser/"
# Lighthouse 12 on sign-in, the dashboard and an athlete page: performance, accessibility and
# best practices each at least 95 (tools/browser/lighthouse.mjs exits 1 below).
MHP_BASE_URL="$BASE" MHP_DEMO_OUT="$WORK/demo.txt" MHP_BROWSER_OUT="$OUT" CHROMIUM="$CHROMIUM" \
  node tools/browser/lighthouse.mjs
