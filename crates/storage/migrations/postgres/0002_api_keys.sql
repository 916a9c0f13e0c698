-- API keys for devices and integrations. The secret is never stored: only its SHA-256 (the
-- secret has 256 bits of entropy, so a slow hash adds nothing). `id` is the public prefix shown
-- in listings and logs. Keep in step with ../sqlite/0002_api_keys.sql.
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('org_admin', 'clinician', 'coach', 'athlete',
                                                  'data_scientist', 'auditor', 'device')),
    secret_sha256   BYTEA NOT NULL,
    created_by      TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL,
    revoked_at_ms   BIGINT,
    last_used_at_ms BIGINT
);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at_ms);

-- Keys are looked up before any organisation is known (authentication), which the operator
-- context does; everything else is scoped to the key's organisation.
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (org_id = mhp_current_org() OR mhp_operator())
    WITH CHECK (org_id = mhp_current_org() OR mhp_operator());
