-- The control plane (`weft serve`) on PostgreSQL, as ../sqlite/0002_control_plane.sql:
-- every version's component bytes, so that any server replica, worker or pod can load a
-- version by its digest from the database alone; a location's grants set through the API;
-- removing a location without losing the history its runs point at; and a version history
-- per location (the same component may be uploaded under two names).

-- Component bytes by sha256 digest, written once.
CREATE TABLE components (
    digest TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    bytes  BYTEA NOT NULL
);

-- Grants (directories, environment names, outbound hosts, environment values) as JSON, and
-- when the location was removed (NULL while it is live; an upload brings it back).
ALTER TABLE code_locations ADD COLUMN grants TEXT NOT NULL DEFAULT '{}';
ALTER TABLE code_locations ADD COLUMN removed_ms BIGINT;

-- Versions keyed by (location, digest) rather than by digest alone. (SQLite rebuilds the
-- table to change its key; PostgreSQL changes it in place.)
DROP INDEX location_versions_location;
ALTER TABLE location_versions DROP CONSTRAINT location_versions_pkey;
ALTER TABLE location_versions ADD PRIMARY KEY (location, digest);
CREATE INDEX location_versions_digest ON location_versions (digest);
CREATE INDEX location_versions_created ON location_versions (location, created_ms);
