#!/usr/bin/env bash
# The pages in a real browser: headless Chromium (Debian's package, installed when missing)
# loads /api/v1/docs from a live `mhp serve`; its script, allowed by hash in the page's content
# security policy, must have rendered one entry per operation of the OpenAPI document.
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

WORK=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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
