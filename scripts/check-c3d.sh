#!/usr/bin/env bash
# MHP's C3D reader against ezc3d (PyPI), an independent implementation: C3D files ezc3d writes
# must read in MHP as ezc3d reads them, and both must refuse the same corpus files.
#
#   scripts/check-c3d.sh [MHP_BINARY]   (default: target/release/mhp)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/release/mhp}
VENV=${C3D_VENV:-target/c3d-venv}
REQ=tools/c3d/requirements.txt
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$VENV/requirements.txt"
fi
"$VENV/bin/python" tools/c3d/ezc3d_check.py "$BIN" crates/biomech/tests/corpus
