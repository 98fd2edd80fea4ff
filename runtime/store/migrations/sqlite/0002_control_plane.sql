-- The control plane (`weft serve`): every version's component bytes, so that any server
-- replica, worker or pod can load a version by its digest from the database alone; a
-- location's grants set through the API; removing a location without losing the history
-- its runs point at; and a version history per location (the same component may be
-- uploaded under two names).

-- Component bytes by sha256 digest, written once.
CREATE TABLE components (
    digest TEXT NOT NULL PRIMARY KEY,
    bytes  BLOB NOT NULL
);

-- Grants (directories, environment names, outbound hosts, environment values) as JSON, and
-- when the location was removed (NULL while it is live; an upload brings it back).
ALTER TABLE code_locations ADD COLUMN grants TEXT NOT NULL DEFAULT '{}';
ALTER TABLE code_locations ADD COLUMN removed_ms BIGINT;

-- Versions keyed by (location, digest) rather than by digest alone.
CREATE TABLE location_versions_by_location (
    location    TEXT NOT NULL REFERENCES code_locations (name),
    digest      TEXT NOT NULL,
    definitions TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    wasm_size   BIGINT NOT NULL,
    PRIMARY KEY (location, digest)
);
INSERT INTO location_versions_by_location (location, digest, definitions, created_ms, wasm_size)
    SELECT location, digest, definitions, created_ms, wasm_size FROM location_versions;
DROP TABLE location_versions;
ALTER TABLE location_versions_by_location RENAME TO location_versions;
CREATE INDEX location_versions_digest ON location_versions (digest);
CREATE INDEX location_versions_created ON location_versions (location, created_ms);
