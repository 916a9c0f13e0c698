-- Audit retention: events stay at least six years (HIPAA keeps documentation six years). An
-- event may be deleted only once it is older than that, which the database checks against its
-- own clock, so no setting of the application can shorten it; `mhp audit prune` archives such
-- events first and records an anchor (the hash of the last pruned event, which a signed
-- checkpoint vouches for), from which `mhp audit verify` resumes the chain. Keep in step with
-- the other backend's 0012_audit_retention.sql.
DROP TRIGGER audit_events_no_delete;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN old.at_ms > CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 189216000000
BEGIN
    SELECT RAISE(ABORT, 'audit events younger than six years cannot be deleted');
END;

CREATE TABLE audit_anchors (
    chain         TEXT NOT NULL,
    chain_index   INTEGER NOT NULL,
    hash          BLOB NOT NULL,
    events        INTEGER NOT NULL,
    pruned_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (chain, chain_index)
) STRICT;
CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors
BEGIN
    SELECT RAISE(ABORT, 'audit anchors are append-only');
END;
CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors
BEGIN
    SELECT RAISE(ABORT, 'audit anchors are append-only');
END;
