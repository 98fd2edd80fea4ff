-- Run-status sensors read the ends of runs (RUN_SUCCESS, RUN_FAILURE, RUN_CANCELED) in the
-- order they were written, after the last one they handled: an index by type and id.
CREATE INDEX events_type ON events (type, id);
