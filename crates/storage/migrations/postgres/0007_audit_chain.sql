-- Hash chain of the audit log: one chain per organisation (and one for the platform), each
-- event committing to the previous one of its chain, and signed checkpoints. Events written
-- before this migration carry no hash and are reported as unchained by `mhp audit verify`.
-- Keep in step with the other backend's 0007_audit_chain.sql.
ALTER TABLE audit_events ADD COLUMN chain TEXT;
ALTER TABLE audit_events ADD COLUMN chain_index BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_hash BYTEA;
ALTER TABLE audit_events ADD COLUMN hash BYTEA;
CREATE UNIQUE INDEX audit_events_chain ON audit_events (chain, chain_index);

CREATE TABLE audit_checkpoints (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain         TEXT NOT NULL,
    chain_index   BIGINT NOT NULL,
    hash          BYTEA NOT NULL,
    signed_at_ms  BIGINT NOT NULL,
    public_key    BYTEA NOT NULL,
    signature     BYTEA NOT NULL
);

CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION mhp_refuse_audit_change();
ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON audit_checkpoints USING (mhp_operator()) WITH CHECK (mhp_operator());
