-- MHP first schema (SQLite). Keep in step with ../postgres/0001_initial.sql: a test compares
-- the tables and columns of both. Times are milliseconds since the Unix epoch (UTC).
-- Direct identifiers of subjects are stored sealed (ciphertext bytes), never as text.

CREATE TABLE organizations (
    id             TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL UNIQUE,
    created_at_ms  INTEGER NOT NULL,
    archived_at_ms INTEGER
) STRICT;

CREATE TABLE users (
    id                        TEXT PRIMARY KEY NOT NULL,
    email                     TEXT NOT NULL UNIQUE,
    display_name              TEXT NOT NULL,
    password_hash             TEXT,
    password_change_required_at_ms INTEGER,
    platform_role             TEXT CHECK (platform_role IN ('operator')),
    created_at_ms             INTEGER NOT NULL,
    disabled_at_ms            INTEGER
) STRICT;

CREATE TABLE memberships (
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL CHECK (role IN ('org_admin', 'clinician', 'coach', 'athlete',
                                                'data_scientist', 'auditor', 'device')),
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, role)
) STRICT;
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE teams (
    id             TEXT PRIMARY KEY NOT NULL,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    name           TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    archived_at_ms INTEGER,
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
) STRICT;

CREATE TABLE team_staff (
    org_id        TEXT NOT NULL,
    team_id       TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (org_id, team_id, user_id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id)
) STRICT;

CREATE TABLE subjects (
    id                 TEXT PRIMARY KEY NOT NULL,
    org_id             TEXT NOT NULL REFERENCES organizations (id),
    pseudonym          TEXT NOT NULL UNIQUE,
    name_sealed        BLOB NOT NULL,
    birth_date_sealed  BLOB,
    external_id_sealed BLOB,
    sex                TEXT CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    user_id            TEXT REFERENCES users (id),
    created_at_ms      INTEGER NOT NULL,
    updated_at_ms      INTEGER NOT NULL,
    archived_at_ms     INTEGER,
    UNIQUE (org_id, id)
) STRICT;
CREATE INDEX subjects_org ON subjects (org_id, created_at_ms);

CREATE TABLE team_subjects (
    org_id        TEXT NOT NULL,
    team_id       TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (org_id, team_id, subject_id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects (org_id, id)
) STRICT;

CREATE TABLE audit_events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    at_ms         INTEGER NOT NULL,
    org_id        TEXT,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    request_id    TEXT,
    source_ip     TEXT,
    user_agent    TEXT
) STRICT;
CREATE INDEX audit_events_org ON audit_events (org_id, seq);

-- Audit rows are append-only: the database refuses to change or remove them.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
