"""Sources collect raw evidence and nothing else: they never decide whether a control worked.

``audit`` streams the audit log once (populations, inventories, counts, samples, verification);
``prometheus`` queries the HTTP API (availability, latency, alert history, telemetry gaps);
``grafana`` reads the alerting configuration, history and access inventory through grafana-client.
Each raises :class:`llm_soc2.errors.SourceError` (or ``StoreError`` for the audit log) with a message
that says what is wrong; the report marks the criteria that needed a failed source ``not evidenced``.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact_url(url: str) -> str:
    """``url`` without its password (kept: scheme, user, host, port, path)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username}:***@{host}" if parts.username else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
