-- Single-use, expiring tokens for invitations and password resets, stored as SHA-256 only.
-- Keep in step with the other backend's 0006_invitations.sql.
CREATE TABLE invitations (
    id_sha256      TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    email          TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('org_admin', 'clinician', 'coach', 'athlete',
                                                 'data_scientist', 'auditor', 'device')),
    invited_by     TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL,
    accepted_at_ms BIGINT
);
CREATE INDEX invitations_org ON invitations (org_id, created_at_ms);

CREATE TABLE password_resets (
    id_sha256     TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT
);

-- Invitations are created in the organisation's scope and accepted before any scope exists.
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations
    USING (org_id = mhp_current_org() OR mhp_operator())
    WITH CHECK (org_id = mhp_current_org() OR mhp_operator());
ALTER TABLE password_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE password_resets FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON password_resets USING (mhp_operator()) WITH CHECK (mhp_operator());
