-- Single-use, expiring tokens for invitations and password resets, stored as SHA-256 only.
-- Keep in step with the other backend's 0006_invitations.sql.
CREATE TABLE invitations (
    id_sha256      TEXT PRIMARY KEY NOT NULL,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    email          TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('org_admin', 'clinician', 'coach', 'athlete',
                                                 'data_scientist', 'auditor', 'device')),
    invited_by     TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    accepted_at_ms INTEGER
) STRICT;
CREATE INDEX invitations_org ON invitations (org_id, created_at_ms);

CREATE TABLE password_resets (
    id_sha256     TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER
) STRICT;
