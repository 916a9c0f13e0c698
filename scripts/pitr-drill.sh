#!/usr/bin/env bash
# Point-in-time recovery of a PostgreSQL system of record with pgBackRest, drilled end to end:
# a throwaway cluster archives its WAL to an encrypted pgBackRest repository (the settings of
# deploy/pgbackrest/, with a local repository in place of S3), takes a full backup, serves MHP,
# marks a restore point, then changes more; the repository is restored to that point into a new
# cluster, and `mhp serve` runs on it until ready. The restored database must hold what was
# written before the point and nothing after it, and its audit log must verify. Prints JSON
# with the RTO (seconds from the start of the restore to MHP ready) and what was restored.
#
#   scripts/pitr-drill.sh [MHP_BINARY]     (default target/debug/mhp)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/postgres.sh
. scripts/lib/postgres.sh
MHP=$(mhp_binary "${1:-}")

need_tool pgbackrest pgbackrest

WORK=$(mktemp -d /tmp/mhp-pitr.XXXXXX)
chmod 0755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "$WORK/main" "$WORK/restored"; do
    if [ -d "$d" ]; then as_pg "$PG_BIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

PORT=$(free_port)
PORT2=$(free_port)
CONF=$WORK/pgbackrest.conf
# The repository's settings are deploy/pgbackrest/pgbackrest.conf's, but for where it is.
sed -e "s|^repo1-type=.*|repo1-type=posix|" \
    -e "/^repo1-s3-/d" \
    -e "s|^repo1-path=.*|repo1-path=$WORK/repo|" \
    -e "s|^repo1-cipher-pass=.*|repo1-cipher-pass=$(python3 -c 'import secrets; print(secrets.token_hex(24))')|" \
    -e "s|^log-path=.*|log-path=$WORK/log|" \
    -e "s|^lock-path=.*|lock-path=$WORK/lock|" \
    -e "s|^spool-path=.*|spool-path=$WORK/spool|" \
    -e "s|^pg1-path=.*|pg1-path=$WORK/main|" \
    -e "s|^pg1-port=.*|pg1-port=$PORT|" \
    -e "s|^pg1-socket-path=.*|pg1-socket-path=$WORK|" \
    deploy/pgbackrest/pgbackrest.conf >"$CONF"
chmod 0600 "$CONF"
mkdir -p "$WORK/log" "$WORK/lock" "$WORK/spool"
[ "$(id -u)" = 0 ] && chown -R postgres "$CONF" "$WORK/log" "$WORK/lock" "$WORK/spool"
BR=(pgbackrest --config="$CONF" --stanza=mhp)

# The cluster, archiving as deploy/pgbackrest/postgresql.conf says.
APP_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
as_pg "$PG_BIN/initdb" -D "$WORK/main" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
sed -e "s|@CONFIG@|$CONF|" deploy/pgbackrest/postgresql.conf | as_pg tee -a "$WORK/main/postgresql.conf" >/dev/null
printf "CREATE ROLE mhp LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '%s';\nCREATE DATABASE mhp OWNER mhp;\n" "$APP_PASSWORD" \
  | as_pg "$PG_BIN/postgres" --single -D "$WORK/main" postgres >"$WORK/single.log" 2>&1 \
  || { cat "$WORK/single.log" >&2; exit 1; }
start_cluster() { # DIR PORT
  as_pg "$PG_BIN/pg_ctl" -D "$1" -l "$1.log" -w -t 120 start \
    -o "-c listen_addresses=127.0.0.1 -p $2 -k $WORK" >/dev/null || { cat "$1.log" >&2; exit 1; }
}
sql() { # PORT SQL
  as_pg psql -X -q -A -t -h "$WORK" -p "$1" -U postgres -d mhp -c "$2"
}
start_cluster "$WORK/main" "$PORT"
as_pg "${BR[@]}" stanza-create >/dev/null
as_pg "${BR[@]}" check >/dev/null
as_pg "${BR[@]}" backup --type=full >/dev/null

# MHP on it: an organisation before the restore point, another after it.
export MHP_DATA_DIR=$WORK/mhp-data MHP_LOG_LEVEL=warn
# The key store stays where it is (a database of its own, apart from the restored one).
export MHP_KEYS_STORE_URL="sqlite://$WORK/mhp-data/keys.sqlite?mode=rwc"
export DATABASE_URL="postgres://mhp:$APP_PASSWORD@127.0.0.1:$PORT/mhp"
printf 'correct horse battery staple\n' | "$MHP" admin bootstrap --org "Before The Point" \
  --email ops@example.org --password-stdin >/dev/null
sql "$PORT" "SELECT pg_create_restore_point('mhp-drill')" >/dev/null
BEFORE=$(sql "$PORT" "SELECT count(*) FROM audit_events")
"$MHP" admin org-create --name "After The Point" >/dev/null
[ "$(sql "$PORT" "SELECT count(*) FROM organizations")" = 2 ]
# The WAL holding both is archived (check waits for the switched segment).
sql "$PORT" "SELECT pg_switch_wal()" >/dev/null
as_pg "${BR[@]}" check >/dev/null
as_pg "${BR[@]}" info >"$WORK/info.txt"

# Restore to the point into a new cluster, then serve from it.
START=$(date +%s.%N)
as_pg mkdir -m 0700 "$WORK/restored"
as_pg "${BR[@]}" --pg1-path="$WORK/restored" restore --type=name --target=mhp-drill \
  --target-action=promote >/dev/null
start_cluster "$WORK/restored" "$PORT2"
for _ in $(seq 1 600); do
  [ "$(sql "$PORT2" "SELECT pg_is_in_recovery()")" = f ] && break
  sleep 0.1
done
[ "$(sql "$PORT2" "SELECT pg_is_in_recovery()")" = f ] || { echo "pitr-drill: still in recovery" >&2; exit 1; }
# Exactly what was committed before the point: the same audit events, one organisation.
AFTER=$(sql "$PORT2" "SELECT count(*) FROM audit_events")
[ "$AFTER" = "$BEFORE" ] || { echo "pitr-drill: $AFTER audit events restored, $BEFORE at the point" >&2; exit 1; }
export DATABASE_URL="postgres://mhp:$APP_PASSWORD@127.0.0.1:$PORT2/mhp"
"$MHP" serve --listen 127.0.0.1:0 2>"$WORK/serve.log" >&2 &
PIDS+=($!)
ADDR=""
for _ in $(seq 1 600); do
  ADDR=$(ss -ltnp 2>/dev/null | awk -v p="pid=${PIDS[0]}," '$0 ~ p {print $4; exit}')
  [ -n "$ADDR" ] && curl -sf "http://$ADDR/readyz" >/dev/null && break
  ADDR=""
  sleep 0.05
done
[ -n "$ADDR" ] || { echo "pitr-drill: MHP did not get ready on the restored cluster" >&2; cat "$WORK/serve.log" >&2; exit 1; }
READY=$(date +%s.%N)

ORGS=$(sql "$PORT2" "SELECT string_agg(name, ',' ORDER BY name) FROM organizations")
[ "$ORGS" = "Before The Point" ] || { echo "pitr-drill: restored organisations: $ORGS" >&2; exit 1; }
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
PIDS=()
"$MHP" audit verify >"$WORK/verify.txt" || { cat "$WORK/verify.txt" >&2; exit 1; }
python3 - "$START" "$READY" "$BEFORE" "$AFTER" <<'PY'
import json, sys
start, ready, before, after = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(json.dumps({
    "restored_to": "restore point mhp-drill",
    "rto_s": round(ready - start, 2),
    "audit_events_at_point": before,
    "audit_events_restored": after,
    "organisations": ["Before The Point"],
    "audit_verified": True,
}))
PY
