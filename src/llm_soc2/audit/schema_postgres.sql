-- llm-soc2 audit store, PostgreSQL, schema version 2 (version 1 plus the batches table).
-- Applied by llm_soc2.audit.store_postgres (as the connecting role, which then owns the objects)
-- when schema_version is below 2; every statement is idempotent. Run it as the OWNER role, then grant the writer and reader roles
-- with roles_postgres.sql.
--
-- First line of defence (the second is the Merkle tree + signed checkpoints held by witnesses):
--   * records, nodes, checkpoints, keys, batches: BEFORE UPDATE OR DELETE row triggers and a BEFORE TRUNCATE
--     statement trigger raise; the writer role holds only SELECT and INSERT.
--   * content: UPDATE raises; DELETE and TRUNCATE only through llm_soc2_purge_content() and
--     llm_soc2_erase_subject() (SECURITY DEFINER, owned by the owner role), which the writer may call.
--   * subject_keys: rows are deleted only by llm_soc2_erase_subject() (crypto-shredding).
-- A superuser or the owner can still disable triggers or rewrite tables; verification against
-- witnessed checkpoints is what detects that.

CREATE TABLE IF NOT EXISTS records (
    log_id          TEXT             NOT NULL,
    seq             BIGINT           NOT NULL,
    time_unix_nano  BIGINT           NOT NULL,
    kind            TEXT             NOT NULL,
    service         TEXT             NOT NULL,
    model           TEXT,
    provider        TEXT,
    operation       TEXT,
    error_type      TEXT,
    risk_level      TEXT,
    risk_score      DOUBLE PRECISION,
    api_key_fp      TEXT,
    template_hash   TEXT,
    subject         TEXT             NOT NULL,
    trace_id        TEXT             NOT NULL,
    span_id         TEXT             NOT NULL,
    body            BYTEA            NOT NULL,
    leaf_hash       BYTEA            NOT NULL,
    PRIMARY KEY (log_id, seq)
);
CREATE INDEX IF NOT EXISTS records_time ON records (time_unix_nano);
CREATE INDEX IF NOT EXISTS records_kind_time ON records (kind, time_unix_nano);
CREATE INDEX IF NOT EXISTS records_subject ON records (subject);

CREATE TABLE IF NOT EXISTS nodes (
    log_id  TEXT    NOT NULL,
    level   INTEGER NOT NULL,
    idx     BIGINT  NOT NULL,
    hash    BYTEA   NOT NULL,
    PRIMARY KEY (log_id, level, idx)
);

-- Batch ids of the writer's batches and spill replays, written in the same transaction as their
-- records: a replay that finds its id here appends nothing (exactly-once replay).
CREATE TABLE IF NOT EXISTS batches (
    log_id          TEXT    NOT NULL,
    batch_id        TEXT    NOT NULL,
    first_seq       BIGINT  NOT NULL,
    count           INTEGER NOT NULL,
    time_unix_nano  BIGINT  NOT NULL,
    PRIMARY KEY (log_id, batch_id)
);

CREATE TABLE IF NOT EXISTS checkpoints (
    log_id          TEXT    NOT NULL,
    size            BIGINT  NOT NULL,
    root            BYTEA   NOT NULL,
    note            TEXT    NOT NULL,
    time_unix_nano  BIGINT  NOT NULL,
    PRIMARY KEY (log_id, size)
);
CREATE INDEX IF NOT EXISTS checkpoints_time ON checkpoints (time_unix_nano);

CREATE TABLE IF NOT EXISTS keys (
    key_id          TEXT    NOT NULL,
    vkey            TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    time_unix_nano  BIGINT  NOT NULL,
    PRIMARY KEY (key_id, event)
);

CREATE TABLE IF NOT EXISTS content (
    log_id  TEXT    NOT NULL,
    seq     BIGINT  NOT NULL,
    part    TEXT    NOT NULL,
    blob    BYTEA   NOT NULL,
    PRIMARY KEY (log_id, seq, part)
);

CREATE TABLE IF NOT EXISTS subject_keys (
    key_id          TEXT    PRIMARY KEY,
    subject         TEXT    NOT NULL UNIQUE,
    wrapped         BYTEA   NOT NULL,
    time_unix_nano  BIGINT  NOT NULL
);

CREATE OR REPLACE FUNCTION llm_soc2_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'llm-soc2: % on %.% is not allowed: the audit log is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

DO $$
DECLARE t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['records', 'nodes', 'checkpoints', 'keys', 'batches'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_append_only', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION llm_soc2_append_only()',
                       t || '_append_only', t);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_no_truncate', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION llm_soc2_append_only()',
                       t || '_no_truncate', t);
    END LOOP;
END;
$$;

DROP TRIGGER IF EXISTS content_no_update ON content;
CREATE TRIGGER content_no_update BEFORE UPDATE ON content FOR EACH ROW EXECUTE FUNCTION llm_soc2_append_only();
DROP TRIGGER IF EXISTS content_no_truncate ON content;
CREATE TRIGGER content_no_truncate BEFORE TRUNCATE ON content FOR EACH STATEMENT EXECUTE FUNCTION llm_soc2_append_only();

-- Controlled removal of content. The Merkle leaves commit to the blobs' digests, so removing a blob
-- never changes the tree; the caller records the purge/erasure in the log first.
-- search_path is fixed to the schema the functions are created in (FROM CURRENT at migration time).
CREATE OR REPLACE FUNCTION llm_soc2_purge_content(p_log_id TEXT, p_before BIGINT) RETURNS BIGINT
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE removed BIGINT;
BEGIN
    DELETE FROM content c USING records r
     WHERE c.log_id = r.log_id AND c.seq = r.seq AND r.time_unix_nano < p_before
       AND (p_log_id IS NULL OR r.log_id = p_log_id);
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END;
$$;

CREATE OR REPLACE FUNCTION llm_soc2_erase_subject(p_subject TEXT) RETURNS BIGINT
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE removed BIGINT;
BEGIN
    DELETE FROM content c USING records r WHERE c.log_id = r.log_id AND c.seq = r.seq AND r.subject = p_subject;
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM subject_keys WHERE subject = p_subject;
    RETURN removed;
END;
$$;
