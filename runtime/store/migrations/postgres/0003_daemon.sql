-- The daemon on PostgreSQL, as ../sqlite/0003_daemon.sql: the state of each schedule and
-- sensor, every tick it evaluated, the run keys its runs were launched under (unique per
-- schedule or sensor), and leases, so that of several daemons one does each job at a time.

CREATE TABLE instigators (
    location     TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
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
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    location     TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
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
    location TEXT COLLATE "C" NOT NULL,
    name     TEXT COLLATE "C" NOT NULL,
    run_key  TEXT COLLATE "C" NOT NULL,
    run_id   TEXT NOT NULL,
    PRIMARY KEY (location, name, run_key)
);

CREATE TABLE leases (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);

-- When the process executing a run last said it was alive (run monitoring).
ALTER TABLE runs ADD COLUMN heartbeat_ms BIGINT;
