"""Alert notifications from Alertmanager and Grafana webhooks, parsed and validated.

Alertmanager's webhook (``webhook_configs``) posts payload version ``"4"``::

    {"version": "4", "groupKey": "{}:{alertname=\\"X\\"}", "truncatedAlerts": 0, "status": "firing",
     "receiver": "llm-soc2", "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "http://alertmanager:9093",
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...}, "startsAt": "<RFC 3339>",
                 "endsAt": "<RFC 3339>", "generatorURL": "...", "fingerprint": "<hex>"}]}

Grafana's webhook contact point posts the same shape with ``"version": "1"`` plus ``orgId``, ``title``,
``state`` and ``message`` (and per alert ``valueString``, ``silenceURL``, ``dashboardURL`` ...).

Everything is bounded: at most :data:`MAX_ALERTS` alerts, :data:`MAX_LABELS` labels per set,
:data:`MAX_TEXT` characters per value. A payload that does not have this shape raises
:class:`PayloadError` with the reason (the HTTP service answers 400 with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from llm_soc2.governance.period import parse_rfc3339

ALERTMANAGER: Final = "alertmanager"
GRAFANA: Final = "grafana"
FIRING: Final = "firing"
RESOLVED: Final = "resolved"

MAX_ALERTS: Final = 1000
MAX_LABELS: Final = 64
MAX_TEXT: Final = 2048


class PayloadError(ValueError):
    """The webhook payload is not a valid notification; the message says why."""


@dataclass(frozen=True)
class Alert:
    status: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: int | None
    ends_at: int | None
    generator_url: str
    fingerprint: str

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


@dataclass(frozen=True)
class Notification:
    source: str  # alertmanager | grafana
    status: str  # firing | resolved
    group_key: str
    receiver: str
    group_labels: Mapping[str, str]
    common_labels: Mapping[str, str]
    common_annotations: Mapping[str, str]
    external_url: str
    alerts: tuple[Alert, ...]
    title: str

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.status == FIRING)

    @property
    def alert_names(self) -> tuple[str, ...]:
        return tuple(sorted({a.name for a in self.alerts if a.name}))

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(sorted({a.fingerprint for a in self.alerts if a.fingerprint}))

    @property
    def severity(self) -> str:
        return self.common_labels.get("severity", "") or _first(
            a.labels.get("severity", "") for a in self.alerts
        )

    @property
    def starts_at(self) -> int | None:
        times = [a.starts_at for a in self.alerts if a.starts_at is not None]
        return min(times) if times else None

    @property
    def ends_at(self) -> int | None:
        times = [a.ends_at for a in self.alerts if a.ends_at is not None]
        return max(times) if times else None

    @property
    def url(self) -> str:
        return _first(a.generator_url for a in self.alerts) or self.external_url


def _first(values: Any) -> str:
    for value in values:
        if value:
            return str(value)
    return ""


def parse_alertmanager(payload: Any) -> Notification:
    """An Alertmanager webhook notification (payload version 4)."""
    doc = _object(payload, "the payload")
    version = doc.get("version")
    if version != "4":
        raise PayloadError(f'unsupported Alertmanager webhook payload version {version!r} (expected "4")')
    return _notification(doc, ALERTMANAGER)


def parse_grafana(payload: Any) -> Notification:
    """A Grafana (unified alerting) webhook notification."""
    doc = _object(payload, "the payload")
    version = doc.get("version", "1")
    if version not in ("1", 1):
        raise PayloadError(f'unsupported Grafana webhook payload version {version!r} (expected "1")')
    return _notification(doc, GRAFANA)


def _notification(doc: Mapping[str, Any], source: str) -> Notification:
    status = doc.get("status")
    if status not in (FIRING, RESOLVED):
        raise PayloadError(f'\'status\' must be "firing" or "resolved", not {status!r}')
    raw_alerts = doc.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts:
        raise PayloadError("'alerts' must be a non-empty list")
    if len(raw_alerts) > MAX_ALERTS:
        raise PayloadError(f"too many alerts in one notification ({len(raw_alerts)} > {MAX_ALERTS})")
    alerts = tuple(_alert(item, i) for i, item in enumerate(raw_alerts))
    common_labels = _labels(doc.get("commonLabels"), "commonLabels")
    common_annotations = _labels(doc.get("commonAnnotations"), "commonAnnotations")
    title = (
        (_text(doc.get("title"), "title", required=False) if source == GRAFANA else "")
        or common_annotations.get("summary", "")
        or common_labels.get("alertname", "")
        or alerts[0].name
    )
    return Notification(
        source=source,
        status=str(status),
        group_key=_text(doc.get("groupKey"), "groupKey", required=False),
        receiver=_text(doc.get("receiver"), "receiver", required=False),
        group_labels=_labels(doc.get("groupLabels"), "groupLabels"),
        common_labels=common_labels,
        common_annotations=common_annotations,
        external_url=_text(doc.get("externalURL"), "externalURL", required=False),
        alerts=alerts,
        title=(title or "alert")[:200],
    )


def _alert(item: Any, index: int) -> Alert:
    where = f"alerts[{index}]"
    doc = _object(item, where)
    status = doc.get("status", FIRING)
    if status not in (FIRING, RESOLVED):
        raise PayloadError(f'{where}.status must be "firing" or "resolved", not {status!r}')
    starts_raw = doc.get("startsAt")
    starts = parse_rfc3339(starts_raw) if isinstance(starts_raw, str) else None
    if starts_raw not in (None, "") and starts is None and not str(starts_raw).startswith("0001-01-01"):
        raise PayloadError(f"{where}.startsAt is not an RFC 3339 time: {str(starts_raw)[:40]!r}")
    ends_raw = doc.get("endsAt")
    ends = parse_rfc3339(ends_raw) if isinstance(ends_raw, str) else None
    return Alert(
        status=str(status),
        labels=_labels(doc.get("labels"), f"{where}.labels"),
        annotations=_labels(doc.get("annotations"), f"{where}.annotations"),
        starts_at=starts,
        ends_at=ends if status == RESOLVED else None,
        generator_url=_text(doc.get("generatorURL"), f"{where}.generatorURL", required=False),
        fingerprint=_text(doc.get("fingerprint"), f"{where}.fingerprint", required=False)[:64],
    )


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be a JSON object")
    return value


def _labels(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object of strings")
    if len(value) > MAX_LABELS:
        raise PayloadError(f"{where} has more than {MAX_LABELS} entries")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str | int | float | bool):
            raise PayloadError(f"{where}.{str(key)[:40]} must be a string")
        result[str(key)[:200]] = str(item)[:MAX_TEXT]
    return result


def _text(value: Any, where: str, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise PayloadError(f"{where} is missing")
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string")
    return value[:MAX_TEXT]
