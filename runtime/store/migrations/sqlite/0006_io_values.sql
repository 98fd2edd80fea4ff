-- Values of the database I/O manager (`io_manager: database` in weft.yaml): small step
-- outputs and asset values kept in the database itself, so that steps in other processes,
-- pods or workers on the same database read them without a shared disk or object store.
-- One row per value: an op's output (run_id, step_key, output; asset_key empty) or an
-- asset's latest value (asset_key, its parts joined by '/'; the others empty). Storing a
-- value again replaces it.
CREATE TABLE io_values (
    run_id     TEXT NOT NULL,
    step_key   TEXT NOT NULL,
    output     TEXT NOT NULL,
    asset_key  TEXT NOT NULL,
    -- The value's codec tag (`json`, ...) and bytes.
    codec      TEXT NOT NULL,
    data       BLOB NOT NULL,
    -- The length of data, in bytes.
    size_bytes BIGINT NOT NULL,
    -- When it was stored, in milliseconds since the Unix epoch.
    stored_ms  BIGINT NOT NULL,
    PRIMARY KEY (run_id, step_key, output, asset_key),
    CHECK ((asset_key = '') <> (run_id = ''))
);
