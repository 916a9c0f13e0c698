#!/usr/bin/env bash
# `mhp reanalyze` over stored demo organisations of two sizes: recordings per second and the
# process's peak memory, which should stay flat as the count grows (assessments are read and
# re-analysed a page of 200 at a time). Release build, SQLite. Prints the two runs' lines.
#
#   scripts/bench-reanalyze.sh [SUBJECTS_PER_TEAM] [WEEKS]
set -euo pipefail
cd "$(dirname "$0")/.."
PER_TEAM=${1:-10}
WEEKS=${2:-8}
cargo build --release --locked -p mhp-cli >&2
BIN=$PWD/target/release/mhp
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
export MHP_LOG_LEVEL=warn
for teams in 1 4; do
  data=$DIR/data-$teams
  "$BIN" demo --data-dir "$data" --teams "$teams" --subjects-per-team "$PER_TEAM" \
    --weeks "$WEEKS" >/dev/null
  # Mark every result as an older engine's, as an upgrade would find them.
  sqlite3 "$data/mhp.sqlite" \
    "DELETE FROM assessment_metrics;
     UPDATE assessment_results SET analysis_version = 'cmj-0.9.0/balance-0.9.0',
       computed_at_ms = computed_at_ms - 1000;
     UPDATE assessments SET analysis_version = 'cmj-0.9.0/balance-0.9.0';"
  echo "$teams team(s) of $PER_TEAM, $WEEKS weeks: $("$BIN" reanalyze --data-dir "$data")"
done
