-- Web sessions and sign-in throttling. Keep in step with the other backend's 0003_sessions.sql.
-- A session is stored under the SHA-256 of its cookie value, never the value itself.
CREATE TABLE sessions (
    id_sha256              TEXT PRIMARY KEY,
    user_id                TEXT NOT NULL REFERENCES users (id),
    csrf_token             TEXT NOT NULL,
    created_at_ms          BIGINT NOT NULL,
    last_seen_at_ms        BIGINT NOT NULL,
    revoked_at_ms          BIGINT,
    source_ip              TEXT,
    user_agent             TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failure counters for sign-in throttling, by key (an account seen from an address, or an
-- address). Keys hold a hash of the e-mail, never the e-mail.
CREATE TABLE sign_in_throttle (
    key                 TEXT PRIMARY KEY,
    failures            BIGINT NOT NULL,
    last_failure_at_ms  BIGINT NOT NULL,
    locked_until_ms     BIGINT
);

-- Sessions and throttling belong to sign-in, before any organisation is chosen: only the
-- operator context reaches them.
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON sessions USING (mhp_operator()) WITH CHECK (mhp_operator());
ALTER TABLE sign_in_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE sign_in_throttle FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON sign_in_throttle USING (mhp_operator()) WITH CHECK (mhp_operator());
