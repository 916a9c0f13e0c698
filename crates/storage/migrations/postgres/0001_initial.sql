-- MHP first schema (PostgreSQL). Keep in step with ../sqlite/0001_initial.sql: a test compares
-- the tables and columns of both. Times are milliseconds since the Unix epoch (UTC).
-- Direct identifiers of subjects are stored sealed (ciphertext bytes), never as text.
--
-- Row-level security is the second wall of tenant isolation. Every tenant table has a policy
-- keyed by the transaction-local setting `mhp.org_id`, which the storage layer sets from the
-- request's organisation scope. `mhp.operator = 'on'` opens only the tables that named
-- operator functions need (organisations, users, memberships, audit) and never subject data.
-- FORCE makes the policies bind the table owner too, which is the role the application uses.

CREATE TABLE organizations (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    created_at_ms  BIGINT NOT NULL,
    archived_at_ms BIGINT
);

CREATE TABLE users (
    id                        TEXT PRIMARY KEY,
    email                     TEXT NOT NULL UNIQUE,
    display_name              TEXT NOT NULL,
    password_hash             TEXT,
    password_change_required_at_ms BIGINT,
    platform_role             TEXT CHECK (platform_role IN ('operator')),
    created_at_ms             BIGINT NOT NULL,
    disabled_at_ms            BIGINT
);

CREATE TABLE memberships (
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL CHECK (role IN ('org_admin', 'clinician', 'coach', 'athlete',
                                                'data_scientist', 'auditor', 'device')),
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id, role)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE teams (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    name           TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    archived_at_ms BIGINT,
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
);

CREATE TABLE team_staff (
    org_id        TEXT NOT NULL,
    team_id       TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (org_id, team_id, user_id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id)
);

CREATE TABLE subjects (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES organizations (id),
    pseudonym          TEXT NOT NULL UNIQUE,
    name_sealed        BYTEA NOT NULL,
    birth_date_sealed  BYTEA,
    external_id_sealed BYTEA,
    sex                TEXT CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    user_id            TEXT REFERENCES users (id),
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL,
    archived_at_ms     BIGINT,
    UNIQUE (org_id, id)
);
CREATE INDEX subjects_org ON subjects (org_id, created_at_ms);

CREATE TABLE team_subjects (
    org_id        TEXT NOT NULL,
    team_id       TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (org_id, team_id, subject_id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects (org_id, id)
);

CREATE TABLE audit_events (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    at_ms         BIGINT NOT NULL,
    org_id        TEXT,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    request_id    TEXT,
    source_ip     TEXT,
    user_agent    TEXT
);
CREATE INDEX audit_events_org ON audit_events (org_id, seq);

CREATE FUNCTION mhp_refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION mhp_refuse_audit_change();

-- The organisation the current transaction serves ('' or NULL when none).
CREATE FUNCTION mhp_current_org() RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT current_setting('mhp.org_id', true)
$$;
-- Whether the current transaction runs a named cross-organisation operator function.
CREATE FUNCTION mhp_operator() RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('mhp.operator', true), '') = 'on'
$$;

ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organizations
    USING (id = mhp_current_org() OR mhp_operator())
    WITH CHECK (id = mhp_current_org() OR mhp_operator());

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memberships
    USING (org_id = mhp_current_org() OR mhp_operator())
    WITH CHECK (org_id = mhp_current_org() OR mhp_operator());

-- A user row is visible in an organisation's transaction only when that user is a member.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (mhp_operator() OR EXISTS (
        SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.org_id = mhp_current_org()))
    WITH CHECK (mhp_operator());

ALTER TABLE teams ENABLE ROW LEVEL SECURITY;
ALTER TABLE teams FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON teams
    USING (org_id = mhp_current_org()) WITH CHECK (org_id = mhp_current_org());

ALTER TABLE team_staff ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_staff FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON team_staff
    USING (org_id = mhp_current_org()) WITH CHECK (org_id = mhp_current_org());

ALTER TABLE subjects ENABLE ROW LEVEL SECURITY;
ALTER TABLE subjects FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON subjects
    USING (org_id = mhp_current_org()) WITH CHECK (org_id = mhp_current_org());

ALTER TABLE team_subjects ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_subjects FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON team_subjects
    USING (org_id = mhp_current_org()) WITH CHECK (org_id = mhp_current_org());

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
    USING (org_id = mhp_current_org() OR mhp_operator())
    WITH CHECK (org_id = mhp_current_org() OR mhp_operator());
