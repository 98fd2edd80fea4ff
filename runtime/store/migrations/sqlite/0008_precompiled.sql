-- The SHA-256 of each component's precompiled form (native code) per engine, recorded by
-- the server that compiled it: a run or step pod, or a worker, that fetches a precompiled
-- form from the component store or the server deserializes it only when it hashes to this,
-- and compiles the component itself otherwise. Write access to the bucket must not be
-- native code execution in every pod.
CREATE TABLE precompiled (
    digest     TEXT NOT NULL,
    -- The engine's compatibility key (this build of wasmtime and its settings).
    engine     TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    PRIMARY KEY (digest, engine)
);
