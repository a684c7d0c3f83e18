"""Small shared pieces: the audit-log surface governance uses, span identity, bounded collections."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from llm_soc2 import semconv as sc

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from llm_soc2.audit.record import AuditRecord
    from llm_soc2.config import Settings

_log = logging.getLogger(__name__)

# What the app thread hands records to: the audit writer's ``submit`` (non-blocking).
Submit = Callable[["AuditRecord"], object]


class RecordReader(Protocol):
    """The part of :class:`llm_soc2.audit.AuditLog` that governance reads."""

    def records(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Collection[str] | None = None,
        log_id: str | None = None,
        with_content: bool = True,
    ) -> Iterator[AuditRecord]: ...


class RecordLog(RecordReader, Protocol):
    """The part of :class:`llm_soc2.audit.AuditLog` the CLI and the HTTP service write through."""

    def append(self, records: Sequence[AuditRecord], *, log_id: str | None = None) -> list[int]: ...


_SLACK_NS = 2_000  # the log filters at microsecond precision; widen, then filter exactly


def _datetime(value: int | None, *, up: bool) -> datetime | None:
    if value is None:
        return None
    micros = (value + (_SLACK_NS if up else -_SLACK_NS)) // 1000
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=max(0, micros))


def read_records(
    log: RecordReader,
    *,
    since: int | None = None,
    until: int | None = None,
    kinds: Collection[str] | None = None,
    log_id: str | None = None,
) -> Iterator[AuditRecord]:
    """Records in ``[since, until)`` (Unix nanoseconds, exact), in log order, without content."""
    for record in log.records(
        since=_datetime(since, up=False),
        until=_datetime(until, up=True),
        kinds=kinds,
        log_id=log_id,
        with_content=False,
    ):
        moment = record.time_unix_nano
        if (since is None or moment >= since) and (until is None or moment < until):
            yield record


def open_log(url: str | None = None, *, log_id: str | None = None, settings: Settings | None = None) -> Any:
    """Open the audit log (``llm_soc2.audit.AuditLog.open``); imported lazily so that the span
    processor's enrichers never load the store code."""
    from llm_soc2.audit import AuditLog

    return AuditLog.open(url, log_id=log_id, settings=settings)


def trace_ids(span: ReadableSpan) -> tuple[str, str]:
    """The span's trace and span ids as lower-case hex (32 and 16 characters), as in OTLP/JSON."""
    context = span.context
    if context is None:
        return "", ""
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def span_service(span: ReadableSpan, default: str) -> str:
    resource = getattr(span, "resource", None)
    if resource is not None:
        name = resource.attributes.get(sc.SERVICE_NAME)
        if isinstance(name, str) and name and not name.startswith("unknown_service"):
            return name
    return default


def span_time(span: ReadableSpan) -> int:
    import time

    return span.end_time or span.start_time or time.time_ns()


class BoundedSet:
    """A thread-safe set keeping the ``capacity`` most recently added members (oldest evicted)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        self._items: OrderedDict[Any, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: Any) -> bool:
        """Add ``item``; ``True`` if it was not a member."""
        if item in self._items:
            return False
        with self._lock:
            if item in self._items:
                return False
            self._items[item] = None
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
            return True

    def update(self, items: Collection[Any]) -> None:
        for item in items:
            self.add(item)


def safe_submit(submit: Submit | None, record: AuditRecord, logged: set[str]) -> None:
    """Hand a record to the writer; never raises into the app thread."""
    if submit is None:
        return
    try:
        submit(record)
    except Exception:
        if record.kind not in logged:
            logged.add(record.kind)
            _log.warning(
                "llm-soc2: could not hand a %s record to the audit writer", record.kind, exc_info=True
            )
