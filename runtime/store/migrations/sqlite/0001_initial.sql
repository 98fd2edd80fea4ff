-- Weft's initial schema: runs and their tags, the append-only event log, code-location
-- versions, and the asset materialization history.
--
-- Kept portable on purpose (PostgreSQL gets a sibling of this file): timestamps are integer
-- milliseconds since the Unix epoch (BIGINT), JSON is TEXT, and the only SQLite-specific
-- spelling is `INTEGER PRIMARY KEY AUTOINCREMENT` (PostgreSQL: BIGINT GENERATED ALWAYS AS
-- IDENTITY).

-- One row per run (Dagster's `runs`). `status` is a `RunStatus` name (`QUEUED`, `SUCCESS`...).
CREATE TABLE runs (
    run_id          TEXT NOT NULL PRIMARY KEY,
    job             TEXT NOT NULL,
    location        TEXT NOT NULL,
    digest          TEXT NOT NULL,
    status          TEXT NOT NULL,
    tags            TEXT NOT NULL,
    config          TEXT NOT NULL,
    asset_selection TEXT,
    created_ms      BIGINT NOT NULL,
    started_ms      BIGINT,
    finished_ms     BIGINT
);
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_job ON runs (job);
CREATE INDEX runs_created_ms ON runs (created_ms);

-- The run's tags again, one row each, so that "runs with tag k=v" is an index lookup.
CREATE TABLE run_tags (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX run_tags_key_value ON run_tags (key, value);

-- The event log. `id` orders a run's events and is the cursor readers resume from, so it is
-- never reused; `body` is the whole `Event` as JSON.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_key     TEXT,
    type         TEXT NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX events_run_id ON events (run_id, id);

-- Code locations by name, each pointing at the version new runs use.
CREATE TABLE code_locations (
    name           TEXT NOT NULL PRIMARY KEY,
    current_digest TEXT NOT NULL,
    updated_ms     BIGINT NOT NULL
);

-- Every uploaded version of a component (by sha256 digest) with its definitions snapshot.
CREATE TABLE location_versions (
    digest      TEXT NOT NULL PRIMARY KEY,
    location    TEXT NOT NULL REFERENCES code_locations (name),
    definitions TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    wasm_size   BIGINT NOT NULL
);
CREATE INDEX location_versions_location ON location_versions (location);

-- Asset materialization history, written with the ASSET_MATERIALIZATION events.
-- `asset_key` is the key's path joined by `/` (`warehouse/orders`).
CREATE TABLE asset_materializations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_key    TEXT NOT NULL,
    run_id       TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_key     TEXT,
    timestamp_ms BIGINT NOT NULL,
    metadata     TEXT NOT NULL
);
CREATE INDEX asset_materializations_key ON asset_materializations (asset_key, id);
CREATE INDEX asset_materializations_run_id ON asset_materializations (run_id);
