-- Single sign-on: one OpenID Connect provider per organisation, sign-ins in flight, and the
-- link from a provider's subject to an MHP user. Keep in step with the other backend's
-- 0010_sso.sql.
CREATE TABLE org_sso (
    org_id          TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id),
    -- issuer, client_id, client_secret_ref (a secret:// reference, never the secret), scopes,
    -- allowed_domains, role_claim, role_map, default_role, as JSON.
    config_json     TEXT NOT NULL,
    sso_required    BIGINT NOT NULL CHECK (sso_required IN (0, 1)),
    updated_by      TEXT NOT NULL,
    updated_at_ms   BIGINT NOT NULL
);

-- The PKCE verifier, state and nonce of a sign-in between the redirect and the callback,
-- sealed, under the SHA-256 of the browser's cookie; single use, short-lived.
CREATE TABLE sso_pending (
    id_sha256      TEXT PRIMARY KEY NOT NULL,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    pending_sealed BYTEA NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL
);

CREATE TABLE user_identities (
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (org_id, issuer, subject)
);

-- The configuration is the organisation's; sign-in reads it before any scope exists.
ALTER TABLE org_sso ENABLE ROW LEVEL SECURITY;
ALTER TABLE org_sso FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON org_sso
    USING (org_id = mhp_current_org() OR mhp_operator())
    WITH CHECK (org_id = mhp_current_org() OR mhp_operator());
ALTER TABLE sso_pending ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_pending FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON sso_pending USING (mhp_operator()) WITH CHECK (mhp_operator());
ALTER TABLE user_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_identities FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON user_identities USING (mhp_operator()) WITH CHECK (mhp_operator());
