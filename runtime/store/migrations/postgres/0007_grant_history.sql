-- The history of each code location's grants, as ../sqlite/0007_grant_history.sql: every
-- change through the API and the clearing at removal, environment values masked.
CREATE TABLE location_grant_history (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    location   TEXT COLLATE "C" NOT NULL,
    change     TEXT NOT NULL,
    grants     TEXT NOT NULL,
    changed_ms BIGINT NOT NULL
);
CREATE INDEX location_grant_history_by_location ON location_grant_history (location, id);
