-- Weft's initial schema on PostgreSQL: the same tables, columns and indexes as
-- ../sqlite/0001_initial.sql (runs and their tags, the append-only event log, code-location
-- versions, the asset materialization history). Ids are BIGINT GENERATED ALWAYS AS
-- IDENTITY, timestamps integer milliseconds since the Unix epoch (BIGINT), JSON is TEXT.
-- Names, keys and digests compare byte by byte (COLLATE "C"), as SQLite compares TEXT, so
-- lists come back in the same order on both databases whatever the server's locale.

-- One row per run (Dagster's `runs`). `status` is a `RunStatus` name (`QUEUED`, `SUCCESS`...).
CREATE TABLE runs (
    run_id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    job             TEXT COLLATE "C" NOT NULL,
    location        TEXT COLLATE "C" NOT NULL,
    digest          TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
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
    run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    key    TEXT COLLATE "C" NOT NULL,
    value  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX run_tags_key_value ON run_tags (key, value);

-- The event log. `id` orders a run's events and is the cursor readers resume from, so it is
-- never reused; `body` is the whole `Event` as JSON.
CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_key     TEXT COLLATE "C",
    type         TEXT COLLATE "C" NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX events_run_id ON events (run_id, id);

-- Code locations by name, each pointing at the version new runs use.
CREATE TABLE code_locations (
    name           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    current_digest TEXT COLLATE "C" NOT NULL,
    updated_ms     BIGINT NOT NULL
);

-- Every uploaded version of a component (by sha256 digest) with its definitions snapshot.
CREATE TABLE location_versions (
    digest      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    location    TEXT COLLATE "C" NOT NULL REFERENCES code_locations (name),
    definitions TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    wasm_size   BIGINT NOT NULL
);
CREATE INDEX location_versions_location ON location_versions (location);

-- Asset materialization history, written with the ASSET_MATERIALIZATION events.
-- `asset_key` is the key's path joined by `/` (`warehouse/orders`).
CREATE TABLE asset_materializations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_key    TEXT COLLATE "C" NOT NULL,
    run_id       TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_key     TEXT COLLATE "C",
    timestamp_ms BIGINT NOT NULL,
    metadata     TEXT NOT NULL
);
CREATE INDEX asset_materializations_key ON asset_materializations (asset_key, id);
CREATE INDEX asset_materializations_run_id ON asset_materializations (run_id);
