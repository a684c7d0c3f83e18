# ruff: noqa: S608 - these are the panels' fixed SQL texts, built from constants; Grafana runs them, never with input.
"""SQL of the audit-log dashboard panels (PostgreSQL store, ``llm_soc2.audit.schema_postgres.sql``).

Grafana connects as the read-only ``llm_soc2_reader`` role, which may read ``records``, ``checkpoints``
and ``keys`` but not the ``content`` blobs: panels show the scrubbed attributes the record body commits
to (``body`` = version byte ``0x01`` followed by canonical JSON), never content.

Grafana expands ``$__unixEpochNanoFilter(column)`` to the dashboard's time range and ``$log_id`` to the
selected log ids as quoted SQL literals; :func:`expand` does the same so tests run the exact text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from llm_soc2 import semconv as sc

LOG_FILTER: Final = "log_id IN ($log_id)"
TIME_FILTER: Final = "$__unixEpochNanoFilter(time_unix_nano)"
ATTRIBUTES: Final = "convert_from(substring(body FROM 2), 'UTF8')::jsonb -> 'attributes'"
TIME: Final = 'to_timestamp(time_unix_nano / 1e9) AS "time"'

LOG_IDS: Final = "SELECT DISTINCT log_id FROM checkpoints ORDER BY log_id"

CHECKPOINT_AGE: Final = f"""SELECT EXTRACT(EPOCH FROM now()) - max(time_unix_nano) / 1e9 AS "seconds since last checkpoint"
FROM checkpoints
WHERE {LOG_FILTER}"""

UNCHECKPOINTED: Final = f"""SELECT coalesce(sum(r.size - coalesce(c.size, 0)), 0) AS "records"
FROM (SELECT log_id, max(seq) + 1 AS size FROM records WHERE {LOG_FILTER} GROUP BY log_id) AS r
LEFT JOIN (SELECT log_id, max(size) AS size FROM checkpoints WHERE {LOG_FILTER} GROUP BY log_id) AS c
  USING (log_id)"""

SEQUENCE_GAPS: Final = f"""SELECT coalesce(sum(s.max_seq + 1 - s.n), 0) AS "missing sequence numbers"
FROM (SELECT log_id, max(seq) AS max_seq, count(*) AS n FROM records WHERE {LOG_FILTER} GROUP BY log_id) AS s"""

RECORDS_IN_PERIOD: Final = f"""SELECT count(*) AS "records"
FROM records
WHERE {LOG_FILTER} AND {TIME_FILTER}"""

LOG_SUMMARY: Final = f"""SELECT s.log_id AS "log", s.n AS "records", s.min_seq AS "first seq", s.max_seq AS "last seq",
       s.max_seq + 1 - s.n AS "missing", c.size AS "checkpointed size",
       to_timestamp(c.time_unix_nano / 1e9) AS "last checkpoint"
FROM (SELECT log_id, count(*) AS n, min(seq) AS min_seq, max(seq) AS max_seq
      FROM records WHERE {LOG_FILTER} GROUP BY log_id) AS s
LEFT JOIN LATERAL (SELECT size, time_unix_nano FROM checkpoints
                   WHERE checkpoints.log_id = s.log_id ORDER BY size DESC LIMIT 1) AS c ON true
ORDER BY s.log_id"""

RECORDS_BY_KIND: Final = f"""SELECT to_timestamp(floor(time_unix_nano / 3600e9) * 3600) AS "time", kind AS "metric",
       count(*) AS "records"
FROM records
WHERE {LOG_FILTER} AND {TIME_FILTER}
GROUP BY 1, 2
ORDER BY 1"""

HIGH_RISK: Final = f"""WITH r AS (
  SELECT time_unix_nano, log_id, seq, service, provider, model, risk_level, risk_score, error_type,
         api_key_fp, template_hash, trace_id, {ATTRIBUTES} AS a
  FROM records
  WHERE kind = 'interaction' AND risk_level IN ('high', 'critical') AND {LOG_FILTER} AND {TIME_FILTER}
  ORDER BY time_unix_nano DESC
  LIMIT 200
)
SELECT {TIME}, service, provider, model, risk_level AS "risk", round(risk_score::numeric, 2) AS "score",
       a ->> '{sc.RISK_CATEGORIES}' AS "categories", a ->> '{sc.PII_TYPES}' AS "pii types",
       error_type AS "error", api_key_fp AS "api key", template_hash AS "template",
       log_id AS "log", seq, trace_id
FROM r
ORDER BY time_unix_nano DESC"""

CHECKPOINTS: Final = f"""SELECT {TIME}, log_id AS "log", size AS "tree size", encode(root, 'hex') AS "root hash",
       note AS "signed note"
FROM checkpoints
WHERE {LOG_FILTER} AND {TIME_FILTER}
ORDER BY time_unix_nano DESC
LIMIT 200"""

SIGNING_KEYS: Final = f"""SELECT {TIME}, key_id AS "key", event, vkey AS "verifier key"
FROM keys
ORDER BY time_unix_nano DESC
LIMIT 100"""


def events(*kinds: str) -> str:
    """Event records of the given kinds in the period, with their (scrubbed) attributes."""
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    return f"""SELECT {TIME}, kind, service, log_id AS "log", seq, ({ATTRIBUTES})::text AS "attributes"
FROM records
WHERE kind IN ({listed}) AND {LOG_FILTER} AND {TIME_FILTER}
ORDER BY time_unix_nano DESC
LIMIT 200"""


_NANO_FILTER = re.compile(r"\$__unixEpochNanoFilter\(\s*([a-z_.]+)\s*\)")


def expand(sql: str, *, start_ns: int, end_ns: int, log_ids: Sequence[str]) -> str:
    """The SQL Grafana sends for a time range and a ``$log_id`` selection (multi-value, quoted)."""
    quoted = ", ".join("'" + log_id.replace("'", "''") + "'" for log_id in log_ids) or "NULL"
    text = _NANO_FILTER.sub(
        lambda m: f"{m.group(1)} >= {int(start_ns)} AND {m.group(1)} <= {int(end_ns)}", sql
    )
    text = text.replace("$__unixEpochNanoFrom()", str(int(start_ns))).replace(
        "$__unixEpochNanoTo()", str(int(end_ns))
    )
    text = re.sub(r"\$\{log_id(?::[a-z]+)?\}|\$log_id\b", quoted, text)
    if "$" in text.replace("$$", ""):
        raise ValueError(f"unexpanded Grafana variable or macro in: {text}")
    return text
