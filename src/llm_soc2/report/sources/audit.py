"""Raw evidence from the audit log, collected in one streaming pass over the period.

The pass reads every record of the period once, in ``(log_id, seq)`` order, without content, and keeps
only counts, small inventories (models, keys, templates, hosts), the event records (drift, changes,
keys, incidents, disposals: few by nature) and a bounded sample per population. Populations are written
to CSV files as they stream by, so memory does not grow with the number of interactions (the one
exception: one float per interaction for exact latency percentiles, 8 bytes each).

Nothing here judges a control; ``checks/`` does. The log's integrity is verified over the period's
sequence range by :meth:`AuditLog.verify` and bound to the signed checkpoint that covers the period's
last record; verification runs on a thread beside the pass (``AuditLog.verify`` spreads a large range
over worker processes). For a large period of one log, a child process streams the second half of the
pass (``scan_child``) and its facts are merged: the result is the same, byte for byte, as one pass.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import time
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Final

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord, SignedCheckpoint, load_trusted_checkpoints
from llm_soc2.audit.record import (
    KIND_APPROVAL,
    KIND_BASELINE,
    KIND_CHANGE,
    KIND_DRIFT,
    KIND_ERASURE,
    KIND_INCIDENT,
    KIND_INTERACTION,
    KIND_KEY,
    KIND_PURGE,
    VERSION_BYTE,
    to_json_dict,
)
from llm_soc2.audit.store import RecordFilter
from llm_soc2.config import Settings
from llm_soc2.errors import LLMSoc2Error, SourceError, StoreError
from llm_soc2.report import criteria as cat
from llm_soc2.report.evidence import DAY_NS, NS_PER_S, Period, from_ns, iso
from llm_soc2.report.sampling import MAX_SAMPLE, BottomK
from llm_soc2.report.sources import redact_url, scan_child

_loads: Callable[[bytes], Any]
try:  # orjson (a core dependency) decodes record bodies about twice as fast as json
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - exercised when orjson is absent
    _loads = json.loads

RISK_EVENT_LEVELS: Final = frozenset({"high", "critical"})
EVENT_KINDS: Final = (KIND_DRIFT, KIND_BASELINE, KIND_CHANGE, KIND_APPROVAL, KIND_KEY, KIND_INCIDENT,
                      KIND_ERASURE, KIND_PURGE)  # fmt: skip
HISTORY_KINDS: Final = (KIND_CHANGE, KIND_APPROVAL, KIND_KEY, KIND_INCIDENT)  # read before the period too
MAX_EVENTS: Final = 200_000  # event records kept per kind (drift transitions, changes ...)
MAX_LISTED: Final = 10_000  # exception records kept per kind (the counts stay exact)
PARALLEL_SCAN_FROM: Final = 100_000  # records: a child process streams half of one log's period

INTERACTION_COLUMNS: Final = (
    "log_id", "seq", "time", "service", "trace_id", "span_id", "subject", "provider", "model", "operation",
    "error_type", "duration_s", "input_tokens", "output_tokens", "risk_level", "risk_score",
    "risk_categories", "pii_count", "pii_types", "pii_input_count", "pii_output_count", "scrub_error",
    "api_key_fingerprint", "api_key_known", "template_hash", "change_approved", "content_stored",
)  # fmt: skip
EVENT_COLUMNS: Final = ("log_id", "seq", "time", "kind", "service", "subject", "trace_id", "attributes")
CHECKPOINT_COLUMNS: Final = ("log_id", "time", "size", "root", "signers", "note")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value:
        return int(value)
    return 0


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_PREFIX: dict[int, str] = {}


def _iso_ns(ns: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` for a Unix time in nanoseconds (cheap: one cached date per day)."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    day, second_of_day = divmod(seconds, 86400)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = _DAY_PREFIX[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%dT")
    hours, rest = divmod(second_of_day, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}.{fraction // 1000:06d}Z"


@dataclass
class ModelStats:
    provider: str
    model: str
    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    first_ns: int = 0
    last_ns: int = 0
    error_types: Counter[str] = field(default_factory=Counter)
    durations: array[float] = field(default_factory=lambda: array("d"))
    pii_input_calls: int = 0
    pii_input_types: Counter[str] = field(default_factory=Counter)
    pii_subjects: set[str] = field(default_factory=set)
    hosts: Counter[str] = field(default_factory=Counter)
    quantiles: dict[float, float | None] | None = field(default=None, repr=False)  # computed once, on demand


@dataclass
class Usage:
    """First/last use and counts of one API-key fingerprint or prompt-template hash."""

    id: str
    first_ns: int
    last_ns: int
    calls: int = 0
    models: set[str] = field(default_factory=set)
    flagged_true: int = 0  # api_key.known / change.approved is true
    flagged_false: int = 0


def _count_use(table: dict[str, Usage], name: Any, t: int, model: str, flag: Any) -> None:
    """One call with a key fingerprint or template hash (``flag``: api_key.known / change.approved)."""
    usage = table.get(name)
    if usage is None:
        usage = table[name] = Usage(str(name), t, t)
    usage.calls += 1
    if t > usage.last_ns:
        usage.last_ns = t
    elif t < usage.first_ns:
        usage.first_ns = t
    usage.models.add(model)
    if flag is True:
        usage.flagged_true += 1
    elif flag is False:
        usage.flagged_false += 1


@dataclass
class Event:
    """A compact copy of a non-interaction record."""

    log_id: str
    seq: int
    time_ns: int
    kind: str
    service: str
    subject: str
    trace_id: str
    attributes: Mapping[str, Any]


@dataclass
class SampledRecord:
    member_id: str
    log_id: str
    seq: int
    record: dict[str, Any]
    proof: dict[str, Any] | None = None
    note: str = ""


@dataclass
class PopulationInfo:
    name: str
    path: str  # relative to the bundle root
    rows: int
    columns: tuple[str, ...]
    query: str
    parameters: dict[str, Any]
    sampler: BottomK[tuple[str, int]]


@dataclass
class LogIntegrity:
    log_id: str
    first_seq: int
    last_seq: int
    records_in_period: int
    size: int = 0
    covering: SignedCheckpoint | None = None
    verify: dict[str, Any] = field(default_factory=dict)
    verify_ok: bool = False
    verify_error: str = ""


@dataclass
class AuditFacts:
    location: str
    period: Period
    generated_at: datetime
    log_id_filter: str | None
    log_ids: list[str]
    total_records: int
    kinds: Counter[str]
    interactions: int = 0
    errors: int = 0
    error_types: Counter[str] = field(default_factory=Counter)
    models: dict[tuple[str, str], ModelStats] = field(default_factory=dict)
    operations: Counter[str] = field(default_factory=Counter)
    services: Counter[str] = field(default_factory=Counter)
    daily: dict[int, list[int]] = field(default_factory=dict)  # day -> [calls, errors, risk events, pii]
    risk_assessed: int = 0
    risk_levels: Counter[str] = field(default_factory=Counter)
    risk_categories: Counter[str] = field(default_factory=Counter)
    risk_events: int = 0
    pii_summarised: int = 0
    pii_interactions: int = 0
    pii_findings: int = 0
    pii_types: Counter[str] = field(default_factory=Counter)
    pii_input_interactions: int = 0
    pii_output_interactions: int = 0
    pii_output_types: Counter[str] = field(default_factory=Counter)
    scrub_errors: int = 0
    scrub_error_with_content: list[tuple[str, int, int]] = field(default_factory=list)
    scrub_error_with_content_total: int = 0
    content_committed: int = 0
    retention_days: int = 0
    retention_cutoff_ns: int = 0
    retention_candidates: int = 0
    retention_violations: list[tuple[str, int, int]] = field(default_factory=list)
    retention_violations_total: int = 0
    keys: dict[str, Usage] = field(default_factory=dict)
    key_flagged: int = 0  # interactions carrying api_key.known
    templates: dict[str, Usage] = field(default_factory=dict)
    change_flagged: int = 0  # interactions carrying change.approved
    unapproved: int = 0
    unapproved_versions: Counter[str] = field(default_factory=Counter)
    unapproved_first_ns: dict[str, int] = field(default_factory=dict)
    events: dict[str, list[Event]] = field(default_factory=dict)  # kind -> records in the period
    history: dict[str, list[Event]] = field(default_factory=dict)  # kind -> records before the period
    events_truncated: dict[str, int] = field(default_factory=dict)
    integrity: dict[str, LogIntegrity] = field(default_factory=dict)
    checkpoints_in_period: int = 0
    checkpoint_times: list[int] = field(default_factory=list)
    populations: dict[str, PopulationInfo] = field(default_factory=dict)
    samples: dict[str, list[SampledRecord]] = field(default_factory=dict)
    undecodable: list[tuple[str, int]] = field(default_factory=list)  # (log_id, seq) of unreadable bodies
    per_model: dict[str, ModelStats] | None = field(
        default=None, repr=False
    )  # models merged across providers
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds since the start, cumulative


class _Population:
    """A CSV population file written while the pass streams, with its sampler."""

    def __init__(self, root: Path, name: str, columns: tuple[str, ...], seed_hex: str,
                 query: str, parameters: dict[str, Any], part: str = "") -> None:  # fmt: skip
        self.rel = f"evidence/audit/{name}.csv"
        path = root / (f"evidence/audit/{name}.{part}.part" if part else self.rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle: IO[str] = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        if not part:  # a part is appended to the main file, which has the header
            self.writer.writerow(columns)
        self.rows = 0
        self.info = PopulationInfo(
            name, self.rel, 0, columns, query, parameters, BottomK(seed_hex, MAX_SAMPLE)
        )
        self.writerow = self.writer.writerow
        self.offer = self.info.sampler.offer

    def add(self, member_id: str, row: Sequence[Any], log_id: str, seq: int) -> None:
        self.writerow(row)
        self.rows += 1
        self.offer(member_id, (log_id, seq))

    def close(self) -> PopulationInfo:
        self.handle.close()
        self.info.rows = self.rows
        return self.info


EVENT_POPULATION: Final = {
    KIND_DRIFT: cat.POP_DRIFT, KIND_BASELINE: cat.POP_DRIFT, KIND_CHANGE: cat.POP_CHANGES,
    KIND_APPROVAL: cat.POP_CHANGES, KIND_KEY: cat.POP_KEYS, KIND_INCIDENT: cat.POP_INCIDENTS,
    KIND_ERASURE: cat.POP_DISPOSALS, KIND_PURGE: cat.POP_DISPOSALS,
}  # fmt: skip


def populations(
    out_dir: Path, seed_hex: str, period: Period, log_id: str | None, part: str = ""
) -> dict[str, _Population]:
    """The population files of a pass (``part``: the files of a child's share, appended later)."""
    since, until = iso(period.start), iso(period.end)
    filter_text = (
        f"records with {since} <= time < {until}" + (f" and log_id = {log_id!r}" if log_id else "")
        + " ordered by (log_id, seq)"
    )  # fmt: skip
    base = {"since": since, "until": until, "log_id": log_id or "(all)"}

    def population(name: str, columns: tuple[str, ...], condition: str) -> _Population:
        query = f"{filter_text}, where {condition}"
        return _Population(out_dir, name, columns, seed_hex, query, dict(base), part)

    return {
        cat.POP_INTERACTIONS: population(cat.POP_INTERACTIONS, INTERACTION_COLUMNS, "kind = 'interaction'"),
        cat.POP_RISK_EVENTS: population(
            cat.POP_RISK_EVENTS, INTERACTION_COLUMNS,
            f"kind = 'interaction' and {sc.RISK_LEVEL} in ('high', 'critical')",
        ),
        cat.POP_PII_FINDINGS: population(
            cat.POP_PII_FINDINGS, INTERACTION_COLUMNS, f"kind = 'interaction' and {sc.PII_COUNT} > 0"
        ),
        cat.POP_DRIFT: population(cat.POP_DRIFT, EVENT_COLUMNS, "kind in ('drift', 'baseline')"),
        cat.POP_CHANGES: population(cat.POP_CHANGES, EVENT_COLUMNS, "kind in ('change', 'approval')"),
        cat.POP_KEYS: population(cat.POP_KEYS, EVENT_COLUMNS, "kind = 'key'"),
        cat.POP_INCIDENTS: population(cat.POP_INCIDENTS, EVENT_COLUMNS, "kind = 'incident'"),
        cat.POP_DISPOSALS: population(cat.POP_DISPOSALS, EVENT_COLUMNS, "kind in ('erasure', 'purge')"),
    }  # fmt: skip


def merge(facts: AuditFacts, part: AuditFacts, pops: dict[str, _Population], out_dir: Path) -> None:
    """Add a child's share of the pass (the later sequence range of the same log) to ``facts``."""
    for name, pop in pops.items():
        info = pop.close()
        shared = part.populations[name]
        part_path = out_dir / f"evidence/audit/{name}.b.part"
        with (out_dir / info.path).open("ab") as target, part_path.open("rb") as source:
            shutil.copyfileobj(source, target, 1 << 20)
        part_path.unlink()
        info.rows += shared.rows
        info.sampler.merge(shared.sampler)
        facts.populations[name] = info
    for name in ("interactions", "errors", "risk_assessed", "risk_events", "pii_summarised", "pii_interactions",
                 "pii_findings", "pii_input_interactions", "pii_output_interactions", "scrub_errors",
                 "scrub_error_with_content_total", "content_committed", "retention_candidates", "key_flagged",
                 "change_flagged", "unapproved"):  # fmt: skip
        setattr(facts, name, getattr(facts, name) + getattr(part, name))
    for name in ("kinds", "error_types", "operations", "services", "risk_levels", "risk_categories", "pii_types",
                 "pii_output_types", "unapproved_versions"):  # fmt: skip
        getattr(facts, name).update(getattr(part, name))
    for label, t in part.unapproved_first_ns.items():
        facts.unapproved_first_ns[label] = min(t, facts.unapproved_first_ns.get(label, t))
    facts.scrub_error_with_content = (facts.scrub_error_with_content + part.scrub_error_with_content)[
        :MAX_LISTED
    ]
    facts.undecodable += part.undecodable
    for day, counts in part.daily.items():
        bucket = facts.daily.setdefault(day, [0, 0, 0, 0])
        for index, value in enumerate(counts):
            bucket[index] += value
    for key, theirs in part.models.items():
        ours = facts.models.get(key)
        if ours is None:
            facts.models[key] = theirs
            continue
        ours.calls += theirs.calls
        ours.errors += theirs.errors
        ours.input_tokens += theirs.input_tokens
        ours.output_tokens += theirs.output_tokens
        ours.first_ns = min(ours.first_ns, theirs.first_ns)
        ours.last_ns = max(ours.last_ns, theirs.last_ns)
        ours.error_types.update(theirs.error_types)
        ours.durations.extend(theirs.durations)
        ours.pii_input_calls += theirs.pii_input_calls
        ours.pii_input_types.update(theirs.pii_input_types)
        ours.pii_subjects |= theirs.pii_subjects
        ours.hosts.update(theirs.hosts)
    for usages, other in ((facts.keys, part.keys), (facts.templates, part.templates)):
        for ident, usage in other.items():
            known = usages.get(ident)
            if known is None:
                usages[ident] = usage
                continue
            known.calls += usage.calls
            known.first_ns = min(known.first_ns, usage.first_ns)
            known.last_ns = max(known.last_ns, usage.last_ns)
            known.models |= usage.models
            known.flagged_true += usage.flagged_true
            known.flagged_false += usage.flagged_false
    for kind, kept in part.events.items():
        facts.events.setdefault(kind, []).extend(kept)
    for kind, dropped in part.events_truncated.items():
        facts.events_truncated[kind] = facts.events_truncated.get(kind, 0) + dropped
    for lid, theirs_range in part.integrity.items():
        ours_range = facts.integrity.get(lid)
        if ours_range is None:
            facts.integrity[lid] = theirs_range
        else:
            ours_range.first_seq = min(ours_range.first_seq, theirs_range.first_seq)
            ours_range.last_seq = max(ours_range.last_seq, theirs_range.last_seq)
            ours_range.records_in_period += theirs_range.records_in_period


def open_log(url: str | None, settings: Settings, log_id: str | None) -> AuditLog:
    """Open the audit log for reading, turning every failure into a clear StoreError."""
    target = url or settings.resolved_audit_url
    if target.startswith("sqlite:///"):
        path = Path(target[len("sqlite:///") :])
        if not path.exists():
            raise StoreError(
                f"audit store {target} does not exist: check --url / LLM_SOC2_AUDIT_URL "
                "(the default is $LLM_SOC2_DATA_DIR/audit.db)"
            )
    try:
        log = AuditLog.open(target, log_id=log_id, settings=settings)
        known = log.log_ids()
    except LLMSoc2Error:
        raise
    except Exception as exc:  # a driver error that the store did not wrap
        raise StoreError(f"cannot open audit store {redact_url(target)}: {exc}") from exc
    if log_id is not None and log_id not in known:
        log.close()
        listed = ", ".join(repr(k) for k in known) or "none"
        raise StoreError(f"audit log id {log_id!r} is not in {redact_url(target)} (log ids there: {listed})")
    return log


def extent(log: AuditLog, log_id: str | None) -> tuple[datetime, datetime] | None:
    """From the first to just after the last record (by append order) of the log(s); None when empty."""
    first: int | None = None
    last: int | None = None
    for lid in [log_id] if log_id else log.store.log_ids():
        size = log.size(lid)
        for seq in (0, size - 1) if size else ():
            for row in log.store.iter_records(RecordFilter(log_id=lid, start_seq=seq, end_seq=seq + 1)):
                t = int(row.columns[0])  # type: ignore[call-overload]
                first = t if first is None else min(first, t)
                last = t if last is None else max(last, t)
    if first is None or last is None:
        return None
    return from_ns(first - first % NS_PER_S), from_ns(last - last % NS_PER_S + NS_PER_S)


def count(log: AuditLog, period: Period, log_id: str | None) -> int:
    """Records in the period; raises SourceError, saying so, when there is none."""
    total = log.count(since=period.start, until=period.end, log_id=log_id)
    if total == 0:
        raise SourceError(
            f"the audit log {redact_url(log.url)} holds no record between {iso(period.start)} and "
            f"{iso(period.end)}{f' for log id {log_id!r}' if log_id else ''}: choose a period with data "
            "(--from/--to)"
        )
    return total


def collect(
    log: AuditLog,
    period: Period,
    out_dir: Path,
    *,
    seed_hex: str,
    generated_at: datetime,
    settings: Settings,
    log_id: str | None = None,
    trusted: Sequence[Path] = (),
    progress: Callable[[int, int], None] | None = None,
) -> AuditFacts:
    """Stream the period once and return the facts (population files are written under ``out_dir``)."""
    started = time.monotonic()
    since = period.start
    total = count(log, period, log_id)
    facts = AuditFacts(
        location=redact_url(log.url),
        period=period,
        generated_at=generated_at,
        log_id_filter=log_id,
        log_ids=[log_id] if log_id else log.log_ids(),
        total_records=total,
        kinds=Counter(),
        retention_days=settings.retention_days,
        retention_cutoff_ns=period.end_ns - settings.retention_days * DAY_NS,
    )
    pops = populations(out_dir, seed_hex, period, log_id)
    verification = _Verification(log, settings, [str(p) for p in trusted])
    helper: subprocess.Popen[bytes] | None = None
    try:
        estimates = verification.start(facts.log_ids, period)
        facts.timings["start verification"] = time.monotonic() - started
        seqs: tuple[int, int] | None = None
        shown = progress
        scanned = log_id
        if total >= PARALLEL_SCAN_FROM and len(facts.log_ids) == 1 and facts.log_ids[0] in estimates:
            # one log: a child process streams the second half of the period's sequence range
            scanned = facts.log_ids[0]
            lo, hi = estimates[scanned]
            middle = (lo + hi) // 2
            helper = scan_child.start(
                scan_child.request(
                    log.url, settings, period, scanned, (middle, log.size(scanned)), out_dir, seed_hex
                )
            )
            seqs = (0, middle)
            share = max(1, int(total * (middle - lo) / max(1, hi - lo)))
            if progress is not None:
                report_progress = progress

                def shown(done: int, _total: int) -> None:
                    report_progress(min(done, share), share)

        _stream(log, facts, pops, EVENT_POPULATION, scanned, total, shown, seqs)
        if helper is not None:
            part = scan_child.result(helper)
            helper = None
            merge(facts, part, pops, out_dir)
            if progress is not None:
                progress(total, total)
        facts.timings["stream"] = time.monotonic() - started
    except LLMSoc2Error:
        verification.close()
        raise
    except Exception as exc:
        verification.close()
        raise StoreError(f"cannot read the audit log {facts.location}: {exc}") from exc
    finally:
        if helper is not None:
            helper.kill()
            helper.wait()
        for name, pop in pops.items():
            if name not in facts.populations:
                facts.populations[name] = pop.close()

    try:
        for kind in HISTORY_KINDS:
            facts.history[kind] = []
        for record in log.records(until=since, kinds=HISTORY_KINDS, log_id=log_id, with_content=False):
            facts.history[record.kind].append(_event(record))
        if facts.retention_candidates:
            _retention(log, facts, log_id)
        facts.timings["history"] = time.monotonic() - started
        _checkpoints(log, facts, out_dir)
        facts.timings["checkpoints"] = time.monotonic() - started
        verification.finish(facts)
        facts.timings["verification"] = time.monotonic() - started
    finally:
        verification.close()
    _samples(log, facts)
    facts.timings["samples"] = time.monotonic() - started
    facts.seconds = time.monotonic() - started
    return facts


def _event(record: AuditRecord) -> Event:
    return Event(
        record.log_id, record.seq or 0, record.time_unix_nano, record.kind, record.service,
        record.subject, record.trace_id, record.attributes,
    )  # fmt: skip


def _event_of(doc: dict[str, Any]) -> Event:
    return Event(
        doc["log_id"], doc["seq"], doc["time_unix_nano"], doc["kind"], doc["service"], doc["subject"],
        doc["trace_id"], doc["attributes"],
    )  # fmt: skip


def _documents(
    log: AuditLog, period: Period, log_id: str | None, facts: AuditFacts, seqs: tuple[int, int] | None = None
) -> Iterator[dict[str, Any]]:
    """The period's record bodies, decoded, in ``(log_id, seq)`` order.

    Rows are read from the store by log id and sequence range with the time bounds as a filter, which
    walks the primary key (no sort of the period's rows), and each body (``0x01 || canonical JSON``,
    see ``llm_soc2.audit.record``) is decoded once, with orjson when it is installed. A body in an
    unknown format is counted (verification reports it) and skipped.
    """
    store = log.store
    for lid in [log_id] if log_id else store.log_ids():
        first, end = seqs if seqs is not None else (0, store.size(lid))
        where = RecordFilter(
            log_id=lid, since_ns=period.start_ns, until_ns=period.end_ns, start_seq=first, end_seq=end
        )
        for row in store.iter_records(where):
            body = row.body
            if body[:1] != VERSION_BYTE:
                facts.undecodable.append((lid, row.seq))
                continue
            try:
                doc = _loads(body[1:])
            except ValueError:
                facts.undecodable.append((lid, row.seq))
                continue
            yield doc


def _stream(
    log: AuditLog,
    facts: AuditFacts,
    pops: dict[str, _Population],
    event_population: dict[str, str],
    log_id: str | None,
    total: int,
    progress: Callable[[int, int], None] | None,
    seqs: tuple[int, int] | None = None,
) -> None:
    """The one pass, or one part of it (``seqs``: a sequence range of a single log). Written for speed:
    names are bound to locals, values go to the CSV as they are."""
    period = facts.period
    start_ns = period.start_ns
    add_interaction = pops[cat.POP_INTERACTIONS].add
    add_risk = pops[cat.POP_RISK_EVENTS].add
    add_pii = pops[cat.POP_PII_FINDINGS].add
    models = facts.models
    daily = facts.daily
    keys = facts.keys
    templates = facts.templates
    kinds = facts.kinds
    error_types = facts.error_types
    operations = facts.operations
    services = facts.services
    risk_levels = facts.risk_levels
    risk_categories = facts.risk_categories
    pii_types = facts.pii_types
    pii_output_types = facts.pii_output_types
    retention_cutoff = facts.retention_cutoff_ns
    risk_event_levels = RISK_EVENT_LEVELS
    (model_attr, response_model_attr, provider_attr, system_attr, error_attr, input_tokens_attr,
     output_tokens_attr, duration_attr, host_attr, server_attr, operation_attr, level_attr, categories_attr,
     score_attr, pii_count_attr, pii_types_attr, pii_in_attr, pii_in_types_attr, pii_out_attr,
     pii_out_types_attr, user_attr, scrub_attr, fingerprint_attr, known_attr, template_attr, approved_attr,
     unapproved_attr) = (
        sc.GEN_AI_REQUEST_MODEL, sc.GEN_AI_RESPONSE_MODEL, sc.GEN_AI_PROVIDER_NAME, sc.GEN_AI_SYSTEM,
        sc.ERROR_TYPE, sc.GEN_AI_USAGE_INPUT_TOKENS, sc.GEN_AI_USAGE_OUTPUT_TOKENS, sc.DURATION,
        sc.PROVIDER_HOST, sc.SERVER_ADDRESS, sc.GEN_AI_OPERATION_NAME, sc.RISK_LEVEL, sc.RISK_CATEGORIES,
        sc.RISK_SCORE, sc.PII_COUNT, sc.PII_TYPES, sc.PII_INPUT_COUNT, sc.PII_INPUT_TYPES, sc.PII_OUTPUT_COUNT,
        sc.PII_OUTPUT_TYPES, sc.END_USER_HASH, sc.SCRUB_ERROR, sc.API_KEY_FINGERPRINT, sc.API_KEY_KNOWN,
        sc.PROMPT_TEMPLATE_HASH, sc.CHANGE_APPROVED, sc.CHANGE_UNAPPROVED_VERSIONS,
    )  # fmt: skip
    ranges: dict[str, list[int]] = {}  # log_id -> [first, last, count]
    done = 0
    for record in _documents(log, period, log_id, facts, seqs):
        done += 1
        if progress is not None and not done % 20_000:
            progress(done, total)
        lid = record["log_id"]
        seq = record["seq"]
        span = ranges.get(lid)
        if span is None:
            ranges[lid] = [seq, seq, 1]
        else:
            span[1] = seq
            span[2] += 1
        kind = record["kind"]
        kinds[kind] += 1
        t = record["time_unix_nano"]
        member = f"{lid}:{seq}"
        if kind != KIND_INTERACTION:
            target = event_population.get(kind)
            if target is not None:
                kept = facts.events.setdefault(kind, [])
                if len(kept) < MAX_EVENTS:
                    kept.append(_event_of(record))
                else:
                    facts.events_truncated[kind] = facts.events_truncated.get(kind, 0) + 1
                attrs_json = json.dumps(record["attributes"], sort_keys=True, ensure_ascii=False, default=str)
                pops[target].add(
                    member,
                    (
                        lid,
                        seq,
                        _iso_ns(t),
                        kind,
                        record["service"],
                        record["subject"],
                        record["trace_id"],
                        attrs_json,
                    ),
                    lid,
                    seq,
                )
            continue

        # ------------------------------------------------------------------ interaction
        a = record["attributes"]
        get = a.get
        facts.interactions += 1
        model = get(model_attr) or get(response_model_attr) or ""
        provider = get(provider_attr) or get(system_attr) or ""
        if model.__class__ is not str:
            model = str(model)
        if provider.__class__ is not str:
            provider = str(provider)
        error = get(error_attr)
        error_text = error if error.__class__ is str else (str(error) if error else "")
        day = (t - start_ns) // DAY_NS
        bucket = daily.get(day)
        if bucket is None:
            bucket = daily[day] = [0, 0, 0, 0]
        bucket[0] += 1
        stats = models.get((provider, model))
        if stats is None:
            stats = models[(provider, model)] = ModelStats(provider, model, first_ns=t, last_ns=t)
        stats.calls += 1
        if t < stats.first_ns:
            stats.first_ns = t
        elif t > stats.last_ns:
            stats.last_ns = t
        if error_text:
            facts.errors += 1
            error_types[error_text] += 1
            stats.errors += 1
            stats.error_types[error_text] += 1
            bucket[1] += 1
        input_tokens = get(input_tokens_attr)
        output_tokens = get(output_tokens_attr)
        if input_tokens.__class__ is int:
            stats.input_tokens += input_tokens
        if output_tokens.__class__ is int:
            stats.output_tokens += output_tokens
        duration = get(duration_attr)
        if duration.__class__ is float or duration.__class__ is int:
            stats.durations.append(duration)
        host = get(host_attr) or get(server_attr)
        if host:
            stats.hosts[str(host)] += 1
        operation = get(operation_attr)
        operations[operation or ""] += 1
        services[record["service"]] += 1

        level = get(level_attr)
        categories = get(categories_attr)
        is_risk_event = False
        if level is not None:
            facts.risk_assessed += 1
            risk_levels[level] += 1
            if categories:
                for category in (categories,) if categories.__class__ is str else categories:
                    risk_categories[category] += 1
            if level in risk_event_levels:
                is_risk_event = True
                facts.risk_events += 1
                bucket[2] += 1

        pii_count = get(pii_count_attr)
        pii_in = get(pii_in_attr)
        pii_out = get(pii_out_attr)
        found_types = get(pii_types_attr)
        has_pii = False
        if pii_count is not None:
            facts.pii_summarised += 1
            if pii_count.__class__ is int and pii_count > 0:
                has_pii = True
                facts.pii_interactions += 1
                facts.pii_findings += pii_count
                bucket[3] += 1
                for entity in _list(found_types):
                    pii_types[entity] += 1
            if pii_in.__class__ is int and pii_in > 0:
                facts.pii_input_interactions += 1
                stats.pii_input_calls += 1
                for entity in _list(get(pii_in_types_attr)):
                    stats.pii_input_types[entity] += 1
                subject = record["subject"] or str(get(user_attr) or "")
                if subject:
                    stats.pii_subjects.add(subject)
            if pii_out.__class__ is int and pii_out > 0:
                facts.pii_output_interactions += 1
                for entity in _list(get(pii_out_types_attr)):
                    pii_output_types[entity] += 1

        committed = record["content"] is not None
        if committed:
            facts.content_committed += 1
            if t < retention_cutoff:
                facts.retention_candidates += 1
        scrub_error = get(scrub_attr)
        if scrub_error:
            facts.scrub_errors += 1
            if committed:
                facts.scrub_error_with_content_total += 1
                if len(facts.scrub_error_with_content) < MAX_LISTED:
                    facts.scrub_error_with_content.append((lid, seq, t))

        fingerprint = get(fingerprint_attr)
        known = get(known_attr)
        if fingerprint:
            _count_use(keys, fingerprint, t, model, known)
        if known is not None:
            facts.key_flagged += 1
        template = get(template_attr)
        approved = get(approved_attr)
        if template:
            _count_use(templates, template, t, model, approved)
        if approved is not None:
            facts.change_flagged += 1
            if approved is False:
                facts.unapproved += 1
                for label in _list(get(unapproved_attr)) or [f"model:{model}"]:
                    facts.unapproved_versions[label] += 1
                    if label not in facts.unapproved_first_ns:
                        facts.unapproved_first_ns[label] = t

        row = (
            lid, seq, _iso_ns(t), record["service"], record["trace_id"], record["span_id"], record["subject"], provider,
            model, operation, error_text, duration, input_tokens, output_tokens, level, get(score_attr),
            ";".join(categories) if categories and categories.__class__ is not str else categories,
            pii_count, ";".join(found_types) if found_types and found_types.__class__ is not str else found_types,
            pii_in, pii_out, scrub_error, fingerprint, known, template, approved, "yes" if committed else "no",
        )  # fmt: skip
        add_interaction(member, row, lid, seq)
        if is_risk_event:
            add_risk(member, row, lid, seq)
        if has_pii:
            add_pii(member, row, lid, seq)
    if progress is not None:
        progress(done, total)
    for lid, (first, last, count) in ranges.items():
        facts.integrity[lid] = LogIntegrity(lid, first, last, count)


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def _retention(log: AuditLog, facts: AuditFacts, log_id: str | None) -> None:
    """Records older than the retention period whose content blob is still stored."""
    until = min(facts.period.end_ns, facts.retention_cutoff_ns)
    for record in log.records(
        since=facts.period.start, until=from_ns(until), kinds=(KIND_INTERACTION,), log_id=log_id,
        with_content=True,
    ):  # fmt: skip
        if record.content is not None:
            facts.retention_violations_total += 1
            if len(facts.retention_violations) < MAX_LISTED:
                facts.retention_violations.append((record.log_id, record.seq or 0, record.time_unix_nano))


def _checkpoints(log: AuditLog, facts: AuditFacts, out_dir: Path) -> None:
    """Checkpoints signed in the period (to a CSV) and, per log, the one covering the period's end."""
    rel = "evidence/audit/checkpoints.csv"
    path = out_dir / rel
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CHECKPOINT_COLUMNS)
        for lid in facts.log_ids:
            for signed in log.checkpoints(facts.period.start, facts.period.end, log_id=lid):
                signers = ";".join(f"{s.name}+{s.key_hash:08x}" for s in signed.signatures())
                root = signed.to_json()["root"]
                writer.writerow(
                    (lid, _iso_ns(signed.time_unix_nano), signed.size, root, signers, signed.note)
                )
                facts.checkpoint_times.append(signed.time_unix_nano)
                rows += 1
    facts.checkpoints_in_period = rows
    facts.checkpoint_times.sort()
    facts.populations[cat.POP_CHECKPOINTS] = PopulationInfo(
        cat.POP_CHECKPOINTS, rel, rows, CHECKPOINT_COLUMNS,
        "signed checkpoints stored with the log, signed in the period",
        {"since": iso(facts.period.start), "until": iso(facts.period.end)},
        BottomK("", 0),
    )  # fmt: skip
    for lid, integrity in facts.integrity.items():
        integrity.size = log.size(lid)
        integrity.covering = _covering(log, lid, integrity.last_seq, facts.period)


def _covering(log: AuditLog, log_id: str, last_seq: int, period: Period) -> SignedCheckpoint | None:
    """The first checkpoint whose tree holds ``last_seq``: signed in the period or the day after it,
    else the latest."""
    window_end = period.end + timedelta(days=1)
    for signed in log.checkpoints(period.start, window_end, log_id=log_id):
        if signed.size > last_seq:
            return signed
    latest = log.latest_checkpoint(log_id=log_id)
    if latest is not None and latest.size > last_seq:
        return latest
    return None


def _seq_at(log: AuditLog, log_id: str, time_ns: int, size: int) -> int:
    """The first seq whose record is at or after ``time_ns``, assuming append order follows time (it
    does up to replays of spilled records; the range actually read is checked afterwards)."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        rows = list(log.store.iter_records(RecordFilter(log_id=log_id, start_seq=mid, end_seq=mid + 1)))
        if rows and int(rows[0].columns[0]) < time_ns:  # type: ignore[call-overload]
            lo = mid + 1
        else:
            hi = mid
    return lo


@dataclass
class _Verification:
    """Verification of the period's sequence range, started on a thread before the pass so that it runs
    beside it (``AuditLog.verify`` spreads a large range over worker processes of its own)."""

    log: AuditLog
    settings: Settings
    trusted: list[str]
    pool: ThreadPoolExecutor | None = None
    jobs: dict[str, tuple[int, int, Future[dict[str, Any]]]] = field(default_factory=dict)

    def start(self, log_ids: Sequence[str], period: Period) -> dict[str, tuple[int, int]]:
        """Start verifying; returns the estimated sequence range of the period in each log holding any."""
        estimates: dict[str, tuple[int, int]] = {}
        for lid in log_ids:
            size = self.log.size(lid)
            lo = _seq_at(self.log, lid, period.start_ns, size)
            hi = _seq_at(self.log, lid, period.end_ns, size)
            if hi <= lo:
                continue  # no record of this log in the period (finish() covers any found after all)
            estimates[lid] = (lo, hi)
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-soc2-report-verify")
            self.jobs[lid] = (lo, hi, self.pool.submit(self.run, lid, lo, hi, True))
        return estimates

    def run(self, log_id: str, start: int, end: int, check_nodes: bool) -> dict[str, Any]:
        """Verify ``[start, end)`` of one log with its own connection to the store."""
        trusted = load_trusted_checkpoints([Path(p) for p in self.trusted]) if self.trusted else []
        with AuditLog.open(self.log.url, log_id=log_id, settings=self.settings) as own:
            report = own.verify(start=start, end=end, trusted=trusted, log_id=log_id, check_nodes=check_nodes)
        return report.to_json()

    def finish(self, facts: AuditFacts) -> None:
        for lid, integrity in facts.integrity.items():
            first, end = integrity.first_seq, integrity.last_seq + 1
            job = self.jobs.get(lid)
            if job is not None:
                covered_lo, covered_hi = job[0], job[1]
                edges = ((first, min(covered_lo, end)), (max(covered_hi, first), end))
                extra = [(a, b) for a, b in edges if a < b]
            else:
                extra = [(first, end)]
            results: list[dict[str, Any]] = []
            try:
                if job is not None:
                    results.append(job[2].result())
                for a, b in extra:  # records of the period outside the estimated range (replayed spills)
                    results.append(self.run(lid, a, b, False))
            except LLMSoc2Error as exc:
                integrity.verify_error = str(exc)
                continue
            integrity.verify = _combine(results)
            integrity.verify_ok = bool(integrity.verify.get("ok"))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _combine(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One verification report from the reports of consecutive ranges of one log."""
    if len(results) == 1:
        return results[0]
    bad = next((r for r in results if not r.get("ok")), None)
    combined = dict(bad or results[0])
    for counter in ("records_checked", "content_checked", "content_removed"):
        combined[counter] = sum(int(r.get(counter, 0)) for r in results)
    combined["nodes_checked"] = max(int(r.get("nodes_checked", 0)) for r in results)
    combined["ok"] = bad is None
    combined["notes"] = sorted({n for r in results for n in r.get("notes", [])})
    combined["ranges_verified"] = len(results)
    return combined


def _samples(log: AuditLog, facts: AuditFacts) -> None:
    """Load every record a sampler kept (with content) and its inclusion proof."""
    for name, info in facts.populations.items():
        chosen: list[SampledRecord] = []
        for member_id, (lid, seq) in info.sampler.take(MAX_SAMPLE):
            record = log.record(seq, log_id=lid)
            if record is None:
                continue
            sample = SampledRecord(member_id, lid, seq, to_json_dict(record))
            covering = facts.integrity.get(lid)
            checkpoint = covering.covering if covering else None
            if checkpoint is not None and seq < checkpoint.size:
                try:
                    sample.proof = log.prove(seq, log_id=lid, checkpoint=checkpoint).to_json()
                except LLMSoc2Error as exc:
                    sample.note = f"no inclusion proof: {exc}"
            else:
                sample.note = "no signed checkpoint covers this record: no inclusion proof"
            chosen.append(sample)
        facts.samples[name] = chosen


def events(facts: AuditFacts, kinds: Collection[str], *, history: bool = False) -> list[Event]:
    """Event records of ``kinds`` in the period (and before it, with ``history``), in time order."""
    out: list[Event] = []
    for kind in kinds:
        out.extend(facts.events.get(kind, ()))
        if history:
            out.extend(facts.history.get(kind, ()))
    out.sort(key=lambda e: (e.time_ns, e.log_id, e.seq))
    return out


def flatten(values: Iterable[Any]) -> list[str]:
    return [v for value in values for v in _list(value)]
