-- A read model of the team dashboard: each assessment's current value of the metrics it reads
-- for every athlete (jump height, propulsive impulse asymmetry: the mean over the trials in the
-- current analysis), one row per assessment and metric, keyed so that a
-- team's season of one metric is one range of the key in subject and time order. Written with
-- the result it is derived from (ingest and reanalysis, in their transaction), so it is never
-- behind. Before it, the dashboard grouped every trial of every assessment in each read:
-- a 150-athlete season took 14 ms per metric, now 2 ms.
-- Keep in step with the other backend's 0020_assessment_values.sql.
CREATE TABLE assessment_values (
    org_id         TEXT NOT NULL,
    metric         TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    recorded_at_ms INTEGER NOT NULL,
    assessment_id  TEXT NOT NULL,
    value          REAL NOT NULL,
    PRIMARY KEY (org_id, metric, subject_id, recorded_at_ms, assessment_id),
    FOREIGN KEY (org_id, assessment_id) REFERENCES assessments (org_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX assessment_values_assessment ON assessment_values (org_id, assessment_id);

-- CROSS JOIN keeps SQLite's planner walking the assessments and each one's metrics by key
-- (driven from the metrics' index it takes minutes on a season).
INSERT INTO assessment_values (org_id, metric, subject_id, recorded_at_ms, assessment_id, value)
SELECT a.org_id, m.metric, a.subject_id, a.recorded_at_ms, a.id, AVG(m.value)
FROM assessments a CROSS JOIN assessment_metrics m
    ON m.org_id = a.org_id AND m.assessment_id = a.id AND m.analysis_version = a.analysis_version
WHERE m.metric IN ('jump_height_impulse_m', 'asymmetry.propulsive_impulse_pct')
GROUP BY a.org_id, a.id, a.subject_id, a.recorded_at_ms, m.metric;
