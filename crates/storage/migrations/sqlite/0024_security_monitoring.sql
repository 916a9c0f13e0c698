-- Security monitoring (C8): the audit log is the durable outbox of security events, read by
-- each consumer (a SIEM sink, the detection rules) from its own cursor; signals that are not
-- audit records (garbage credentials, not-found probes) have a table of their own; the rules'
-- state, what they have seen and the alerts they raised are kept here so they survive restart.
-- Keep in step with the other backend's 0024_security_monitoring.sql.

-- What an event says beyond its action (a policy's name, a role, a reason code): hashed into
-- the chain when present. `tx_id` orders events by transaction for the consumers' cursors
-- (always 0 on SQLite, whose one writer commits in `seq` order).
ALTER TABLE audit_events ADD COLUMN detail TEXT;
ALTER TABLE audit_events ADD COLUMN tx_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX audit_events_delivery ON audit_events (tx_id, seq);

CREATE TABLE security_signals (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    tx_id         INTEGER NOT NULL DEFAULT 0,
    at_ms         INTEGER NOT NULL,
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
) STRICT;
CREATE INDEX security_signals_delivery ON security_signals (tx_id, seq);
CREATE INDEX security_signals_at ON security_signals (at_ms);

-- Where each consumer stands in each stream (`audit`, `signals`).
CREATE TABLE security_cursors (
    consumer   TEXT NOT NULL,
    stream     TEXT NOT NULL,
    tx_id      INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    moved_at_ms INTEGER NOT NULL,
    PRIMARY KEY (consumer, stream)
) STRICT;

-- One instance at a time ships and evaluates; the lease passes on when its holder stops.
CREATE TABLE security_leases (
    name          TEXT PRIMARY KEY NOT NULL,
    holder        TEXT NOT NULL,
    until_ms      INTEGER NOT NULL
) STRICT;

-- The detection rules' windows (JSON, written with the rules' cursor).
CREATE TABLE security_rule_state (
    consumer      TEXT PRIMARY KEY NOT NULL,
    state_json    TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- What the rules remember for long: when an account last signed in, which addresses an API
-- key came from, when a key was issued.
CREATE TABLE security_seen (
    kind          TEXT NOT NULL,
    entity        TEXT NOT NULL,
    value         TEXT NOT NULL,
    first_ms      INTEGER NOT NULL,
    last_ms       INTEGER NOT NULL,
    PRIMARY KEY (kind, entity, value)
) STRICT;

CREATE TABLE security_alerts (
    id             TEXT PRIMARY KEY NOT NULL,
    rule_id        TEXT NOT NULL,
    org_id         TEXT,
    entity         TEXT NOT NULL,
    severity       TEXT NOT NULL,
    technique      TEXT,
    title          TEXT NOT NULL,
    first_at_ms    INTEGER NOT NULL,
    last_at_ms     INTEGER NOT NULL,
    event_count    INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    status_by      TEXT,
    status_at_ms   INTEGER,
    status_reason  TEXT,
    UNIQUE (rule_id, entity, first_at_ms)
) STRICT;
CREATE INDEX security_alerts_org ON security_alerts (org_id, first_at_ms);
