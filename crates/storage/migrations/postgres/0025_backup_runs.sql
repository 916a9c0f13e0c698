-- Backups and restore drills as they happened: what `mhp backup` made or checked, when, and
-- with what result (RTO and RPO for drills). /metrics reads the newest good ones; the
-- compliance checks ask how old they are. Operator data: no organisation's.
CREATE TABLE backup_runs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('data', 'key-store', 'drill')),
    backup_id   TEXT,
    destination TEXT NOT NULL,
    at_ms       BIGINT NOT NULL,
    ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
    bytes       BIGINT,
    rto_ms      BIGINT,
    rpo_ms      BIGINT,
    detail      TEXT NOT NULL
);
CREATE INDEX backup_runs_kind ON backup_runs (kind, ok, at_ms);

ALTER TABLE backup_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE backup_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON backup_runs USING (mhp_operator()) WITH CHECK (mhp_operator());
