-- Access-token signing keys (private half sealed by the application) and refresh tokens
-- (stored as SHA-256, rotated on every use, grouped in families for reuse detection). Keep in
-- step with the other backend's 0005_tokens.sql.
CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY NOT NULL,
    private_sealed BLOB NOT NULL,
    public_key     BLOB NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    retired_at_ms  INTEGER
) STRICT;

CREATE TABLE refresh_tokens (
    id_sha256     TEXT PRIMARY KEY NOT NULL,
    family        TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    amr           TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER,
    revoked_at_ms INTEGER
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
