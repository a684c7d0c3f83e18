"""Incident response (SOC 2 CC7.3-CC7.5): incidents as a sequence of audit records.

An incident is opened from an alert (Alertmanager or Grafana webhook received by ``llm-soc2 serve``,
or imported from PagerDuty) or by hand (``llm-soc2 incident open``), then acknowledged and resolved.
Every state change is one audit record of kind ``incident``; the incident's current state is the fold
of its records (:func:`fold`), so the log itself is the incident register and its history cannot be
rewritten.

Each incident is linked to the audit records that triggered it: the records in its time window (the
alert's start minus a look-back, to the notification) whose attributes match the alert's labels (a
Prometheus label such as ``gen_ai_request_model`` or ``llm_soc2_risk_category`` is mapped back to its
attribute); their sequence numbers and trace ids are stored on the incident (bounded), with the total
count.

Time to acknowledge = acknowledged - opened; time to resolve = resolved - opened (seconds, from the
``llm_soc2.incident.at`` of the records). An incident resolved without acknowledgement has no time to
acknowledge. Notifications for the same alert group (Alertmanager/Grafana ``groupKey``) update the open
incident of that group instead of opening another.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from llm_soc2 import semconv as sc
from llm_soc2.audit.record import KIND_APPROVAL, KIND_INCIDENT, AuditRecord
from llm_soc2.errors import LLMSoc2Error
from llm_soc2.governance._common import RecordLog, RecordReader, read_records
from llm_soc2.governance.alerts import FIRING, Notification
from llm_soc2.governance.period import NS_PER_S, Period, format_duration, format_ns

OPEN: Final = "open"
ACKNOWLEDGED: Final = "acknowledged"
RESOLVED: Final = "resolved"
STATES: Final = (OPEN, ACKNOWLEDGED, RESOLVED)

OPENED: Final = "opened"
UPDATED: Final = "updated"
EVENTS: Final = (OPENED, ACKNOWLEDGED, RESOLVED, UPDATED)
UNCHANGED: Final = "unchanged"  # a notification that changed nothing (a repeat)

MANUAL: Final = "manual"
SEVERITIES: Final = ("critical", "high", "warning", "medium", "low", "info")
LINK_LIMIT: Final = 100
_MAX_NOTE: Final = 2000


class IncidentError(LLMSoc2Error):
    """An incident operation is not possible (unknown id, already resolved ...)."""


@dataclass
class HistoryEntry:
    seq: int | None
    event: str
    state: str
    at: int
    actor: str
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "event": self.event,
            "state": self.state,
            "at": format_ns(self.at),
            "at_unix_nano": self.at,
            "actor": self.actor,
            "note": self.note,
        }


@dataclass
class Incident:
    id: str
    state: str
    title: str
    severity: str
    source: str
    dedupe_key: str
    opened_at: int
    acknowledged_at: int | None = None
    resolved_at: int | None = None
    alert_names: list[str] = field(default_factory=list)
    alert_fingerprints: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    alert_starts_at: int | None = None
    alert_ends_at: int | None = None
    url: str = ""
    external_id: str = ""
    window_start: int | None = None
    window_end: int | None = None
    linked_seqs: list[int] = field(default_factory=list)
    linked_trace_ids: list[str] = field(default_factory=list)
    linked_count: int = 0
    log_id: str = ""
    history: list[HistoryEntry] = field(default_factory=list)

    @property
    def tta_seconds(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return max(0, self.acknowledged_at - self.opened_at) / NS_PER_S

    @property
    def ttr_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return max(0, self.resolved_at - self.opened_at) / NS_PER_S

    def overlaps(self, period: Period) -> bool:
        return self.opened_at < period.end and (self.resolved_at is None or self.resolved_at >= period.start)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "title": self.title,
            "severity": self.severity,
            "source": self.source,
            "dedupe_key": self.dedupe_key,
            "opened_at": format_ns(self.opened_at),
            "acknowledged_at": format_ns(self.acknowledged_at) if self.acknowledged_at else None,
            "resolved_at": format_ns(self.resolved_at) if self.resolved_at else None,
            "opened_at_unix_nano": self.opened_at,
            "acknowledged_at_unix_nano": self.acknowledged_at,
            "resolved_at_unix_nano": self.resolved_at,
            "time_to_acknowledge_seconds": self.tta_seconds,
            "time_to_resolve_seconds": self.ttr_seconds,
            "alert_names": self.alert_names,
            "alert_fingerprints": self.alert_fingerprints,
            "labels": self.labels,
            "annotations": self.annotations,
            "alert_starts_at": format_ns(self.alert_starts_at) if self.alert_starts_at else None,
            "alert_ends_at": format_ns(self.alert_ends_at) if self.alert_ends_at else None,
            "url": self.url or None,
            "external_id": self.external_id or None,
            "window": None
            if self.window_start is None or self.window_end is None
            else {"from": format_ns(self.window_start), "to": format_ns(self.window_end)},
            "linked": {
                "count": self.linked_count,
                "seqs": self.linked_seqs,
                "trace_ids": self.linked_trace_ids,
            },
            "log_id": self.log_id,
            "history": [h.to_json() for h in self.history],
        }

    def summary_row(self) -> list[str]:
        return [
            self.id,
            self.state,
            self.source,
            self.severity or "-",
            format_ns(self.opened_at),
            format_duration(self.tta_seconds),
            format_duration(self.ttr_seconds),
            str(self.linked_count),
            self.title,
        ]


def fold(records: Iterable[AuditRecord]) -> dict[str, Incident]:
    """Incidents by id, from their ``incident`` records in log order."""
    incidents: dict[str, Incident] = {}
    for record in sorted(
        (r for r in records if r.kind == KIND_INCIDENT),
        key=lambda r: (r.log_id, r.seq or 0, r.time_unix_nano),
    ):
        attrs = record.attributes
        incident_id = attrs.get(sc.INCIDENT_ID)
        event = attrs.get(sc.INCIDENT_EVENT)
        if not isinstance(incident_id, str) or event not in EVENTS:
            continue
        at = _int(attrs.get(sc.INCIDENT_AT)) or record.time_unix_nano
        incident = incidents.get(incident_id)
        if incident is None:
            opened = _int(attrs.get(sc.INCIDENT_OPENED_AT)) or at
            incident = Incident(
                id=incident_id,
                state=OPEN,
                title=str(attrs.get(sc.INCIDENT_TITLE, "")),
                severity=str(attrs.get(sc.INCIDENT_SEVERITY, "")),
                source=str(attrs.get(sc.INCIDENT_SOURCE, MANUAL)),
                dedupe_key=str(attrs.get(sc.INCIDENT_DEDUPE_KEY, "")),
                opened_at=opened,
                log_id=record.log_id,
            )
            incidents[incident_id] = incident
        _apply(incident, attrs)
        state = attrs.get(sc.INCIDENT_STATE)
        if state in STATES:
            incident.state = str(state)
        if event == ACKNOWLEDGED and incident.acknowledged_at is None:
            incident.acknowledged_at = at
        elif event == RESOLVED:
            incident.resolved_at = at
        incident.history.append(
            HistoryEntry(
                record.seq,
                str(event),
                incident.state,
                at,
                str(attrs.get(sc.INCIDENT_ACTOR, "")),
                str(attrs.get(sc.INCIDENT_NOTE, "")),
            )
        )
    return incidents


def _apply(incident: Incident, attrs: Mapping[str, Any]) -> None:
    """Fields a record may set or update."""
    for name, target in (
        (sc.INCIDENT_TITLE, "title"),
        (sc.INCIDENT_SEVERITY, "severity"),
        (sc.INCIDENT_URL, "url"),
        (sc.INCIDENT_EXTERNAL_ID, "external_id"),
    ):
        value = attrs.get(name)
        if isinstance(value, str) and value:
            setattr(incident, target, value)
    for name, target in (
        (sc.INCIDENT_ALERT_NAMES, "alert_names"),
        (sc.INCIDENT_ALERT_FINGERPRINTS, "alert_fingerprints"),
    ):
        value = attrs.get(name)
        if isinstance(value, list | tuple):
            merged = set(getattr(incident, target)) | {str(v) for v in value}
            setattr(incident, target, sorted(merged))
    for name, target in (
        (sc.INCIDENT_ALERT_LABELS, "labels"),
        (sc.INCIDENT_ALERT_ANNOTATIONS, "annotations"),
    ):
        value = attrs.get(name)
        if isinstance(value, str) and value:
            try:
                parsed = json.loads(value)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                setattr(incident, target, {str(k): str(v) for k, v in parsed.items()})
    for name, target in (
        (sc.INCIDENT_ALERT_STARTS_AT, "alert_starts_at"),
        (sc.INCIDENT_ALERT_ENDS_AT, "alert_ends_at"),
        (sc.INCIDENT_WINDOW_START, "window_start"),
        (sc.INCIDENT_WINDOW_END, "window_end"),
    ):
        value = _int(attrs.get(name))
        if value is not None:
            setattr(incident, target, value)
    seqs = attrs.get(sc.INCIDENT_LINKED_SEQS)
    if isinstance(seqs, list | tuple):
        incident.linked_seqs = [int(s) for s in seqs if isinstance(s, int)]
        traces = attrs.get(sc.INCIDENT_LINKED_TRACE_IDS) or ()
        incident.linked_trace_ids = [str(t) for t in traces]
        incident.linked_count = _int(attrs.get(sc.INCIDENT_LINKED_COUNT)) or 0


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def open_count(incidents: Iterable[Incident]) -> int:
    return sum(1 for incident in incidents if incident.state != RESOLVED)


# ------------------------------------------------------------------------------------------------------
# Linking alerts to audit records
# ------------------------------------------------------------------------------------------------------
_METRIC_ONLY = (
    "ATTR_DIRECTION",
    "ATTR_ERROR_KIND",
    "ATTR_AUDIT_LOG_ID",
    "ATTR_AUDIT_OUTCOME",
    "ATTR_WITNESS",
)
_MEMBERSHIP = {sc.ATTR_RISK_CATEGORY: sc.RISK_CATEGORIES, sc.ATTR_PII_TYPE: sc.PII_TYPES}


def _label_attributes() -> dict[str, str]:
    names: dict[str, str] = {}
    for constant, value in vars(sc).items():
        if not constant.isupper() or not isinstance(value, str) or "." not in value:
            continue
        if (
            constant.startswith(("METRIC_", "EVENT_", "GENAI_SCHEMA", "INSTRUMENTATION_"))
            or constant in _METRIC_ONLY
        ):
            continue
        if any(ch in value for ch in " {}/:"):
            continue
        names[sc.prometheus_label(value)] = value
    return names


LABEL_ATTRIBUTES: Final = _label_attributes()
_SERVICE_LABELS: Final = ("service_name", "service")


@dataclass(frozen=True)
class Links:
    seqs: tuple[int, ...]
    trace_ids: tuple[str, ...]
    count: int
    truncated: bool = False


def matchers(labels: Mapping[str, str]) -> list[Callable[[AuditRecord], bool]]:
    """One predicate per alert label that names a record attribute (others are ignored)."""
    checks: list[Callable[[AuditRecord], bool]] = []
    for label, expected in labels.items():
        if label in _SERVICE_LABELS:
            checks.append(_service_is(expected))
            continue
        attribute = LABEL_ATTRIBUTES.get(label)
        if attribute is None:
            continue
        member_of = _MEMBERSHIP.get(attribute)
        checks.append(_contains(member_of, expected) if member_of else _equals(attribute, expected))
    return checks


def _service_is(expected: str) -> Callable[[AuditRecord], bool]:
    return lambda record: record.service == expected


def _contains(attribute: str, expected: str) -> Callable[[AuditRecord], bool]:
    return lambda record: expected in {str(v) for v in (record.attributes.get(attribute) or ())}


def _equals(attribute: str, expected: str) -> Callable[[AuditRecord], bool]:
    return lambda record: _matches(record.attributes.get(attribute), expected)


def _matches(value: Any, expected: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return expected.lower() == ("true" if value else "false")
    if isinstance(value, list | tuple):
        return expected in {str(v) for v in value}
    return str(value) == expected


def link(
    log: RecordReader,
    start: int,
    end: int,
    labels: Mapping[str, str],
    *,
    log_id: str | None = None,
    limit: int = LINK_LIMIT,
    scan_limit: int = 1_000_000,
) -> Links:
    """The records in ``[start, end)`` that match ``labels`` (incident and approval records excepted):
    the ``limit`` most recent seqs and distinct trace ids, and how many matched in all."""
    checks = matchers(labels)
    seqs: deque[int] = deque(maxlen=limit)
    traces: dict[str, None] = {}
    count = scanned = 0
    truncated = False
    for record in read_records(log, since=start, until=end, log_id=log_id):
        scanned += 1
        if scanned > scan_limit:
            truncated = True
            break
        if record.kind in (KIND_INCIDENT, KIND_APPROVAL):
            continue
        if not all(check(record) for check in checks):
            continue
        count += 1
        if record.seq is not None:
            seqs.append(record.seq)
        if record.trace_id:
            traces.pop(record.trace_id, None)
            traces[record.trace_id] = None
            if len(traces) > limit:
                del traces[next(iter(traces))]
    return Links(tuple(seqs), tuple(traces), count, truncated)


# ------------------------------------------------------------------------------------------------------
# Operations
# ------------------------------------------------------------------------------------------------------
def new_incident_id(now: int | None = None) -> str:
    moment = datetime.fromtimestamp((time.time_ns() if now is None else now) / NS_PER_S, tz=UTC)
    return f"INC-{moment:%Y%m%d}-{secrets.token_hex(3)}"


def dedupe_key(notification: Notification) -> str:
    basis = notification.group_key or ",".join(notification.fingerprints) or notification.title
    return f"{notification.source}:{hashlib.sha256(basis.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class Outcome:
    incident: Incident
    event: str  # opened | updated | resolved | unchanged


class IncidentDesk:
    """Open, acknowledge and resolve incidents in an audit log; turn alert notifications into incidents.

    Thread-safe within one process (the HTTP service's webhooks and API share one desk)."""

    def __init__(
        self,
        log: RecordLog,
        *,
        service: str = "",
        log_id: str | None = None,
        lookback: float = 900.0,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._log = log
        self._service = service
        self._log_id = log_id
        self._lookback_ns = int(lookback * NS_PER_S)
        self._clock = clock
        self._lock = threading.RLock()

    # -- reading ------------------------------------------------------------------------------------------
    def all(self) -> dict[str, Incident]:
        return fold(read_records(self._log, kinds=(KIND_INCIDENT,), log_id=self._log_id))

    def list(self, period: Period | None = None, state: str | None = None) -> list[Incident]:
        found = [
            incident
            for incident in self.all().values()
            if (period is None or incident.overlaps(period)) and (state is None or incident.state == state)
        ]
        return sorted(found, key=lambda i: (i.opened_at, i.id))

    def get(self, incident_id: str) -> Incident:
        incident = self.all().get(incident_id.strip())
        if incident is None:
            raise IncidentError(
                f"no incident {incident_id!r} in the audit log (see `llm-soc2 incident list`)"
            )
        return incident

    # -- by hand ------------------------------------------------------------------------------------------
    def open(
        self,
        title: str,
        *,
        severity: str = "",
        actor: str = "",
        note: str = "",
        labels: Mapping[str, str] | None = None,
        window: tuple[int, int] | None = None,
        source: str = MANUAL,
        dedupe: str = "",
        at: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Incident:
        title = title.strip()
        if not title:
            raise IncidentError("an incident needs a title")
        _check_text("note", note)
        now = self._clock()
        opened = now if at is None else at
        start, end = window if window is not None else (opened - self._lookback_ns, now)
        if start >= end:
            raise IncidentError("the incident window is empty: its start is not before its end")
        incident_id = new_incident_id(opened)
        links = link(self._log, start, end, labels or {}, log_id=self._log_id)
        attrs: dict[str, Any] = {
            sc.INCIDENT_TITLE: title[:200],
            sc.INCIDENT_SOURCE: source,
            sc.INCIDENT_OPENED_AT: opened,
            sc.INCIDENT_ALERT_LABELS: _json(labels or {}),
            **_window_attrs(start, end, links),
            **(extra or {}),
        }
        if severity:
            attrs[sc.INCIDENT_SEVERITY] = severity
        if dedupe:
            attrs[sc.INCIDENT_DEDUPE_KEY] = dedupe
        with self._lock:
            self._append(incident_id, OPENED, OPEN, opened, actor, note, attrs)
            return self.get(incident_id)

    def acknowledge(
        self, incident_id: str, *, actor: str = "", note: str = "", at: int | None = None
    ) -> Incident:
        _check_text("note", note)
        with self._lock:
            incident = self.get(incident_id)
            if incident.state == ACKNOWLEDGED:
                raise IncidentError(
                    f"{incident.id} was already acknowledged at {format_ns(incident.acknowledged_at)}"
                )
            if incident.state == RESOLVED:
                raise IncidentError(f"{incident.id} is already resolved ({format_ns(incident.resolved_at)})")
            moment = self._moment(incident, at)
            ack = {sc.INCIDENT_TTA_SECONDS: (moment - incident.opened_at) / NS_PER_S}
            self._append(incident.id, ACKNOWLEDGED, ACKNOWLEDGED, moment, actor, note, ack)
            return self.get(incident.id)

    def resolve(
        self,
        incident_id: str,
        *,
        actor: str = "",
        note: str = "",
        at: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Incident:
        _check_text("note", note)
        with self._lock:
            incident = self.get(incident_id)
            if incident.state == RESOLVED:
                raise IncidentError(f"{incident.id} is already resolved ({format_ns(incident.resolved_at)})")
            moment = self._moment(incident, at)
            attrs: dict[str, Any] = {sc.INCIDENT_TTR_SECONDS: (moment - incident.opened_at) / NS_PER_S}
            if incident.acknowledged_at is not None:
                attrs[sc.INCIDENT_TTA_SECONDS] = (incident.acknowledged_at - incident.opened_at) / NS_PER_S
            attrs.update(extra or {})
            self._append(incident.id, RESOLVED, RESOLVED, moment, actor, note, attrs)
            return self.get(incident.id)

    def _moment(self, incident: Incident, at: int | None) -> int:
        moment = self._clock() if at is None else at
        if moment < incident.opened_at:
            raise IncidentError(
                f"{incident.id} was opened at {format_ns(incident.opened_at)}, after {format_ns(moment)}"
            )
        return moment

    # -- from alerts --------------------------------------------------------------------------------------
    def handle(self, notification: Notification) -> Outcome:
        """Open, update or resolve the incident of ``notification``'s alert group."""
        key = dedupe_key(notification)
        with self._lock:
            incidents = self.all()
            current = next(
                (i for i in incidents.values() if i.dedupe_key == key and i.state != RESOLVED), None
            )
            if notification.status == FIRING:
                if current is None:
                    return Outcome(self._open_from(notification, key), OPENED)
                new = set(notification.fingerprints) - set(current.alert_fingerprints)
                if not new:
                    return Outcome(current, UNCHANGED)
                return Outcome(self._update_from(current, notification), UPDATED)
            if current is None:
                episode = notification.starts_at
                for incident in incidents.values():
                    if (
                        incident.dedupe_key == key
                        and episode is not None
                        and incident.alert_starts_at == episode
                    ):
                        return Outcome(incident, UNCHANGED)  # a repeated "resolved" notification
                opened = self._open_from(
                    notification,
                    key,
                    at=episode,
                    note="opened from a resolved notification: the firing notification was not received",
                )
                current = opened
            now = self._clock()
            start = current.window_start if current.window_start is not None else now - self._lookback_ns
            end = max(now, start + 1)
            links = link(self._log, start, end, notification.common_labels, log_id=self._log_id)
            extra = _alert_attrs(notification) | _window_attrs(start, end, links)
            resolved = self.resolve(
                current.id, actor=notification.source, at=max(now, current.opened_at), extra=extra
            )
            return Outcome(resolved, RESOLVED)

    def _open_from(
        self, notification: Notification, key: str, *, at: int | None = None, note: str = ""
    ) -> Incident:
        now = self._clock()
        starts = notification.starts_at
        start = (starts if starts is not None else now) - self._lookback_ns
        return self.open(
            notification.title,
            severity=notification.severity,
            actor=notification.source,
            note=note,
            labels=notification.common_labels,
            window=(start, max(now, start + 1)),
            source=notification.source,
            dedupe=key,
            at=min(at, now) if at is not None else None,
            extra=_alert_attrs(notification),
        )

    def _update_from(self, incident: Incident, notification: Notification) -> Incident:
        now = self._clock()
        start = incident.window_start if incident.window_start is not None else now - self._lookback_ns
        links = link(self._log, start, max(now, start + 1), notification.common_labels, log_id=self._log_id)
        attrs = _alert_attrs(notification) | _window_attrs(start, max(now, start + 1), links)
        self._append(incident.id, UPDATED, incident.state, now, notification.source, "", attrs)
        return self.get(incident.id)

    # -- writing ------------------------------------------------------------------------------------------
    def _append(
        self,
        incident_id: str,
        event: str,
        state: str,
        at: int,
        actor: str,
        note: str,
        attrs: Mapping[str, Any],
    ) -> int:
        attributes = {
            sc.INCIDENT_ID: incident_id,
            sc.INCIDENT_EVENT: event,
            sc.INCIDENT_STATE: state,
            sc.INCIDENT_AT: at,
            **attrs,
        }
        if actor:
            attributes[sc.INCIDENT_ACTOR] = actor[:200]
        if note:
            attributes[sc.INCIDENT_NOTE] = note
        record = AuditRecord(
            kind=KIND_INCIDENT,
            time_unix_nano=self._clock(),
            service=self._service,
            attributes=attributes,
        )
        return self._log.append([record])[0]


def _check_text(name: str, value: str) -> None:
    if len(value) > _MAX_NOTE:
        raise IncidentError(f"the {name} is longer than {_MAX_NOTE} characters")


def _json(mapping: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(mapping.items())), separators=(",", ":"), ensure_ascii=False)


def _window_attrs(start: int, end: int, links: Links) -> dict[str, Any]:
    return {
        sc.INCIDENT_WINDOW_START: start,
        sc.INCIDENT_WINDOW_END: end,
        sc.INCIDENT_LINKED_SEQS: list(links.seqs),
        sc.INCIDENT_LINKED_TRACE_IDS: list(links.trace_ids),
        sc.INCIDENT_LINKED_COUNT: links.count,
    }


def _alert_attrs(notification: Notification) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        sc.INCIDENT_ALERT_NAMES: list(notification.alert_names),
        sc.INCIDENT_ALERT_FINGERPRINTS: list(notification.fingerprints),
        sc.INCIDENT_ALERT_LABELS: _json(notification.common_labels),
        sc.INCIDENT_ALERT_ANNOTATIONS: _json(notification.common_annotations),
    }
    if notification.starts_at is not None:
        attrs[sc.INCIDENT_ALERT_STARTS_AT] = notification.starts_at
    if notification.ends_at is not None:
        attrs[sc.INCIDENT_ALERT_ENDS_AT] = notification.ends_at
    if notification.url:
        attrs[sc.INCIDENT_URL] = notification.url[:500]
    return attrs
