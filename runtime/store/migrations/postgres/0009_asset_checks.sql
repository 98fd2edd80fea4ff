-- Asset check evaluations (Dagster's ASSET_CHECK_EVALUATION), one row per event, written in
-- the transaction of their events: what an asset's checks found, run by run.
CREATE TABLE asset_check_evaluations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_key    TEXT COLLATE "C" NOT NULL,
    check_name   TEXT COLLATE "C" NOT NULL,
    run_id       TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_key     TEXT COLLATE "C",
    timestamp_ms BIGINT NOT NULL,
    -- JSON: passed, severity, description, metadata.
    evaluation   TEXT NOT NULL
);
CREATE INDEX asset_check_evaluations_key ON asset_check_evaluations (asset_key, check_name, id);
CREATE INDEX asset_check_evaluations_run_id ON asset_check_evaluations (run_id);
