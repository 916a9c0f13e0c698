-- API keys for devices and integrations. The secret is never stored: only its SHA-256 (the
-- secret has 256 bits of entropy, so a slow hash adds nothing). `id` is the public prefix shown
-- in listings and logs. Keep in step with ../postgres/0002_api_keys.sql.
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('org_admin', 'clinician', 'coach', 'athlete',
                                                  'data_scientist', 'auditor', 'device')),
    secret_sha256   BLOB NOT NULL,
    created_by      TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    revoked_at_ms   INTEGER,
    last_used_at_ms INTEGER
) STRICT;
CREATE INDEX api_keys_org ON api_keys (org_id, created_at_ms);
