-- Hash chain of the audit log: one chain per organisation (and one for the platform), each
-- event committing to the previous one of its chain, and signed checkpoints. Events written
-- before this migration carry no hash and are reported as unchained by `mhp audit verify`.
-- Keep in step with the other backend's 0007_audit_chain.sql.
ALTER TABLE audit_events ADD COLUMN chain TEXT;
ALTER TABLE audit_events ADD COLUMN chain_index INTEGER;
ALTER TABLE audit_events ADD COLUMN prev_hash BLOB;
ALTER TABLE audit_events ADD COLUMN hash BLOB;
CREATE UNIQUE INDEX audit_events_chain ON audit_events (chain, chain_index);

CREATE TABLE audit_checkpoints (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    chain         TEXT NOT NULL,
    chain_index   INTEGER NOT NULL,
    hash          BLOB NOT NULL,
    signed_at_ms  INTEGER NOT NULL,
    public_key    BLOB NOT NULL,
    signature     BLOB NOT NULL
) STRICT;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
