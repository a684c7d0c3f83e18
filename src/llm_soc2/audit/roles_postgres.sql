-- llm-soc2 audit store: PostgreSQL roles. Run as a superuser (or a role with CREATEROLE) in the audit
-- database, AFTER the schema exists (`llm-soc2 audit status --url postgresql://<owner>@.../<db>` creates it),
-- e.g.:  psql "postgresql://postgres@db/audit" -v ON_ERROR_STOP=1 -f roles_postgres.sql
--
--   llm_soc2_owner   owns the tables, triggers and the SECURITY DEFINER purge/erase functions.
--                    Used only for migrations. NOLOGIN by default: log in as an admin and SET ROLE.
--   llm_soc2_writer  what the application fleet connects as (LLM_SOC2_AUDIT_URL): SELECT + INSERT on
--                    the log tables, no UPDATE/DELETE/TRUNCATE; may call the purge/erase functions.
--   llm_soc2_reader  what Grafana, the report and auditors connect as: SELECT only; no access to
--                    content blobs or wrapped subject keys.
-- Set passwords with ALTER ROLE ... PASSWORD after running this file.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'llm_soc2_owner') THEN
        CREATE ROLE llm_soc2_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'llm_soc2_writer') THEN
        CREATE ROLE llm_soc2_writer LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'llm_soc2_reader') THEN
        CREATE ROLE llm_soc2_reader LOGIN;
    END IF;
END;
$$;

ALTER TABLE records OWNER TO llm_soc2_owner;
ALTER TABLE nodes OWNER TO llm_soc2_owner;
ALTER TABLE checkpoints OWNER TO llm_soc2_owner;
ALTER TABLE keys OWNER TO llm_soc2_owner;
ALTER TABLE batches OWNER TO llm_soc2_owner;
ALTER TABLE content OWNER TO llm_soc2_owner;
ALTER TABLE subject_keys OWNER TO llm_soc2_owner;
ALTER TABLE schema_version OWNER TO llm_soc2_owner;
ALTER FUNCTION llm_soc2_append_only() OWNER TO llm_soc2_owner;
ALTER FUNCTION llm_soc2_purge_content(TEXT, BIGINT) OWNER TO llm_soc2_owner;
ALTER FUNCTION llm_soc2_erase_subject(TEXT) OWNER TO llm_soc2_owner;

GRANT USAGE ON SCHEMA public TO llm_soc2_writer, llm_soc2_reader;

REVOKE ALL ON records, nodes, checkpoints, keys, batches, content, subject_keys, schema_version FROM PUBLIC;
REVOKE ALL ON records, nodes, checkpoints, keys, batches, content, subject_keys, schema_version FROM llm_soc2_writer, llm_soc2_reader;

GRANT SELECT, INSERT ON records, nodes, checkpoints, keys, batches, content, subject_keys TO llm_soc2_writer;
GRANT SELECT ON schema_version TO llm_soc2_writer;
REVOKE UPDATE, DELETE, TRUNCATE ON records, nodes, checkpoints, keys, batches, content, subject_keys, schema_version
    FROM llm_soc2_writer;

GRANT SELECT ON records, nodes, checkpoints, keys, batches, schema_version TO llm_soc2_reader;

REVOKE ALL ON FUNCTION llm_soc2_purge_content(TEXT, BIGINT) FROM PUBLIC;
REVOKE ALL ON FUNCTION llm_soc2_erase_subject(TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION llm_soc2_purge_content(TEXT, BIGINT) TO llm_soc2_writer;
GRANT EXECUTE ON FUNCTION llm_soc2_erase_subject(TEXT) TO llm_soc2_writer;
