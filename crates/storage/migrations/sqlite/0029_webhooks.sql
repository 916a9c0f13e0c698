-- An organisation's webhooks: where its events are posted, which, as which role (the events a
-- role may not read are never sent), and the signing secret (sealed with the organisation's
-- key, bound to the endpoint and the secret's version). A rotated secret is kept as
-- `previous_secret_sealed` until `previous_expires_at_ms`: both sign in the overlap.
CREATE TABLE webhook_endpoints (
    id                      TEXT PRIMARY KEY NOT NULL,
    org_id                  TEXT NOT NULL REFERENCES organizations (id),
    url                     TEXT NOT NULL,
    events                  TEXT NOT NULL,
    role                    TEXT NOT NULL,
    description             TEXT NOT NULL,
    enabled                 INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    secret_version          INTEGER NOT NULL,
    secret_sealed           BLOB NOT NULL,
    previous_secret_sealed  BLOB,
    previous_expires_at_ms  INTEGER,
    created_by              TEXT NOT NULL,
    created_at_ms           INTEGER NOT NULL,
    updated_at_ms           INTEGER NOT NULL,
    deleted_at_ms           INTEGER
) STRICT;
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at_ms);

-- One message to one endpoint: its body (ids and codes), where its delivery stands and when it
-- is tried next (`manual`: a person asked for the next attempt). The message id (`webhook-id`) is
-- the row's id, the same on every attempt.
CREATE TABLE webhook_deliveries (
    id                  TEXT PRIMARY KEY NOT NULL,
    org_id              TEXT NOT NULL REFERENCES organizations (id),
    endpoint_id         TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_type          TEXT NOT NULL,
    event_id            TEXT NOT NULL,
    payload             TEXT NOT NULL,
    status              TEXT NOT NULL
                        CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts            INTEGER NOT NULL,
    next_attempt_at_ms  INTEGER,
    created_at_ms       INTEGER NOT NULL,
    last_attempt_at_ms  INTEGER,
    last_status         INTEGER,
    last_error          TEXT,
    delivered_at_ms     INTEGER,
    manual              INTEGER NOT NULL CHECK (manual IN (0, 1)),
    UNIQUE (endpoint_id, event_id, event_type)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at_ms);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at_ms);

-- Every attempt of a delivery: when, how long, the answer's status or the error's code.
CREATE TABLE webhook_attempts (
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id),
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    attempt      INTEGER NOT NULL,
    at_ms        INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    status       INTEGER,
    error        TEXT,
    manual       INTEGER NOT NULL CHECK (manual IN (0, 1)),
    PRIMARY KEY (delivery_id, attempt)
) STRICT;
