-- Audit retention: events stay at least six years (HIPAA keeps documentation six years). An
-- event may be deleted only once it is older than that, which the database checks against its
-- own clock, so no setting of the application can shorten it; `mhp audit prune` archives such
-- events first and records an anchor (the hash of the last pruned event, which a signed
-- checkpoint vouches for), from which `mhp audit verify` resumes the chain. Keep in step with
-- the other backend's 0012_audit_retention.sql.
DROP TRIGGER audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION mhp_refuse_audit_change();
CREATE FUNCTION mhp_refuse_young_audit_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.at_ms > (extract(epoch FROM clock_timestamp()) * 1000)::bigint - 189216000000 THEN
        RAISE EXCEPTION 'audit events younger than six years cannot be deleted';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER audit_events_retention BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION mhp_refuse_young_audit_delete();

CREATE TABLE audit_anchors (
    chain         TEXT NOT NULL,
    chain_index   BIGINT NOT NULL,
    hash          BYTEA NOT NULL,
    events        BIGINT NOT NULL,
    pruned_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (chain, chain_index)
);
CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON audit_anchors FOR EACH STATEMENT EXECUTE FUNCTION mhp_refuse_audit_change();
ALTER TABLE audit_anchors ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_anchors FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON audit_anchors USING (mhp_operator()) WITH CHECK (mhp_operator());
