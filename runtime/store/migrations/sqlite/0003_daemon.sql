-- The daemon: the state of each schedule and sensor (on or off, its cursor, the last tick
-- it handled), every tick it evaluated, the run keys its runs were launched under (unique
-- per schedule or sensor: a tick fires once, a run request is launched once), and leases,
-- so that of several daemons on one database one does each job at a time.

CREATE TABLE instigators (
    location     TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- SCHEDULE or SENSOR.
    kind         TEXT NOT NULL,
    -- RUNNING or STOPPED.
    status       TEXT NOT NULL,
    cursor       TEXT,
    -- Schedules: the newest scheduled time handled (or when it was turned on); sensors: the
    -- last evaluation.
    last_tick_ms BIGINT,
    updated_ms   BIGINT NOT NULL,
    PRIMARY KEY (location, name)
);

CREATE TABLE ticks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    location     TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    -- When it was evaluated.
    timestamp_ms BIGINT NOT NULL,
    -- Schedules: the time the tick was for.
    scheduled_ms BIGINT,
    -- SUCCESS (runs requested), SKIPPED or FAILURE.
    status       TEXT NOT NULL,
    -- JSON array of the run ids launched.
    run_ids      TEXT NOT NULL,
    skip_reason  TEXT,
    error        TEXT,
    cursor       TEXT
);
CREATE INDEX ticks_instigator ON ticks (location, name, id);

CREATE TABLE run_keys (
    location TEXT NOT NULL,
    name     TEXT NOT NULL,
    run_key  TEXT NOT NULL,
    run_id   TEXT NOT NULL,
    PRIMARY KEY (location, name, run_key)
);

CREATE TABLE leases (
    name       TEXT NOT NULL PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);

-- When the process executing a run last said it was alive (run monitoring).
ALTER TABLE runs ADD COLUMN heartbeat_ms BIGINT;
