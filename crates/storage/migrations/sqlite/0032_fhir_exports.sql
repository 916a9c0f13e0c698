-- FHIR Bulk Data exports of an organisation (its patients, or a group: a team): the request,
-- where it stands, and when its files expire. The files are objects sealed with the
-- organisation's key (`outputs`: type, object key and count of each), deleted on expiry.
CREATE TABLE fhir_exports (
    id               TEXT PRIMARY KEY NOT NULL,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    request_url      TEXT NOT NULL,
    team_id          TEXT,
    types            TEXT NOT NULL,
    since_ms         INTEGER,
    status           TEXT NOT NULL CHECK (status IN ('in_progress', 'complete', 'failed')),
    requested_by     TEXT NOT NULL,
    created_at_ms    INTEGER NOT NULL,
    completed_at_ms  INTEGER,
    expires_at_ms    INTEGER,
    outputs          TEXT,
    error            TEXT
) STRICT;
CREATE INDEX fhir_exports_org ON fhir_exports (org_id, created_at_ms);
