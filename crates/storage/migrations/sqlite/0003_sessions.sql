-- Web sessions and sign-in throttling. Keep in step with the other backend's 0003_sessions.sql.
-- A session is stored under the SHA-256 of its cookie value, never the value itself.
CREATE TABLE sessions (
    id_sha256              TEXT PRIMARY KEY NOT NULL,
    user_id                TEXT NOT NULL REFERENCES users (id),
    csrf_token             TEXT NOT NULL,
    created_at_ms          INTEGER NOT NULL,
    last_seen_at_ms        INTEGER NOT NULL,
    revoked_at_ms          INTEGER,
    source_ip              TEXT,
    user_agent             TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

-- Failure counters for sign-in throttling, by key (an account seen from an address, or an
-- address). Keys hold a hash of the e-mail, never the e-mail.
CREATE TABLE sign_in_throttle (
    key                 TEXT PRIMARY KEY NOT NULL,
    failures            INTEGER NOT NULL,
    last_failure_at_ms  INTEGER NOT NULL,
    locked_until_ms     INTEGER
) STRICT;
