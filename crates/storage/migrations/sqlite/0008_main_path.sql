-- The main path: searchable subjects, assessments with their results per analysis version,
-- injuries and return to duty. Keep in step with the other backend's 0008_main_path.sql.

-- Blind indexes (keyed HMAC, see mhp_crypto::blind) make sealed identifiers searchable by
-- exact match without storing them in plaintext.
ALTER TABLE subjects ADD COLUMN external_id_bidx TEXT;
ALTER TABLE subjects ADD COLUMN name_bidx TEXT;
ALTER TABLE subjects ADD COLUMN sport TEXT;
CREATE UNIQUE INDEX subjects_external_id ON subjects (org_id, external_id_bidx)
    WHERE external_id_bidx IS NOT NULL;
CREATE INDEX subjects_name ON subjects (org_id, name_bidx);

CREATE TABLE subject_name_words (
    org_id     TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    word_bidx  TEXT NOT NULL,
    PRIMARY KEY (org_id, word_bidx, subject_id),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects (org_id, id)
) STRICT;

CREATE TABLE assessments (
    id                 TEXT PRIMARY KEY NOT NULL,
    org_id             TEXT NOT NULL REFERENCES organizations (id),
    subject_id         TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('cmj', 'balance', 'plank', 'mixed', 'none')),
    recorded_at_ms     INTEGER NOT NULL,
    source             TEXT NOT NULL CHECK (source IN ('user', 'device')),
    uploaded_by        TEXT NOT NULL,
    format             TEXT NOT NULL CHECK (format IN ('csv', 'json')),
    raw_object_key     TEXT NOT NULL,
    raw_sha256         TEXT NOT NULL,
    raw_bytes          INTEGER NOT NULL,
    idempotency_key    TEXT,
    analysis_version   TEXT NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, idempotency_key),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects (org_id, id)
) STRICT;
CREATE INDEX assessments_subject ON assessments (org_id, subject_id, recorded_at_ms);

-- One row per assessment and analysis version: re-analysis adds a row, never overwrites.
CREATE TABLE assessment_results (
    org_id           TEXT NOT NULL,
    assessment_id    TEXT NOT NULL,
    analysis_version TEXT NOT NULL,
    computed_at_ms   INTEGER NOT NULL,
    trials           INTEGER NOT NULL,
    blocked_trials   INTEGER NOT NULL,
    report_json      TEXT NOT NULL,
    PRIMARY KEY (org_id, assessment_id, analysis_version),
    FOREIGN KEY (org_id, assessment_id) REFERENCES assessments (org_id, id)
) STRICT;

-- The numbers of each trial, flattened for norms, trends and team aggregates in SQL.
CREATE TABLE assessment_metrics (
    org_id           TEXT NOT NULL,
    assessment_id    TEXT NOT NULL,
    analysis_version TEXT NOT NULL,
    trial_index      INTEGER NOT NULL,
    metric           TEXT NOT NULL,
    value            REAL NOT NULL,
    PRIMARY KEY (org_id, assessment_id, analysis_version, trial_index, metric),
    FOREIGN KEY (org_id, assessment_id, analysis_version)
        REFERENCES assessment_results (org_id, assessment_id, analysis_version)
) STRICT;
CREATE INDEX assessment_metrics_metric ON assessment_metrics (org_id, metric, analysis_version);

CREATE TABLE injuries (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    subject_id      TEXT NOT NULL,
    body_region     TEXT NOT NULL,
    injury_type     TEXT NOT NULL,
    side            TEXT NOT NULL CHECK (side IN ('left', 'right', 'bilateral', 'central')),
    severity        TEXT NOT NULL CHECK (severity IN ('none', 'minimal', 'mild', 'moderate', 'severe')),
    mechanism       TEXT NOT NULL CHECK (mechanism IN ('contact', 'non_contact', 'overuse', 'unknown')),
    occurred_on     TEXT NOT NULL,
    time_loss_days  INTEGER,
    notes_sealed    BLOB,
    recorded_by     TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, subject_id) REFERENCES subjects (org_id, id)
) STRICT;
CREATE INDEX injuries_subject ON injuries (org_id, subject_id, occurred_on);

-- Return-to-duty decisions: a stage per decision; the latest decides the injury's state.
CREATE TABLE return_to_duty (
    id                  TEXT PRIMARY KEY NOT NULL,
    org_id              TEXT NOT NULL,
    injury_id           TEXT NOT NULL,
    stage               TEXT NOT NULL CHECK (stage IN ('rest', 'rehabilitation', 'modified_duty',
                                                       'full_training', 'cleared')),
    restrictions_sealed BLOB,
    decided_on          TEXT NOT NULL,
    decided_by          TEXT NOT NULL,
    created_at_ms       INTEGER NOT NULL,
    FOREIGN KEY (org_id, injury_id) REFERENCES injuries (org_id, id)
) STRICT;
CREATE INDEX return_to_duty_injury ON return_to_duty (org_id, injury_id, decided_on, created_at_ms);
