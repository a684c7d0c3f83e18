"""Import incidents from PagerDuty's REST API (``pdpyras``, extra ``[pagerduty]``).

Teams that page through PagerDuty (directly from Grafana/Alertmanager) acknowledge and resolve there;
``llm-soc2 incident sync --pagerduty`` copies each PagerDuty incident of the period into the audit log
as ``incident`` records (source ``pagerduty``, dedupe key ``pagerduty:<id>``), with the times PagerDuty
recorded for triggering, acknowledgement and resolution (from the incident's log entries), so time to
acknowledge and time to resolve come from the system of record. Re-running is idempotent: only state
changes not yet recorded are appended.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from llm_soc2 import semconv as sc
from llm_soc2.errors import ConfigurationError, SourceError
from llm_soc2.governance.incidents import OPEN, RESOLVED, IncidentDesk
from llm_soc2.governance.period import NS_PER_S, Period, format_ns, parse_rfc3339

SOURCE = "pagerduty"
_LOOKBACK_NS = 900 * NS_PER_S


def _session(token: str, api_url: str) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # pdpyras announces its successor on import
            import pdpyras
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            "PagerDuty support needs the extra: pip install 'llm-soc2[pagerduty]'"
        ) from exc
    session = pdpyras.APISession(token)
    session.url = api_url.rstrip("/")
    session.timeout = 30
    return session


def _iso(value: int) -> str:
    return format_ns(value)


def sync(
    desk: IncidentDesk,
    token: str,
    period: Period,
    *,
    service_ids: Iterable[str] = (),
    api_url: str = "https://api.pagerduty.com",
) -> dict[str, int]:
    """Copy PagerDuty incidents created in ``period`` into the audit log; returns counts."""
    session = _session(token, api_url)
    params: dict[str, Any] = {
        "since": _iso(period.start),
        "until": _iso(period.end),
        "time_zone": "UTC",
        "statuses[]": ["triggered", "acknowledged", "resolved"],
    }
    ids = [s for s in service_ids if s]
    if ids:
        params["service_ids[]"] = ids
    counts = {"seen": 0, "opened": 0, "acknowledged": 0, "resolved": 0}
    try:
        remote = list(session.iter_all("incidents", params=params))
        local = {i.dedupe_key: i for i in desk.all().values() if i.source == SOURCE}
        for item in remote:
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                continue
            counts["seen"] += 1
            _sync_one(session, desk, item, local, counts)
    except SourceError:
        raise
    except Exception as exc:
        if type(exc).__name__ in (
            "PDClientError",
            "PDHTTPError",
            "PDServerError",
            "URLError",
            "ConnectionError",
        ):
            raise SourceError(f"PagerDuty API at {api_url}: {exc}") from exc
        raise
    finally:
        session.close()
    return counts


def _sync_one(
    session: Any,
    desk: IncidentDesk,
    item: Mapping[str, Any],
    local: Mapping[str, Any],
    counts: dict[str, int],
) -> None:
    pd_id = str(item["id"])
    key = f"{SOURCE}:{pd_id}"
    created = parse_rfc3339(str(item.get("created_at", "")))
    if created is None:
        return
    acknowledged_at = resolved_at = None
    ack_by = resolve_by = SOURCE
    for entry in session.iter_all(f"incidents/{pd_id}/log_entries", params={"time_zone": "UTC"}):
        kind = entry.get("type", "")
        at = parse_rfc3339(str(entry.get("created_at", "")))
        who = str((entry.get("agent") or {}).get("summary", "") or SOURCE)
        if at is None:
            continue
        if kind.startswith("acknowledge_log_entry") and (acknowledged_at is None or at < acknowledged_at):
            acknowledged_at, ack_by = at, who
        elif kind.startswith("resolve_log_entry") and (resolved_at is None or at > resolved_at):
            resolved_at, resolve_by = at, who
    incident = local.get(key)
    if incident is None:
        service = (item.get("service") or {}).get("summary", "")
        incident = desk.open(
            str(item.get("title") or item.get("summary") or f"PagerDuty incident {pd_id}")[:200],
            severity=str(item.get("urgency", "")),
            actor=SOURCE,
            labels={"service_name": str(service)} if service else {},
            window=(created - _LOOKBACK_NS, created + 1),
            source=SOURCE,
            dedupe=key,
            at=created,
            extra={
                sc.INCIDENT_EXTERNAL_ID: pd_id,
                **({sc.INCIDENT_URL: str(item["html_url"])[:500]} if item.get("html_url") else {}),
            },
        )
        counts["opened"] += 1
    status = item.get("status")
    if acknowledged_at is not None and incident.state == OPEN and incident.acknowledged_at is None:
        incident = desk.acknowledge(incident.id, actor=ack_by, at=max(acknowledged_at, incident.opened_at))
        counts["acknowledged"] += 1
    if status == "resolved" and incident.state != RESOLVED:
        moment = resolved_at if resolved_at is not None else incident.opened_at
        desk.resolve(incident.id, actor=resolve_by, at=max(moment, incident.opened_at))
        counts["resolved"] += 1
