-- Access-token signing keys (private half sealed by the application) and refresh tokens
-- (stored as SHA-256, rotated on every use, grouped in families for reuse detection). Keep in
-- step with the other backend's 0005_tokens.sql.
CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    private_sealed BYTEA NOT NULL,
    public_key     BYTEA NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    retired_at_ms  BIGINT
);

CREATE TABLE refresh_tokens (
    id_sha256     TEXT PRIMARY KEY,
    family        TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    amr           TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT,
    revoked_at_ms BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

ALTER TABLE signing_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE signing_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON signing_keys USING (mhp_operator()) WITH CHECK (mhp_operator());
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON refresh_tokens USING (mhp_operator()) WITH CHECK (mhp_operator());
