-- Step tasks on PostgreSQL, as ../sqlite/0005_step_tasks.sql: the queue of the `queue`
-- executor (workers take QUEUED tasks with FOR UPDATE SKIP LOCKED) and the answers of step
-- processes and pods. One row per attempt of a step of a run; `answer` is the attempt as JSON.
CREATE TABLE step_tasks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       TEXT COLLATE "C" NOT NULL,
    step_key     TEXT COLLATE "C" NOT NULL,
    attempt      BIGINT NOT NULL,
    -- QUEUED, CLAIMED, DONE or LOST.
    state        TEXT NOT NULL,
    worker       TEXT,
    created_ms   BIGINT NOT NULL,
    heartbeat_ms BIGINT,
    answer       TEXT,
    UNIQUE (run_id, step_key, attempt)
);
CREATE INDEX step_tasks_state ON step_tasks (state, id);
