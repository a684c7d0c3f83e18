"""The evidence model: what a report holds, independent of how it is rendered.

A :class:`Report` has one :class:`CriterionResult` per criterion. Each result names the control it
tests, its status, the evidence items it relies on, its exceptions and its sample. Every
:class:`EvidenceItem` carries what an auditor needs to rely on system-generated information: the
source and its location, the query and its parameters, the period, the record count, the time it was
generated and the SHA-256 of every file it wrote.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from llm_soc2.report.criteria import Control, Criterion

Status = Literal["effective", "exceptions", "not evidenced"]
EFFECTIVE: Final = "effective"
EXCEPTIONS: Final = "exceptions"
NOT_EVIDENCED: Final = "not evidenced"
STATUSES: Final = (EFFECTIVE, EXCEPTIONS, NOT_EVIDENCED)

# How many exceptions a criterion lists inline; the rest are counted (and in the evidence files).
MAX_LISTED_EXCEPTIONS: Final = 50

NS_PER_S: Final = 1_000_000_000
DAY_NS: Final = 86_400 * NS_PER_S


def utc(dt: datetime) -> datetime:
    """``dt`` as an aware UTC datetime (naive values are taken as UTC)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def to_ns(dt: datetime) -> int:
    dt = utc(dt)
    return int(dt.timestamp()) * NS_PER_S + dt.microsecond * 1000


def from_ns(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // NS_PER_S, UTC).replace(microsecond=(ns % NS_PER_S) // 1000)


def iso(dt: datetime | None) -> str:
    return "" if dt is None else utc(dt).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        object.__setattr__(self, "end", utc(self.end))

    @property
    def start_ns(self) -> int:
        return to_ns(self.start)

    @property
    def end_ns(self) -> int:
        return to_ns(self.end)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def days(self) -> float:
        return self.seconds / 86400

    def to_json(self) -> dict[str, str]:
        return {"start": iso(self.start), "end": iso(self.end)}


@dataclass(frozen=True)
class FileRef:
    """A file of the bundle, by its path relative to the bundle root."""

    path: str
    sha256: str
    size: int
    rows: int | None = None
    media_type: str = "text/csv"


@dataclass
class EvidenceItem:
    id: str  # "audit.interactions", "prometheus.availability" ...
    title: str
    source: str  # audit | prometheus | grafana
    location: str  # store URL or server URL, credentials removed
    query: str  # the query, filter or API call
    parameters: dict[str, Any]
    period: Period
    record_count: int
    generated_at: datetime
    files: list[FileRef] = field(default_factory=list)
    description: str = ""


@dataclass(frozen=True)
class ExceptionItem:
    description: str
    reference: str = ""  # "seq 1234", "rule llm-error-rate", "model gpt-4o" ...
    time: datetime | None = None
    count: int = 1  # records this exception stands for


@dataclass
class Sample:
    population: str
    population_size: int
    size: int
    seed: str  # hex; the sample is the `size` members with the smallest SHA-256(seed:member)
    frequency: str
    rationale: str
    members: list[str] = field(default_factory=list)
    file: FileRef | None = None

    method: str = (
        "Members are ordered by SHA-256(seed_hex + ':' + member_id) and the first `size` are taken "
        "(bottom-k sampling: uniform, without replacement, reproducible from the seed)."
    )


@dataclass(frozen=True)
class SourceStatus:
    name: str  # audit | prometheus | grafana
    requested: bool
    ok: bool
    location: str = ""
    error: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.requested and not self.ok


@dataclass
class CriterionResult:
    criterion: Criterion
    control: Control
    status: Status
    summary: str  # one or two sentences: what was tested and found
    reason: str = ""  # why not evidenced, or what the exceptions mean
    figures: dict[str, Any] = field(default_factory=dict)  # label -> number or text
    evidence: list[str] = field(default_factory=list)  # evidence item ids
    exceptions: list[ExceptionItem] = field(default_factory=list)  # at most MAX_LISTED_EXCEPTIONS
    exceptions_total: int = 0  # records in exception, all of them
    exception_items: int = 0  # exceptions found (``exceptions`` lists the first MAX_LISTED_EXCEPTIONS)
    tested: int = 0  # population members the rule was applied to
    sample: str | None = None  # population name of the sample
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    report_id: str
    report_type: int  # 1 = design at a point in time, 2 = operating effectiveness over the period
    period: Period
    generated_at: datetime
    version: str
    seed: str
    system: dict[str, Any]  # service names, log ids, settings the rules used
    sources: list[SourceStatus]
    criteria: list[CriterionResult]
    evidence: list[EvidenceItem]
    samples: list[Sample]
    integrity: dict[str, Any]  # verification result bound to a checkpoint
    charts: dict[str, Any]  # plain data the renderers draw

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for result in self.criteria:
            counts[result.status] += 1
        return counts

    def evidence_by_id(self) -> dict[str, EvidenceItem]:
        return {item.id: item for item in self.evidence}

    def sample_for(self, population: str | None) -> Sample | None:
        for sample in self.samples:
            if sample.population == population:
                return sample
        return None


def to_jsonable(value: Any) -> Any:
    """A JSON-able view of the model (datetimes as ISO 8601 UTC, dataclasses as objects)."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Period):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value
