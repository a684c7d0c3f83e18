"""Change management (SOC 2 CC8.1): prompt templates and model versions are changes.

At run time, :class:`ChangeTracker` is an enricher of the span processor. For each GenAI span it reads
the prompt template hash (``llm_soc2.prompt.template_hash``) and the model version
(``gen_ai.response.model``; ``gen_ai.request.model`` when the provider did not name one and the call did
not fail) and:

* sets ``llm_soc2.change.approved`` on the exported span: ``true`` when every version on the span is in
  the registry (``llm-soc2.prompts.yaml``), ``false`` otherwise, with ``llm_soc2.change.unapproved_versions``
  naming the culprits (``prompt:<hash>``, ``model:<name>``). When there is **no registry file at all** the
  attribute is left **absent**: change management is not configured, which the report states once
  instead of flagging every interaction; a registry that exists but is unreadable approves nothing;
* counts unapproved interactions (``llm_soc2.change.unapproved``);
* writes a ``change`` audit record the first time the process sees a version for its service and
  environment (with the span's trace link). The population of changes is the set of distinct
  ``(kind, id, service, environment)``; its *first seen* is the earliest such record, so a version
  seen again after a restart does not count twice.

Offline, :func:`population` builds the CC8.1 population for a period and :func:`approve` adds an approval
to the registry and records it in the audit log (``llm-soc2 changes approve``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import metrics

from llm_soc2 import semconv as sc
from llm_soc2.audit.record import KIND_APPROVAL, KIND_CHANGE, KIND_INTERACTION, AuditRecord
from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError
from llm_soc2.governance._common import (
    BoundedSet,
    RecordLog,
    RecordReader,
    Submit,
    read_records,
    safe_submit,
    span_service,
    span_time,
    trace_ids,
)
from llm_soc2.governance.period import NS_PER_S, Period, format_ns
from llm_soc2.governance.registry import (
    MODEL,
    PROMPT,
    Approval,
    PendingWrite,
    Registry,
    RegistryWatcher,
    read_registry,
    validate_id,
)
from llm_soc2.labels import LabelCap

if TYPE_CHECKING:
    from llm_soc2.processor import ProcessedInteraction

_log = logging.getLogger(__name__)

SightingKey = tuple[str, str, str, str]  # (kind, id, service, environment)
_METRIC_LABEL_LIMIT: Final = 200


def versions(attributes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ``(kind, id)`` versions a span used: its template hash and its model version."""
    found: list[tuple[str, str]] = []
    template = attributes.get(sc.PROMPT_TEMPLATE_HASH)
    if isinstance(template, str) and template:
        found.append((PROMPT, template))
    model = attributes.get(sc.GEN_AI_RESPONSE_MODEL)
    if not model and not attributes.get(sc.ERROR_TYPE):
        model = attributes.get(sc.GEN_AI_REQUEST_MODEL)
    if isinstance(model, str) and model:
        found.append((MODEL, model))
    return found


def version_label(kind: str, identifier: str) -> str:
    return f"{kind}:{identifier}"


class ChangeTracker:
    """The change-management enricher (see the module docstring). Cheap on the app thread: a few dict
    look-ups per span; the registry is reloaded on a background thread, and records are handed to the
    audit writer's non-blocking ``submit``.

    ``capacity`` bounds the versions remembered; ``max_records`` bounds the change records one process
    writes (an application that puts per-request data into its system prompt would otherwise write one
    per request: past the bound a warning is logged once and sightings are no longer recorded).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        submit: Submit | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        registry_path: str | Path | None = None,
        reload_interval: float = 5.0,
        capacity: int = 4096,
        max_records: int = 1000,
        on_span: Callable[[], None] | None = None,
    ) -> None:
        self._settings = settings or Settings.from_env()
        self._on_span = on_span
        self._submit = submit
        self.watcher = RegistryWatcher(
            registry_path or self._settings.prompt_registry, interval=reload_interval
        )
        self._seen = BoundedSet(capacity)
        self._records_left = max_records
        self._logged: set[str] = set()
        self._last_identity: tuple[Any, str, str] | None = None
        meter = metrics.get_meter(sc.INSTRUMENTATION_SCOPE, meter_provider=meter_provider)
        self._unapproved = meter.create_counter(
            sc.METRIC_CHANGE_UNAPPROVED,
            "{interaction}",
            "Interactions that used a prompt template or model version not in the approval registry",
        )
        self._model_label = LabelCap(_METRIC_LABEL_LIMIT)
        self._template_label = LabelCap(_METRIC_LABEL_LIMIT)

    def __repr__(self) -> str:
        return f"ChangeTracker(registry={str(self.watcher.path)!r})"

    def seed(self, sightings: Iterable[SightingKey]) -> None:
        """Versions the audit log already holds sightings of (so they are not recorded again)."""
        self._seen.update(list(sightings))

    # -- the enricher -------------------------------------------------------------------------------
    def __call__(self, interaction: ProcessedInteraction) -> None:
        self.watcher.poke()
        if self._on_span is not None:
            self._on_span()
        attrs = interaction.attributes
        found = versions(attrs)
        if not found:
            return
        registry = self.watcher.current
        if registry is not None:
            missing = [item for item in found if not registry.is_approved(*item)]
            attrs[sc.CHANGE_APPROVED] = not missing
            if missing:
                attrs[sc.CHANGE_UNAPPROVED_VERSIONS] = tuple(version_label(*item) for item in missing)
                self._count_unapproved(attrs)
        service, environment = self._identity(interaction.span)
        for kind, identifier in found:
            key = (kind, identifier, service, environment)
            if key not in self._seen and self._seen.add(key):
                self._record_sighting(interaction, kind, identifier, service, environment, registry)

    def _identity(self, span: Any) -> tuple[str, str]:
        """(service, environment) of the span's resource; providers share one resource, so the last
        answer is kept."""
        resource = getattr(span, "resource", None)
        cached = self._last_identity
        if cached is not None and cached[0] is resource:
            return cached[1], cached[2]
        service, environment = span_service(span, self._settings.service_name), self._environment(resource)
        self._last_identity = (resource, service, environment)
        return service, environment

    def _environment(self, resource: Any) -> str:
        if resource is not None:
            attrs = resource.attributes
            value = attrs.get(sc.DEPLOYMENT_ENVIRONMENT) or attrs.get("deployment.environment")
            if isinstance(value, str) and value:
                return value
        return self._settings.environment

    def _count_unapproved(self, attrs: Mapping[str, Any]) -> None:
        try:
            self._unapproved.add(
                1,
                {
                    sc.GEN_AI_PROVIDER_NAME: str(
                        attrs.get(sc.GEN_AI_PROVIDER_NAME, attrs.get(sc.GEN_AI_SYSTEM, ""))
                    ),
                    sc.GEN_AI_REQUEST_MODEL: self._model_label(str(attrs.get(sc.GEN_AI_REQUEST_MODEL, ""))),
                    sc.PROMPT_TEMPLATE_HASH: self._template_label(
                        str(attrs.get(sc.PROMPT_TEMPLATE_HASH, ""))
                    ),
                },
            )
        except Exception:
            if "metric" not in self._logged:
                self._logged.add("metric")
                _log.warning("llm-soc2: recording %s failed", sc.METRIC_CHANGE_UNAPPROVED, exc_info=True)

    def _record_sighting(
        self,
        interaction: ProcessedInteraction,
        kind: str,
        identifier: str,
        service: str,
        environment: str,
        registry: Registry | None,
    ) -> None:
        if self._records_left <= 0:
            if "overflow" not in self._logged:
                self._logged.add("overflow")
                _log.warning(
                    "llm-soc2: more distinct prompt templates/models than expected; change sightings are no "
                    "longer recorded by this process (is per-request data part of the system prompt?)"
                )
            return
        self._records_left -= 1
        attrs = interaction.attributes
        trace_id, span_id = trace_ids(interaction.span)
        record_attrs: dict[str, Any] = {
            sc.CHANGE_KIND: kind,
            sc.CHANGE_ID: identifier,
            sc.DEPLOYMENT_ENVIRONMENT: environment,
        }
        for name in (
            sc.GEN_AI_PROVIDER_NAME,
            sc.GEN_AI_REQUEST_MODEL,
            sc.GEN_AI_RESPONSE_MODEL,
            sc.PROMPT_TEMPLATE_HASH,
        ):
            value = attrs.get(name)
            if isinstance(value, str) and value:
                record_attrs[name] = value
        if registry is not None:
            record_attrs[sc.CHANGE_APPROVED] = registry.is_approved(kind, identifier)
        record = AuditRecord(
            kind=KIND_CHANGE,
            time_unix_nano=span_time(interaction.span),
            service=service,
            trace_id=trace_id,
            span_id=span_id,
            attributes=record_attrs,
        )
        safe_submit(self._submit, record, self._logged)


def sightings_from(records: Iterable[AuditRecord]) -> list[SightingKey]:
    """The sighting keys held by ``change`` records (for :meth:`ChangeTracker.seed`)."""
    keys: list[SightingKey] = []
    for record in records:
        if record.kind != KIND_CHANGE:
            continue
        attrs = record.attributes
        kind, identifier = attrs.get(sc.CHANGE_KIND), attrs.get(sc.CHANGE_ID)
        if isinstance(kind, str) and isinstance(identifier, str):
            keys.append((kind, identifier, record.service, str(attrs.get(sc.DEPLOYMENT_ENVIRONMENT, ""))))
    return keys


# ------------------------------------------------------------------------------------------------------
# The population (CC8.1)
# ------------------------------------------------------------------------------------------------------
APPROVED: Final = "approved"  # approved before (or when) it was first seen
APPROVED_LATE: Final = "approved_late"  # approved, but after it was first used in production
UNAPPROVED: Final = "unapproved"  # not in the registry
NOT_CHECKED: Final = "not_checked"  # no registry: change management not configured


@dataclass
class ApprovalEvidence:
    """An approval as the audit log recorded it."""

    seq: int | None
    log_id: str
    time_unix_nano: int
    approver: str
    ticket: str
    approved_on: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "log_id": self.log_id,
            "time": format_ns(self.time_unix_nano),
            "time_unix_nano": self.time_unix_nano,
            "approver": self.approver,
            "ticket": self.ticket,
            "approved_on": self.approved_on,
        }


@dataclass
class Change:
    """One distinct version first seen in production in the period, for one service and environment."""

    kind: str
    id: str
    service: str
    environment: str
    first_seen: int
    trace_id: str
    span_id: str
    seq: int | None
    log_id: str
    provider: str = ""
    request_model: str = ""
    registry_approval: Approval | None = None
    approval_records: list[ApprovalEvidence] = field(default_factory=list)
    unapproved_interactions: int = 0
    status: str = NOT_CHECKED

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "service": self.service,
            "environment": self.environment,
            "first_seen": format_ns(self.first_seen),
            "first_seen_unix_nano": self.first_seen,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "seq": self.seq,
            "log_id": self.log_id,
            "provider": self.provider,
            "request_model": self.request_model,
            "status": self.status,
            "approval": self.registry_approval.to_json() if self.registry_approval else None,
            "approval_records": [a.to_json() for a in self.approval_records],
            "unapproved_interactions": self.unapproved_interactions,
        }


@dataclass
class Population:
    period: Period
    registry_path: str
    registry_present: bool
    registry_sha256: str
    changes: list[Change]
    unapproved_interactions: dict[str, int]  # "kind:id" -> interactions in the period

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period.to_json(),
            "registry": {
                "path": self.registry_path,
                "present": self.registry_present,
                "sha256": self.registry_sha256,
            },
            "changes": [c.to_json() for c in self.changes],
            "unapproved_interactions": dict(sorted(self.unapproved_interactions.items())),
        }


def population(
    log: RecordReader,
    period: Period,
    registry: Registry | None,
    *,
    log_id: str | None = None,
    count_interactions: bool = True,
) -> Population:
    """The changes first seen in ``period`` (from ``change`` records), each joined to its approval in
    ``registry`` (``None``: no registry file) and to ``approval`` records, with the number of
    interactions in the period the processor flagged as unapproved for it."""
    first: dict[SightingKey, AuditRecord] = {}
    approvals: dict[tuple[str, str], list[ApprovalEvidence]] = {}
    for record in read_records(log, until=period.end, kinds=(KIND_CHANGE, KIND_APPROVAL), log_id=log_id):
        attrs = record.attributes
        kind, identifier = attrs.get(sc.CHANGE_KIND), attrs.get(sc.CHANGE_ID)
        if not isinstance(kind, str) or not isinstance(identifier, str):
            continue
        if record.kind == KIND_APPROVAL:
            approvals.setdefault((kind, identifier), []).append(
                ApprovalEvidence(
                    record.seq,
                    record.log_id,
                    record.time_unix_nano,
                    str(attrs.get(sc.CHANGE_APPROVER, "")),
                    str(attrs.get(sc.CHANGE_TICKET, "")),
                    str(attrs.get(sc.CHANGE_APPROVED_ON, "")),
                )
            )
            continue
        key = (kind, identifier, record.service, str(attrs.get(sc.DEPLOYMENT_ENVIRONMENT, "")))
        seen = first.get(key)
        if seen is None or record.time_unix_nano < seen.time_unix_nano:
            first[key] = record

    unapproved: dict[str, int] = {}
    if count_interactions:
        for record in read_records(
            log, since=period.start, until=period.end, kinds=(KIND_INTERACTION,), log_id=log_id
        ):
            if record.attributes.get(sc.CHANGE_APPROVED) is not False:
                continue
            for label in record.attributes.get(sc.CHANGE_UNAPPROVED_VERSIONS) or ():
                unapproved[str(label)] = unapproved.get(str(label), 0) + 1

    changes: list[Change] = []
    for (kind, identifier, service, environment), record in first.items():
        if record.time_unix_nano not in period:
            continue
        attrs = record.attributes
        change = Change(
            kind=kind,
            id=identifier,
            service=service,
            environment=environment,
            first_seen=record.time_unix_nano,
            trace_id=record.trace_id,
            span_id=record.span_id,
            seq=record.seq,
            log_id=record.log_id,
            provider=str(attrs.get(sc.GEN_AI_PROVIDER_NAME, "")),
            request_model=str(attrs.get(sc.GEN_AI_REQUEST_MODEL, "")),
            registry_approval=registry.get(kind, identifier) if registry is not None else None,
            approval_records=sorted(approvals.get((kind, identifier), []), key=lambda a: a.time_unix_nano),
            unapproved_interactions=unapproved.get(version_label(kind, identifier), 0),
        )
        change.status = _status(change, registry is not None)
        changes.append(change)
    changes.sort(key=lambda c: (c.first_seen, c.kind, c.id))
    return Population(
        period=period,
        registry_path=str(registry.path) if registry is not None else "",
        registry_present=registry is not None,
        registry_sha256=registry.sha256 if registry is not None else "",
        changes=changes,
        unapproved_interactions=unapproved,
    )


def _status(change: Change, registry_present: bool) -> str:
    if not registry_present:
        return NOT_CHECKED
    if change.registry_approval is None:
        return UNAPPROVED
    if change.approval_records:  # the recorded approval time is exact
        return APPROVED if change.approval_records[0].time_unix_nano <= change.first_seen else APPROVED_LATE
    try:
        approved_on = date.fromisoformat(change.registry_approval.date[:10])
    except ValueError:
        return APPROVED_LATE
    first_day = datetime.fromtimestamp(change.first_seen / NS_PER_S, tz=UTC).date()
    return APPROVED if approved_on <= first_day else APPROVED_LATE


# ------------------------------------------------------------------------------------------------------
# Approving
# ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApprovalResult:
    approval: Approval
    registry_path: Path
    registry_sha256: str
    seq: int | None  # the approval record's position in the audit log (None: not recorded)


def approve(
    registry_path: str | Path,
    identifier: str,
    *,
    ticket: str,
    approver: str,
    kind: str | None = None,
    on: str | None = None,
    note: str = "",
    log: RecordLog | None = None,
    service: str = "",
    log_id: str | None = None,
) -> ApprovalResult:
    """Add an approval to the registry file and record it in ``log`` (kind ``approval``).

    The new registry is written to a temporary file first; the audit record is appended; only then is
    the file renamed into place, so an approval is never in one without the other (``log=None`` updates
    the registry alone). Raises :class:`ConfigurationError` on bad input or an existing approval.
    """
    from llm_soc2.governance.registry import guess_kind

    kind = kind or guess_kind(identifier.strip())
    identifier = validate_id(kind, identifier)
    ticket = ticket.strip()
    if not ticket:
        raise ConfigurationError("--ticket is empty: name the change ticket (e.g. CHG-123)")
    who = approver.strip()
    if not who:
        raise ConfigurationError("--approver is empty: name the person who approved the change")
    day = (on or date.today().isoformat()).strip()
    try:
        date.fromisoformat(day)
    except ValueError:
        raise ConfigurationError(f"--date {day!r} is not an ISO date (YYYY-MM-DD)") from None
    for label, value in (("--ticket", ticket), ("--approver", who), ("--note", note)):
        if len(value) > 1000 or any(ch in value for ch in "\r\x00"):
            raise ConfigurationError(f"{label} is too long or contains control characters")
    registry = read_registry(registry_path)
    existing = registry.get(kind, identifier)
    if existing is not None:
        raise ConfigurationError(
            f"{kind} {identifier} is already approved ({existing.ticket} by {existing.approver} on {existing.date})"
        )
    approval = Approval(kind, identifier, who, ticket, day, note.strip())
    pending = PendingWrite(registry.with_approval(approval))
    seq: int | None = None
    try:
        if log is not None:
            attrs: dict[str, Any] = {
                sc.CHANGE_KIND: kind,
                sc.CHANGE_ID: identifier,
                sc.CHANGE_APPROVER: who,
                sc.CHANGE_TICKET: ticket,
                sc.CHANGE_APPROVED_ON: day,
                sc.CHANGE_REGISTRY_SHA256: pending.sha256,
            }
            if approval.note:
                attrs[sc.CHANGE_NOTE] = approval.note
            first_seen = _first_seen(log, kind, identifier, log_id)
            if first_seen is not None:
                attrs[sc.CHANGE_FIRST_SEEN] = first_seen
            record = AuditRecord(
                kind=KIND_APPROVAL,
                time_unix_nano=time.time_ns(),
                service=service,
                attributes=attrs,
            )
            seq = log.append([record])[0]
    except BaseException:
        pending.discard()
        raise
    pending.commit()
    return ApprovalResult(approval, pending.path, pending.sha256, seq)


def _first_seen(log: RecordReader, kind: str, identifier: str, log_id: str | None) -> int | None:
    earliest: int | None = None
    for record in read_records(log, kinds=(KIND_CHANGE,), log_id=log_id):
        attrs = record.attributes
        same = attrs.get(sc.CHANGE_KIND) == kind and attrs.get(sc.CHANGE_ID) == identifier
        if same and (earliest is None or record.time_unix_nano < earliest):
            earliest = record.time_unix_nano
    return earliest
