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
    load_au    INTEGER NOT NULL,
    PRIMARY KEY (org_id, subject_id, week_start),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects (org_id, id)
) STRICT;

INSERT INTO training_load_weeks (org_id, subject_id, week_start, load_au)
SELECT org_id, subject_id, date(session_date, '-6 days', 'weekday 1'), SUM(load_au)
FROM training_loads
GROUP BY org_id, subject_id, date(session_date, '-6 days', 'weekday 1');
