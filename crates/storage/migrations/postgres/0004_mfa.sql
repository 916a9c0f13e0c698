-- Second factor: TOTP secrets (sealed by the application), recovery codes (SHA-256 only), the
-- MFA state of sessions, and each organisation's MFA policy. Keep in step with the other
-- backend's 0004_mfa.sql.
ALTER TABLE users ADD COLUMN totp_secret_sealed BYTEA;
ALTER TABLE users ADD COLUMN totp_enabled_at_ms BIGINT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- A session whose password was checked but whose second factor is still due.
ALTER TABLE sessions ADD COLUMN mfa_pending BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN mfa_verified_at_ms BIGINT;

CREATE TABLE recovery_codes (
    user_id     TEXT NOT NULL REFERENCES users (id),
    code_sha256 TEXT NOT NULL,
    used_at_ms  BIGINT,
    PRIMARY KEY (user_id, code_sha256)
);

-- optional: users choose; privileged: org admins, clinicians and auditors must; everyone: all.
ALTER TABLE organizations ADD COLUMN mfa_policy TEXT NOT NULL DEFAULT 'optional'
    CHECK (mfa_policy IN ('optional', 'privileged', 'everyone'));

ALTER TABLE recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE recovery_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON recovery_codes USING (mhp_operator()) WITH CHECK (mhp_operator());
