-- The SHA-256 of each component's precompiled form per engine, as
-- ../sqlite/0008_precompiled.sql: pods deserialize a fetched precompiled form only when it
-- hashes to this.
CREATE TABLE precompiled (
    digest     TEXT COLLATE "C" NOT NULL,
    engine     TEXT COLLATE "C" NOT NULL,
    sha256     TEXT NOT NULL,
    PRIMARY KEY (digest, engine)
);
