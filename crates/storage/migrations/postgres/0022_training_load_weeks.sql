-- A read model of training load: each subject's load summed per week (Monday to Sunday), kept
-- in the transaction that records a session (loads are never changed or removed). The team
-- dashboard draws twelve weeks of a team from it instead of summing every session, which cost
-- the page about 15 ms on a team of 150. Keep in step with the other backend's
-- 0022_training_load_weeks.sql.
CREATE TABLE training_load_weeks (
    org_id     TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    -- The Monday, YYYY-MM-DD.
    week_start TEXT NOT NULL,
    load_au    BIGINT NOT NULL,
    PRIMARY KEY (org_id, subject_id, week_start),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects (org_id, id)
);

ALTER TABLE training_loads NO FORCE ROW LEVEL SECURITY;
INSERT INTO training_load_weeks (org_id, subject_id, week_start, load_au)
SELECT org_id, subject_id, to_char(date_trunc('week', session_date::date), 'YYYY-MM-DD'),
       SUM(load_au)
FROM training_loads
GROUP BY org_id, subject_id, to_char(date_trunc('week', session_date::date), 'YYYY-MM-DD');
ALTER TABLE training_loads FORCE ROW LEVEL SECURITY;

ALTER TABLE training_load_weeks ENABLE ROW LEVEL SECURITY;
ALTER TABLE training_load_weeks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON training_load_weeks
    USING (org_id = mhp_current_org()) WITH CHECK (org_id = mhp_current_org());
