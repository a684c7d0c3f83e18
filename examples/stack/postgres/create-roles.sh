#!/bin/bash
# First start of the database: the login roles the application and Grafana use. Their grants come from
# src/llm_soc2/audit/roles_postgres.sql, applied once the audit schema exists (see README.md).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v writer_password="$LLM_SOC2_WRITER_PASSWORD" -v reader_password="$LLM_SOC2_READER_PASSWORD" <<'SQL'
CREATE ROLE llm_soc2_owner NOLOGIN;
CREATE ROLE llm_soc2_writer LOGIN PASSWORD :'writer_password';
CREATE ROLE llm_soc2_reader LOGIN PASSWORD :'reader_password';
SQL
