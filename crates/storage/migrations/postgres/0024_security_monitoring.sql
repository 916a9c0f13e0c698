-- Security monitoring (C8): the audit log is the durable outbox of security events, read by
-- each consumer (a SIEM sink, the detection rules) from its own cursor; signals that are not
-- audit records (garbage credentials, not-found probes) have a table of their own; the rules'
-- state, what they have seen and the alerts they raised are kept here so they survive restart.
-- Keep in step with the other backend's 0024_security_monitoring.sql.

-- What an event says beyond its action (a policy's name, a role, a reason code): hashed into
-- the chain when present. `tx_id` is the writing transaction's id: a consumer reads only
-- events of transactions older than every one still running (the snapshot's xmin), in
-- (tx_id, seq) order, so an event committed late is never skipped by a cursor that moved on.
-- The column is added with a constant default (no table rewrite), then given its real one.
ALTER TABLE audit_events ADD COLUMN detail TEXT;
ALTER TABLE audit_events ADD COLUMN tx_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_events ALTER COLUMN tx_id SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX audit_events_delivery ON audit_events (tx_id, seq);

CREATE TABLE security_signals (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    tx_id         BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    at_ms         BIGINT NOT NULL,
    org_id        TEXT,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    detail        TEXT,
    request_id    TEXT,
    source_ip     TEXT,
    user_agent    TEXT
);
CREATE INDEX security_signals_delivery ON security_signals (tx_id, seq);
CREATE INDEX security_signals_at ON security_signals (at_ms);

-- Where each consumer stands in each stream (`audit`, `signals`).
CREATE TABLE security_cursors (
    consumer   TEXT NOT NULL,
    stream     TEXT NOT NULL,
    tx_id      BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    moved_at_ms BIGINT NOT NULL,
    PRIMARY KEY (consumer, stream)
);

-- One instance at a time ships and evaluates; the lease passes on when its holder stops.
CREATE TABLE security_leases (
    name          TEXT PRIMARY KEY NOT NULL,
    holder        TEXT NOT NULL,
    until_ms      BIGINT NOT NULL
);

-- The detection rules' windows (JSON, written with the rules' cursor).
CREATE TABLE security_rule_state (
    consumer      TEXT PRIMARY KEY NOT NULL,
    state_json    TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- What the rules remember for long: when an account last signed in, which addresses an API
-- key came from, when a key was issued.
CREATE TABLE security_seen (
    kind          TEXT NOT NULL,
    entity        TEXT NOT NULL,
    value         TEXT NOT NULL,
    first_ms      BIGINT NOT NULL,
    last_ms       BIGINT NOT NULL,
    PRIMARY KEY (kind, entity, value)
);

CREATE TABLE security_alerts (
    id             TEXT PRIMARY KEY NOT NULL,
    rule_id        TEXT NOT NULL,
    org_id         TEXT,
    entity         TEXT NOT NULL,
    severity       TEXT NOT NULL,
    technique      TEXT,
    title          TEXT NOT NULL,
    first_at_ms    BIGINT NOT NULL,
    last_at_ms     BIGINT NOT NULL,
    event_count    BIGINT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    status_by      TEXT,
    status_at_ms   BIGINT,
    status_reason  TEXT,
    UNIQUE (rule_id, entity, first_at_ms)
);
CREATE INDEX security_alerts_org ON security_alerts (org_id, first_at_ms);

-- Signals, cursors, leases, state and what was seen belong to the platform; an organisation
-- reads its own alerts (platform-wide ones, without an organisation, only the operator).
ALTER TABLE security_signals ENABLE ROW LEVEL SECURITY;
ALTER TABLE security_signals FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON security_signals USING (mhp_operator()) WITH CHECK (mhp_operator());
ALTER TABLE security_cursors ENABLE ROW LEVEL SECURITY;
ALTER TABLE security_cursors FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON security_cursors USING (mhp_operator()) WITH CHECK (mhp_operator());
ALTER TABLE security_leases ENABLE ROW LEVEL SECURITY;
ALTER TABLE security_leases FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON security_leases USING (mhp_operator()) WITH CHECK (mhp_operator());
ALTER TABLE security_rule_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE security_rule_state FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON security_rule_state USING (mhp_operator()) WITH CHECK (mhp_operator());
ALTER TABLE security_seen ENABLE ROW LEVEL SECURITY;
ALTER TABLE security_seen FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON security_seen USING (mhp_operator()) WITH CHECK (mhp_operator());
ALTER TABLE security_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE security_alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON security_alerts
    USING (org_id = mhp_current_org() OR mhp_operator())
    WITH CHECK (org_id = mhp_current_org() OR mhp_operator());
