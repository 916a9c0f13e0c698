-- Single sign-on: one OpenID Connect provider per organisation, sign-ins in flight, and the
-- link from a provider's subject to an MHP user. Keep in step with the other backend's
-- 0010_sso.sql.
CREATE TABLE org_sso (
    org_id          TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id),
    -- issuer, client_id, client_secret_ref (a secret:// reference, never the secret), scopes,
    -- allowed_domains, role_claim, role_map, default_role, as JSON.
    config_json     TEXT NOT NULL,
    sso_required    INTEGER NOT NULL CHECK (sso_required IN (0, 1)),
    updated_by      TEXT NOT NULL,
    updated_at_ms   INTEGER NOT NULL
) STRICT;

-- The PKCE verifier, state and nonce of a sign-in between the redirect and the callback,
-- sealed, under the SHA-256 of the browser's cookie; single use, short-lived.
CREATE TABLE sso_pending (
    id_sha256      TEXT PRIMARY KEY NOT NULL,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    pending_sealed BLOB NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE user_identities (
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (org_id, issuer, subject)
) STRICT;
