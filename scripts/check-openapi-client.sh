#!/usr/bin/env bash
# Generates a Python client from the OpenAPI document a live `mhp serve` publishes, with
# openapi-python-client (PyPI, pinned in tools/openapi-client/requirements.txt), installs it and
# runs the main path through it (tools/openapi-client/main_path.py: create a subject, upload a
# jump, read its metrics, record an injury). Fails when the generator refuses the document,
# when it leaves out an operation other than the known ones below, or when an answer does not
# parse into the generated models. The server runs on SQLite in a temporary directory.
#
#   scripts/check-openapi-client.sh [MHP_BINARY]   (default: target/release/mhp)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/release/mhp}
TOOLS=tools/openapi-client
VENV=${OPC_VENV:-target/openapi-client/venv}
STAMP="$VENV/.requirements.sha256"
WANT=$(sha256sum "$TOOLS/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/openapi-python-client" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$TOOLS/requirements.txt"
  echo "$WANT" > "$STAMP"
fi

# shellcheck source=scripts/lib/live-server.sh
. scripts/lib/live-server.sh
start_live_server "$BIN" "Client Org"
curl -sf "$BASE/api/v1/openapi.json" -o "$WORK/openapi.json"

"$VENV/bin/openapi-python-client" generate --path "$WORK/openapi.json" \
  --config "$TOOLS/config.yaml" --meta setup --output-path "$WORK/client" > "$WORK/generate.log" 2>&1 \
  || { cat "$WORK/generate.log"; echo "check-openapi-client: the generator refused the document"; exit 1; }
# What the generator cannot express, and why that is acceptable:
#  - an upload's text/csv body (the same endpoint also takes application/octet-stream and
#    multipart/form-data, which the client has);
#  - the audit export's application/x-ndjson answer (read as bytes by the client);
#  - a FHIR bulk file's application/fhir+ndjson answer (the same);
#  - the imports (subjects, loads, injuries, decisions), whose bodies are CSV or NDJSON only (the generator writes JSON,
#    form and multipart bodies; an import is a file, sent as such).
UNEXPECTED=$(grep -E '^(WARNING|Unsupported|Cannot)' "$WORK/generate.log" \
  | grep -vE 'audit/export|fhir/bulk/\{job\}/\{file\}|Unsupported content_type application/(x-ndjson|fhir\+ndjson)|POST /api/v1/orgs/\{org\}/(subjects/\{subject\}/assessments|import/(subjects|loads|injuries|decisions))|^Unsupported content type (text/csv|application/x-ndjson)$' || true)
if [ -n "$UNEXPECTED" ]; then
  cat "$WORK/generate.log"
  echo "check-openapi-client: the generator left out more than the known parts:"
  echo "$UNEXPECTED"
  exit 1
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check "$WORK/client"
python3 scripts/jump-recording.py "$WORK/jump.csv"
"$VENV/bin/python" "$TOOLS/main_path.py" "$BASE" "$ORG" "$KEY" "$WORK/jump.csv"
