-- Values of the database I/O manager on PostgreSQL, as ../sqlite/0006_io_values.sql: small
-- step outputs and asset values kept in the database, which every process, pod and worker
-- on it reads. One row per value: an op's output (run_id, step_key, output; asset_key empty)
-- or an asset's latest value (asset_key, its parts joined by '/'; the others empty).
CREATE TABLE io_values (
    run_id     TEXT COLLATE "C" NOT NULL,
    step_key   TEXT COLLATE "C" NOT NULL,
    output     TEXT COLLATE "C" NOT NULL,
    asset_key  TEXT COLLATE "C" NOT NULL,
    codec      TEXT NOT NULL,
    data       BYTEA NOT NULL,
    size_bytes BIGINT NOT NULL,
    stored_ms  BIGINT NOT NULL,
    PRIMARY KEY (run_id, step_key, output, asset_key),
    CHECK ((asset_key = '') <> (run_id = ''))
);
