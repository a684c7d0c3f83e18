-- llm-soc2 audit store, SQLite, schema version 2 (version 1 plus the batches table).
-- Applied by llm_soc2.audit.store_sqlite when schema_version is below 2 (every statement is idempotent).
-- Append-only tables reject UPDATE and DELETE with triggers (SQLite has no TRUNCATE: a DELETE
-- without WHERE fires the triggers too). Triggers can be dropped by whoever can write the file,
-- which is why verification checks the log against checkpoints witnessed outside the file.

CREATE TABLE IF NOT EXISTS records (
    log_id          TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    time_unix_nano  INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    service         TEXT    NOT NULL,
    model           TEXT,
    provider        TEXT,
    operation       TEXT,
    error_type      TEXT,
    risk_level      TEXT,
    risk_score      REAL,
    api_key_fp      TEXT,
    template_hash   TEXT,
    subject         TEXT    NOT NULL,
    trace_id        TEXT    NOT NULL,
    span_id         TEXT    NOT NULL,
    body            BLOB    NOT NULL,
    leaf_hash       BLOB    NOT NULL,
    PRIMARY KEY (log_id, seq)
);
CREATE INDEX IF NOT EXISTS records_time ON records (time_unix_nano);
CREATE INDEX IF NOT EXISTS records_kind_time ON records (kind, time_unix_nano);
CREATE INDEX IF NOT EXISTS records_subject ON records (subject);

CREATE TABLE IF NOT EXISTS nodes (
    log_id  TEXT    NOT NULL,
    level   INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    hash    BLOB    NOT NULL,
    PRIMARY KEY (log_id, level, idx)
) WITHOUT ROWID;

-- Batch ids of the writer's batches and spill replays, written in the same transaction as their
-- records: a replay that finds its id here appends nothing (exactly-once replay).
CREATE TABLE IF NOT EXISTS batches (
    log_id          TEXT    NOT NULL,
    batch_id        TEXT    NOT NULL,
    first_seq       INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    time_unix_nano  INTEGER NOT NULL,
    PRIMARY KEY (log_id, batch_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS checkpoints (
    log_id          TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    root            BLOB    NOT NULL,
    note            TEXT    NOT NULL,
    time_unix_nano  INTEGER NOT NULL,
    PRIMARY KEY (log_id, size)
);
CREATE INDEX IF NOT EXISTS checkpoints_time ON checkpoints (time_unix_nano);

CREATE TABLE IF NOT EXISTS keys (
    key_id          TEXT    NOT NULL,
    vkey            TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    time_unix_nano  INTEGER NOT NULL,
    PRIMARY KEY (key_id, event)
);

-- WITHOUT ROWID: one B-tree, so the append and the verifier's join touch it once per blob.
CREATE TABLE IF NOT EXISTS content (
    log_id  TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    part    TEXT    NOT NULL,
    blob    BLOB    NOT NULL,
    PRIMARY KEY (log_id, seq, part)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS subject_keys (
    key_id          TEXT    PRIMARY KEY,
    subject         TEXT    NOT NULL,
    wrapped         BLOB    NOT NULL,
    time_unix_nano  INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS subject_keys_subject ON subject_keys (subject);

CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'llm-soc2: audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'llm-soc2: audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS nodes_no_update BEFORE UPDATE ON nodes
BEGIN SELECT RAISE(ABORT, 'llm-soc2: audit nodes are append-only'); END;
CREATE TRIGGER IF NOT EXISTS nodes_no_delete BEFORE DELETE ON nodes
BEGIN SELECT RAISE(ABORT, 'llm-soc2: audit nodes are append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'llm-soc2: checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'llm-soc2: checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS keys_no_update BEFORE UPDATE ON keys
BEGIN SELECT RAISE(ABORT, 'llm-soc2: keys are append-only'); END;
CREATE TRIGGER IF NOT EXISTS keys_no_delete BEFORE DELETE ON keys
BEGIN SELECT RAISE(ABORT, 'llm-soc2: keys are append-only'); END;
CREATE TRIGGER IF NOT EXISTS content_no_update BEFORE UPDATE ON content
BEGIN SELECT RAISE(ABORT, 'llm-soc2: content can only be purged or erased, not changed'); END;
CREATE TRIGGER IF NOT EXISTS batches_no_update BEFORE UPDATE ON batches
BEGIN SELECT RAISE(ABORT, 'llm-soc2: audit batches are append-only'); END;
CREATE TRIGGER IF NOT EXISTS batches_no_delete BEFORE DELETE ON batches
BEGIN SELECT RAISE(ABORT, 'llm-soc2: audit batches are append-only'); END;
