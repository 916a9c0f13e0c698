-- Pipelines (C3, C4; docs/design/pipelines.md): runs and their jobs (the durable queue), step
-- logs, schedules; the model registry; risk scores and their bands. Keep in step with the other
-- backend's 0013_pipelines.sql. Nothing here holds PHI: parameters, outputs, errors and logs
-- carry ids, counts and figures only.

-- One execution of a pipeline for one organisation.
CREATE TABLE pipeline_runs (
    id               TEXT PRIMARY KEY NOT NULL,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    pipeline         TEXT NOT NULL,
    trigger_kind     TEXT NOT NULL CHECK (trigger_kind IN ('schedule', 'api', 'cli', 'event')),
    requested_by     TEXT NOT NULL,
    params_json      TEXT NOT NULL,
    status           TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    error            TEXT,
    created_at_ms    INTEGER NOT NULL,
    started_at_ms    INTEGER,
    finished_at_ms   INTEGER,
    UNIQUE (org_id, id)
) STRICT;
CREATE INDEX pipeline_runs_org ON pipeline_runs (org_id, created_at_ms);
CREATE INDEX pipeline_runs_status ON pipeline_runs (status, pipeline);

-- One step of a run: the unit the workers claim. `waiting` until the steps it needs succeed,
-- then `queued`; `running` while a worker holds its lease.
CREATE TABLE pipeline_jobs (
    id               TEXT PRIMARY KEY NOT NULL,
    org_id           TEXT NOT NULL,
    run_id           TEXT NOT NULL,
    pipeline         TEXT NOT NULL,
    step             TEXT NOT NULL,
    status           TEXT NOT NULL
        CHECK (status IN ('waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled')),
    priority         INTEGER NOT NULL,
    max_concurrent   INTEGER NOT NULL CHECK (max_concurrent >= 1),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
    timeout_ms       INTEGER NOT NULL CHECK (timeout_ms >= 1),
    not_before_ms    INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_ms INTEGER,
    output_json      TEXT,
    error            TEXT,
    created_at_ms    INTEGER NOT NULL,
    started_at_ms    INTEGER,
    finished_at_ms   INTEGER,
    UNIQUE (run_id, step),
    FOREIGN KEY (org_id, run_id) REFERENCES pipeline_runs (org_id, id)
) STRICT;
-- Claiming reads the queued jobs in claim order and stops at the first it may take.
CREATE INDEX pipeline_jobs_queue ON pipeline_jobs (priority DESC, not_before_ms, id)
    WHERE status = 'queued';
-- Running jobs: per pipeline (concurrency limits) and by lease end (takeover).
CREATE INDEX pipeline_jobs_running ON pipeline_jobs (pipeline, lease_expires_ms)
    WHERE status = 'running';
CREATE INDEX pipeline_jobs_leases ON pipeline_jobs (lease_expires_ms) WHERE status = 'running';
CREATE INDEX pipeline_jobs_pipeline ON pipeline_jobs (pipeline, status);
CREATE INDEX pipeline_jobs_run ON pipeline_jobs (org_id, run_id);

-- The graph: a job becomes due when every step it needs, in the same run, has succeeded.
CREATE TABLE pipeline_job_needs (
    org_id     TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    step       TEXT NOT NULL,
    needs_step TEXT NOT NULL,
    PRIMARY KEY (run_id, step, needs_step),
    FOREIGN KEY (org_id, run_id) REFERENCES pipeline_runs (org_id, id)
) STRICT;

-- Step logs, bounded per attempt by the worker; messages carry no PHI.
CREATE TABLE pipeline_logs (
    id       TEXT PRIMARY KEY NOT NULL,
    org_id   TEXT NOT NULL,
    run_id   TEXT NOT NULL,
    step     TEXT NOT NULL,
    attempt  INTEGER NOT NULL,
    at_ms    INTEGER NOT NULL,
    level    TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message  TEXT NOT NULL,
    FOREIGN KEY (org_id, run_id) REFERENCES pipeline_runs (org_id, id)
) STRICT;
CREATE INDEX pipeline_logs_run ON pipeline_logs (org_id, run_id, at_ms);

-- Cron schedules with a time zone; the firing transaction moves `next_fire_ms` on, so one
-- worker fires each slot.
CREATE TABLE pipeline_schedules (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    pipeline      TEXT NOT NULL,
    cron          TEXT NOT NULL,
    timezone      TEXT NOT NULL,
    params_json   TEXT NOT NULL,
    enabled       INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    next_fire_ms  INTEGER NOT NULL,
    last_fire_ms  INTEGER,
    last_run_id   TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (org_id, pipeline)
) STRICT;
CREATE INDEX pipeline_schedules_due ON pipeline_schedules (enabled, next_fire_ms);

-- The model registry: a named model per organisation, its versions and their stages.
CREATE TABLE models (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    name          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
) STRICT;

CREATE TABLE model_versions (
    id               TEXT PRIMARY KEY NOT NULL,
    org_id           TEXT NOT NULL,
    model_id         TEXT NOT NULL,
    version          INTEGER NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('native', 'onnx')),
    stage            TEXT NOT NULL
        CHECK (stage IN ('candidate', 'staging', 'production', 'archived')),
    artifact_key     TEXT NOT NULL,
    artifact_sha256  TEXT NOT NULL,
    features_json    TEXT NOT NULL,
    lineage_json     TEXT NOT NULL,
    metrics_json     TEXT NOT NULL,
    training_run_id  TEXT,
    created_by       TEXT NOT NULL,
    created_at_ms    INTEGER NOT NULL,
    promoted_at_ms   INTEGER,
    stage_changed_at_ms INTEGER NOT NULL,
    UNIQUE (org_id, model_id, version),
    UNIQUE (org_id, id),
    UNIQUE (model_id, training_run_id),
    FOREIGN KEY (org_id, model_id) REFERENCES models (org_id, id)
) STRICT;
-- At most one production version per model.
CREATE UNIQUE INDEX model_versions_production ON model_versions (org_id, model_id)
    WHERE stage = 'production';

-- Risk bands: probability at or above `moderate` is moderate, at or above `high` is high.
CREATE TABLE risk_thresholds (
    org_id        TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id),
    moderate      REAL NOT NULL CHECK (moderate > 0 AND moderate < 1),
    high          REAL NOT NULL CHECK (high > 0 AND high < 1),
    updated_by    TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    CHECK (moderate < high)
) STRICT;

-- One score per subject, day and model version (a repeated scoring step rewrites it).
CREATE TABLE risk_scores (
    id                TEXT PRIMARY KEY NOT NULL,
    org_id            TEXT NOT NULL,
    subject_id        TEXT NOT NULL,
    as_of             TEXT NOT NULL,
    model_version_id  TEXT NOT NULL,
    probability       REAL NOT NULL CHECK (probability >= 0 AND probability <= 1),
    band              TEXT NOT NULL CHECK (band IN ('low', 'moderate', 'high')),
    contributions_json TEXT NOT NULL,
    run_id            TEXT,
    scored_at_ms      INTEGER NOT NULL,
    UNIQUE (org_id, subject_id, as_of, model_version_id),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects (org_id, id),
    FOREIGN KEY (org_id, model_version_id) REFERENCES model_versions (org_id, id)
) STRICT;
CREATE INDEX risk_scores_subject ON risk_scores (org_id, subject_id, as_of);
CREATE INDEX risk_scores_day ON risk_scores (org_id, as_of);
