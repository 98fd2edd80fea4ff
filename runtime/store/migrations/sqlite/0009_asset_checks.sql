-- Asset check evaluations (Dagster's ASSET_CHECK_EVALUATION), one row per event, written in
-- the transaction of their events: what an asset's checks found, run by run.
CREATE TABLE asset_check_evaluations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_key    TEXT NOT NULL,
    check_name   TEXT NOT NULL,
    run_id       TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_key     TEXT,
    timestamp_ms BIGINT NOT NULL,
    -- JSON: passed, severity, description, metadata.
    evaluation   TEXT NOT NULL
);
CREATE INDEX asset_check_evaluations_key ON asset_check_evaluations (asset_key, check_name, id);
CREATE INDEX asset_check_evaluations_run_id ON asset_check_evaluations (run_id);
