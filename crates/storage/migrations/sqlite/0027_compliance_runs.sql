-- The compliance self-checks as they ran (`mhp compliance check`, the daily run of `mhp serve`):
-- when, the counts by result, and the whole report (JSON; evidence holds values, never
-- secrets). The API serves the newest; the history shows controls holding over time. Operator
-- data: no organisation's.
CREATE TABLE compliance_runs (
    id              TEXT PRIMARY KEY,
    at_ms           INTEGER NOT NULL,
    passed          INTEGER NOT NULL,
    failed          INTEGER NOT NULL,
    not_applicable  INTEGER NOT NULL,
    report          TEXT NOT NULL
) STRICT;
CREATE INDEX compliance_runs_at ON compliance_runs (at_ms);
