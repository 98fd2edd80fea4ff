-- The history of each code location's grants, for audit: every change through the API and
-- the clearing when the location is removed (a new upload under the name starts with
-- nothing granted). Grants are written as shown, environment values masked: the history
-- holds who was granted what, never a secret.
CREATE TABLE location_grant_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    location   TEXT NOT NULL,
    -- `set` (through the API) or `removed` (cleared with the location).
    change     TEXT NOT NULL,
    -- The grants after the change, as JSON, environment values masked.
    grants     TEXT NOT NULL,
    -- When, in milliseconds since the Unix epoch.
    changed_ms BIGINT NOT NULL
);
CREATE INDEX location_grant_history_by_location ON location_grant_history (location, id);
