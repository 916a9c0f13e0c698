#!/usr/bin/env bash
# Runs schemathesis (PyPI) against a live `mhp serve` with the OpenAPI document it publishes:
# no server error, no status, content type or body outside the document. The server runs on
# SQLite in a temporary directory with an organisation, an org-admin API key and a subject.
#
#   scripts/schemathesis.sh [MHP_BINARY]   (default: target/release/mhp)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/release/mhp}
VERSION=4.32.5
VENV=${ST_VENV:-target/schemathesis-venv}
if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version | grep -q "$VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

# shellcheck source=scripts/lib/live-server.sh
. scripts/lib/live-server.sh
start_live_server "$BIN" "Fuzz Org"
# Real rows for the generated requests to reach: a team, a subject on it, an assessment and an
# injury; their ids go to schemathesis as parameter values.
api() { curl -sf -H "Authorization: Bearer $KEY" "$@"; }
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
TEAM=$(api -H 'content-type: application/json' -d '{"name":"Fuzz Team"}' "$BASE/api/v1/orgs/$ORG/teams" | id_of)
SUBJECT=$(api -H 'content-type: application/json' \
  -d "{\"name\":\"Fuzz Subject\",\"external_id\":\"FZ-1\",\"team_ids\":[\"$TEAM\"]}" \
  "$BASE/api/v1/orgs/$ORG/subjects" | id_of)
python3 - > "$WORK/jump.csv" <<'PY'
# A crude countermovement jump at 1000 Hz: stand, dip, push, fly, land, stand.
import math
rows = ["# sample_rate_hz: 1000", "time_s,fz_n"]
f = [800.0] * 2000
f += [800 - 360 * math.sin(math.pi * i / 350) ** 2 for i in range(350)]
f += [800 + 1000 * math.sin(math.pi * i / 550) ** 2 for i in range(550)]
f += [0.0] * 500
f += [800 + 1500 * math.sin(math.pi * i / 400) ** 2 for i in range(400)]
f += [800.0] * 2000
rows += [f"{i / 1000:.3f},{v:.2f}" for i, v in enumerate(f)]
print("\n".join(rows))
PY
ASSESSMENT=$(api -H 'content-type: text/csv' --data-binary "@$WORK/jump.csv" \
  "$BASE/api/v1/orgs/$ORG/subjects/$SUBJECT/assessments" | id_of)
INJURY=$(api -H 'content-type: application/json' \
  -d '{"body_region":"knee","injury_type":"ligament_sprain","side":"left","mechanism":"contact","occurred_on":"2026-01-05","time_loss_days":10}' \
  "$BASE/api/v1/orgs/$ORG/subjects/$SUBJECT/injuries" | id_of)
cat > "$WORK/schemathesis.toml" <<TOML
[parameters]
"path.org" = "$ORG"
"path.team" = "$TEAM"
"path.subject" = "$SUBJECT"
"path.assessment" = "$ASSESSMENT"
"path.injury" = "$INJURY"
TOML

status=0
# One worker: CPython 3.11's ast.parse is not thread-safe, and hypothesis calls it to describe
# strategies ("AST constructor recursion depth mismatch" with two workers).
"$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$BASE/api/v1/openapi.json" \
  --url "$BASE" \
  --header "Authorization: Bearer $KEY" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${ST_EXAMPLES:-25}" \
  --workers 1 \
  --suppress-health-check all \
  --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "schemathesis: failures; server log tail:" >&2
  tail -n 30 "$WORK/server.log" >&2
fi
exit "$status"
