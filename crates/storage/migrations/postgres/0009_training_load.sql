-- Training load by session: session-RPE (Foster et al. 2001), load = duration × RPE in
-- arbitrary units. Keep in step with the other backend's 0009_training_load.sql.
CREATE TABLE training_loads (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    subject_id    TEXT NOT NULL,
    session_date  TEXT NOT NULL,
    session_type  TEXT NOT NULL,
    duration_min  BIGINT NOT NULL CHECK (duration_min BETWEEN 1 AND 600),
    rpe           BIGINT NOT NULL CHECK (rpe BETWEEN 0 AND 10),
    load_au       BIGINT NOT NULL,
    recorded_by   TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects (org_id, id)
);
CREATE INDEX training_loads_subject ON training_loads (org_id, subject_id, session_date);

ALTER TABLE training_loads ENABLE ROW LEVEL SECURITY;
ALTER TABLE training_loads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON training_loads
    USING (org_id = mhp_current_org()) WITH CHECK (org_id = mhp_current_org());
