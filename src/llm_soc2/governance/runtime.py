"""The run-time side of governance, assembled for the span processor.

::

    governance = Governance(settings, submit=audit_writer.submit, meter_provider=meter_provider)
    for enricher in governance.enrichers:
        span_processor.add_enricher(enricher)
    ...
    governance.close()

``Governance`` owns the two enrichers (:class:`ChangeTracker`, :class:`AccessTracker`) and the
``llm_soc2.incidents.open`` gauge. What they need from the audit log (versions and keys already
recorded, key registrations and retirements, open incidents) is read on a background thread: once
shortly after start and then every ``refresh_interval`` seconds, triggered by spans or by the metric
reader, never on the app thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditRecord
from llm_soc2.audit.record import (
    ATTR_CONTENT_ROWS,
    KIND_CHANGE,
    KIND_ERASURE,
    KIND_INCIDENT,
    KIND_KEY,
    KIND_PURGE,
)
from llm_soc2.config import Settings
from llm_soc2.governance._background import Throttled
from llm_soc2.governance._common import Submit, open_log, read_records
from llm_soc2.governance.access import AccessTracker, KeyPolicyState
from llm_soc2.governance.changes import ChangeTracker, sightings_from
from llm_soc2.governance.incidents import fold, open_count

_log = logging.getLogger(__name__)


class Governance:
    """Change management and access control enrichers plus the incident gauge (see the module doc).

    ``submit`` is the audit writer's non-blocking ``submit`` (``None``: attributes and metrics only, no
    records). ``audit_url`` locates the store to learn from (default: the settings'; ``""`` disables
    reading it); every log in it is read, so registrations and incidents recorded by the CLI or the HTTP
    service under another log id count too.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        submit: Submit | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        audit_url: str | None = None,
        refresh_interval: float = 60.0,
        registry_reload_interval: float = 5.0,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._refresh = Throttled(self.refresh, refresh_interval, name="llm-soc2-governance-refresh")
        self.changes = ChangeTracker(
            self.settings,
            submit=submit,
            meter_provider=meter_provider,
            reload_interval=registry_reload_interval,
            on_span=self._refresh.poke,
        )
        self.access = AccessTracker(self.settings, submit=submit, meter_provider=meter_provider)
        if audit_url is None:
            audit_url = self.settings.resolved_audit_url if self.settings.audit_enabled else ""
        self._audit_url = audit_url
        self._open_incidents: int | None = None
        self._disposed: dict[tuple[str, str], int] = {}
        self._closed = threading.Event()
        meter = metrics.get_meter(sc.INSTRUMENTATION_SCOPE, meter_provider=meter_provider)
        meter.create_observable_gauge(
            sc.METRIC_INCIDENTS_OPEN,
            [self._observe_incidents],
            "{incident}",
            "Incidents opened and not yet resolved (from the audit log)",
        )
        meter.create_observable_counter(
            sc.METRIC_AUDIT_CONTENT_DISPOSED,
            [self._observe_disposed],
            "{record}",
            "Stored content removed by retention purges and erasure requests (from the audit log)",
        )
        if self._audit_url:
            self._start_first_refresh()

    @property
    def enrichers(self) -> tuple[ChangeTracker, AccessTracker]:
        return (self.changes, self.access)

    def __repr__(self) -> str:
        return f"Governance(registry={str(self.changes.watcher.path)!r})"

    # -- learning from the audit log -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Read change sightings, key events and incidents from the audit log (blocking: call it from a
        background thread, the CLI or a test)."""
        if self._closed.is_set() or not self._audit_url:
            return
        log: Any = open_log(self._audit_url, log_id=None, settings=self.settings)
        try:
            records = list(
                read_records(log, kinds=(KIND_CHANGE, KIND_KEY, KIND_INCIDENT, KIND_ERASURE, KIND_PURGE))
            )
        finally:
            log.close()
        self.changes.seed(sightings_from(records))
        self.access.seed(KeyPolicyState.from_records(records))
        self._open_incidents = open_count(fold(records).values())
        disposed = disposed_content(records)
        # Zero for this process's log until something is disposed: "nothing purged yet" is a value.
        own = self.settings.resolved_audit_log_id
        for disposal in _DISPOSAL.values():
            disposed.setdefault((own, disposal), 0)
        self._disposed = disposed

    def _start_first_refresh(self) -> None:
        def first() -> None:
            self._refresh.run_now()

        threading.Thread(target=first, name="llm-soc2-governance-seed", daemon=True).start()

    def _observe_disposed(self, _options: CallbackOptions) -> Iterator[Observation]:
        self._refresh.poke()
        for (log_id, disposal), rows in self._disposed.items():
            yield Observation(rows, {sc.ATTR_AUDIT_LOG_ID: log_id, sc.ATTR_AUDIT_DISPOSAL: disposal})

    def _observe_incidents(self, _options: CallbackOptions) -> Iterator[Observation]:
        self._refresh.poke()
        if self._open_incidents is not None:
            yield Observation(self._open_incidents)

    def poke(self) -> None:
        """Let a periodic refresh happen (the enrichers' spans do this)."""
        self._refresh.poke()

    def close(self) -> None:
        self._closed.set()

    # The pipeline's service interface: nothing is buffered here (records go straight to the writer).
    def flush(self, timeout: float = 10.0) -> bool:
        return True

    def shutdown(self, timeout: float = 10.0) -> bool:
        self.close()
        return True


_DISPOSAL: dict[str, str] = {KIND_PURGE: "retention", KIND_ERASURE: "erasure"}


def disposed_content(records: Iterable[AuditRecord]) -> dict[tuple[str, str], int]:
    """Content rows removed, by log and disposal kind, from the completion records that purge and erase
    append once they have removed content (their first record, before removal, carries no count)."""
    totals: dict[tuple[str, str], int] = {}
    for record in records:
        disposal = _DISPOSAL.get(record.kind)
        rows = record.attributes.get(ATTR_CONTENT_ROWS)
        if disposal is None or type(rows) is not int:
            continue
        key = (record.log_id, disposal)
        totals[key] = totals.get(key, 0) + rows
    return totals
