-- Step attempts run somewhere else than the run: the queue of the `queue` executor (workers
-- take QUEUED tasks) and the answers of step processes and pods (`weft step ... --answer
-- db`). One row per attempt of a step of a run; `answer` is the attempt as JSON.
CREATE TABLE step_tasks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL,
    step_key     TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    -- QUEUED (waiting for a worker), CLAIMED (a worker has it), DONE (answered), or LOST
    -- (its worker stopped answering; the attempt failed).
    state        TEXT NOT NULL,
    worker       TEXT,
    created_ms   BIGINT NOT NULL,
    -- When the worker that has it last said it was alive.
    heartbeat_ms BIGINT,
    answer       TEXT,
    UNIQUE (run_id, step_key, attempt)
);
CREATE INDEX step_tasks_state ON step_tasks (state, id);
