"""Fleet-wide drift check: the monitor's tests over two windows of the audit log.

``llm-soc2 drift check --reference START..END --current START..END`` reads the interaction records of
both windows (every process of every service that writes to the log), builds the same histograms the
online monitor keeps -- per (service, model, operation), per 30-minute slot of the day -- and applies the
same decision (:mod:`llm_soc2.drift.detector`): the reference is matched to the current window's
time-of-day mix, p-values are adjusted with Benjamini-Hochberg over every test of the check, effect
floors apply. A single check has no persistence. ``--baseline NAME`` compares with a saved baseline
instead of a reference window.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from llm_soc2.drift.baseline import Baseline
from llm_soc2.drift.detector import (
    SECONDS_PER_DAY,
    TESTED,
    DriftPolicy,
    FeatureResult,
    Key,
    compare,
    decide,
)
from llm_soc2.drift.features import TEXT_CHARS, FeatureSpace, key_of
from llm_soc2.errors import ConfigurationError

FloatArray = NDArray[np.float64]
KIND_INTERACTION: Final = "interaction"
_FLUSH: Final = 200_000  # buffered bin indices per (key, slot) before they are counted
_RELATIVE = re.compile(r"^(?:now)?-(\d+(?:\.\d+)?)([smhdw])$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


# --------------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------------
def parse_time(text: str, now: datetime) -> datetime:
    """``now``, a time relative to now (``now-30m``, ``now-2h``, ``now-7d``, ``now-1w``; or ``-2h``) or
    an ISO 8601 date or date-time (UTC unless it carries an offset)."""
    value = text.strip()
    if value.lower().startswith("now"):
        value = value.lower()
    if value.lower() == "now":
        return now
    match = _RELATIVE.match(value)
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise ConfigurationError(
            f"cannot read the time {text!r}: use an ISO 8601 date or date-time (2026-01-31, "
            "2026-01-31T12:00Z), 'now', or a time relative to now like now-30m, now-2h, now-7d"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_window(text: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``START..END`` -> ``(start, end)``, end exclusive."""
    now = now or datetime.now(UTC)
    start_text, sep, end_text = text.partition("..")
    if not sep or not start_text.strip() or not end_text.strip():
        raise ConfigurationError(
            f"the window {text!r} is not START..END (e.g. 2026-01-01..2026-01-08 or now-2h..now)"
        )
    start = parse_time(start_text, now)
    end = parse_time(end_text, now)
    if end <= start:
        raise ConfigurationError(f"the window {text!r} ends before it starts")
    return start, end


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)


# --------------------------------------------------------------------------------------------------
# Histograms from records
# --------------------------------------------------------------------------------------------------
def response_text(content: Any, limit: int = TEXT_CHARS) -> str | None:
    """The response text of a record's scrubbed content (``content["output"]``: a string, or messages
    whose parts hold ``content``/``text`` strings), at most ``limit`` characters."""
    if not isinstance(content, Mapping):
        return None
    output = content.get("output")
    pieces: list[str] = []
    size = 0

    def walk(value: Any, depth: int) -> None:
        nonlocal size
        if size >= limit or depth > 6:
            return
        if isinstance(value, str):
            pieces.append(value)
            size += len(value)
        elif isinstance(value, Mapping):
            for name in ("content", "text", "parts"):
                if name in value:
                    walk(value[name], depth + 1)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, depth + 1)

    if isinstance(output, str):
        return output[:limit] or None
    walk(output, 0)
    text = " ".join(pieces)[:limit]
    return text or None


class Accumulator:
    """Histograms per (key, time-of-day slot) of interaction records."""

    def __init__(self, space: FeatureSpace, slot_seconds: int) -> None:
        self.space = space
        self.slot_seconds = slot_seconds
        self.slots = SECONDS_PER_DAY // slot_seconds
        self.count = 0
        self.skipped = 0
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self._pending: dict[tuple[Key, int], list[int]] = {}
        self._rows: dict[Key, FloatArray] = {}

    def add(
        self, attributes: Mapping[str, Any], time_unix_nano: int, service: str, text: str | None = None
    ) -> None:
        try:
            key = key_of(attributes, service or "unknown_service")
            bins = self.space.extract(attributes, text, len(text) if text else -1)
        except Exception:
            self.skipped += 1
            return
        slot = int(((time_unix_nano // 1_000_000_000) % SECONDS_PER_DAY) // self.slot_seconds)
        pending = self._pending.setdefault((key, slot), [])
        pending.extend(bins)
        if len(pending) > _FLUSH:
            self._flush(key, slot)
        self.count += 1
        self.first_ns = time_unix_nano if self.first_ns is None else min(self.first_ns, time_unix_nano)
        self.last_ns = time_unix_nano if self.last_ns is None else max(self.last_ns, time_unix_nano)

    def add_record(self, record: Any) -> None:
        """Add an audit record (``attributes``, ``time_unix_nano``, ``service``, ``content``)."""
        attributes = getattr(record, "attributes", None)
        if not isinstance(attributes, Mapping):
            self.skipped += 1
            return
        self.add(attributes, int(record.time_unix_nano), str(record.service), response_text(record.content))

    def _flush(self, key: Key, slot: int) -> None:
        bins = self._pending.pop((key, slot), None)
        if not bins:
            return
        rows = self._rows.get(key)
        if rows is None:
            rows = self._rows[key] = np.zeros((self.slots, self.space.size), dtype=np.float64)
        rows[slot] += self.space.histogram(bins)

    def profiles(self) -> dict[Key, FloatArray]:
        """``slots x size`` histograms per key."""
        for key, slot in list(self._pending):
            self._flush(key, slot)
        return self._rows

    def by_slot(self) -> dict[Key, dict[int, FloatArray]]:
        """Non-empty slot rows per key (the form :func:`compare` takes for a current window)."""
        return {
            key: {slot: rows[slot] for slot in range(rows.shape[0]) if rows[slot].any()}
            for key, rows in self.profiles().items()
        }


# --------------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WindowSummary:
    source: str  # "window" or "baseline:<name>"
    start: str
    end: str
    records: int
    keys: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "records": self.records,
            "keys": self.keys,
        }


@dataclass
class CheckReport:
    reference: WindowSummary
    current: WindowSummary
    policy: DriftPolicy
    results: list[FeatureResult]
    notes: list[str] = field(default_factory=list)

    @property
    def drift(self) -> bool:
        return any(r.flagged for r in self.results)

    @property
    def flagged(self) -> list[FeatureResult]:
        return [r for r in self.results if r.flagged]

    def to_dict(self) -> dict[str, Any]:
        tested = [r for r in self.results if r.status == TESTED]
        return {
            "drift": self.drift,
            "reference": self.reference.to_dict(),
            "current": self.current.to_dict(),
            "policy": self.policy.as_dict(),
            "tests": len(tested),
            "flagged": len(self.flagged),
            "notes": list(self.notes),
            "results": [r.to_dict() for r in self.results],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)

    def table(self) -> str:
        """A human-readable table: tested features (drift first), then what could not be tested."""
        header = ("key", "feature", "effect", "threshold", "p (BH)", "n ref", "n cur", "result")
        rows: list[tuple[str, ...]] = []
        tested = sorted(
            (r for r in self.results if r.status == TESTED),
            key=lambda r: (not r.flagged, r.key, r.feature),
        )
        for r in tested:
            rows.append(
                (
                    "/".join(r.key),
                    r.feature,
                    f"{r.effect_name} {r.effect:.3f}",
                    f"{r.threshold:g}",
                    f"{r.p_adjusted:.2g}",
                    f"{r.n_reference:.0f}",
                    str(r.n_current),
                    ("DRIFT" + (f"  {'; '.join(r.top[:2])}" if r.top else "")) if r.flagged else "ok",
                )
            )
        widths = [
            max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)
        ]
        lines = [
            f"reference: {self.reference.source} {self.reference.start} .. {self.reference.end} "
            f"({self.reference.records} interactions)",
            f"current:   {self.current.start} .. {self.current.end} ({self.current.records} interactions)",
            "",
            "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        ]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        untested = [r for r in self.results if r.status != TESTED]
        if untested:
            counts: dict[str, int] = {}
            for r in untested:
                counts[r.status] = counts.get(r.status, 0) + 1
            detail = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items()))
            lines.append(
                f"not tested: {detail} (minimum {self.policy.min_current} current, "
                f"{self.policy.min_reference} reference)"
            )
        lines.extend(self.notes)
        verdict = (
            f"drift: {len(self.flagged)} of {sum(1 for r in self.results if r.status == TESTED)} tests"
            if self.drift
            else "no drift"
        )
        lines.append(verdict)
        return "\n".join(lines)


def compare_windows(
    space: FeatureSpace,
    reference: Mapping[Key, FloatArray],
    current: Mapping[Key, Mapping[int, FloatArray]],
    policy: DriftPolicy,
) -> list[FeatureResult]:
    """Every current key against its reference profile, decided together (one BH family)."""
    results: list[FeatureResult] = []
    for key in sorted(current):
        results.extend(compare(space, key, reference.get(key), current[key], policy))
    return decide(results, policy)


def _iso(moment: datetime | int | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, int):
        moment = datetime.fromtimestamp(moment / 1e9, UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def read_records(records: Iterable[Any], accumulator: Accumulator, start_ns: int, end_ns: int) -> None:
    for record in records:
        t = int(getattr(record, "time_unix_nano", 0))
        if start_ns <= t < end_ns and getattr(record, "kind", KIND_INTERACTION) == KIND_INTERACTION:
            accumulator.add_record(record)


def check_log(
    log: Any,
    *,
    current: tuple[datetime, datetime],
    reference: tuple[datetime, datetime] | None = None,
    baseline: Baseline | None = None,
    policy: DriftPolicy | None = None,
    log_id: str | None = None,
    space: FeatureSpace | None = None,
) -> CheckReport:
    """Run the drift check over an :class:`~llm_soc2.audit.AuditLog` (anything with ``records(since=,
    until=, kinds=, log_id=)``). Raises ConfigurationError for an empty window."""
    if (reference is None) == (baseline is None):
        raise ConfigurationError("give either a reference window or a baseline")
    policy = policy or DriftPolicy()
    space = baseline.space if baseline is not None else (space or FeatureSpace())
    if baseline is not None and baseline.slot_seconds != policy.slot_seconds:
        raise ConfigurationError("the baseline's slot length differs from the policy's")
    notes: list[str] = []

    ref_profiles: Mapping[Key, FloatArray]
    if reference is not None:
        ref_acc = Accumulator(space, policy.slot_seconds)
        start, end = reference
        read_records(
            log.records(since=start, until=end, kinds=[KIND_INTERACTION], log_id=log_id),
            ref_acc,
            _ns(start),
            _ns(end),
        )
        if ref_acc.count == 0:
            raise ConfigurationError(
                f"no interaction records in the reference window {_iso(start)} .. {_iso(end)}"
            )
        ref_profiles = ref_acc.profiles()
        ref_summary = WindowSummary("window", _iso(start), _iso(end), ref_acc.count, len(ref_profiles))
        if end - start < timedelta(days=1):
            notes.append(
                "note: the reference covers less than a day; parts of the day may be compared with a pooled reference"
            )
    else:
        assert baseline is not None
        ref_profiles = baseline.profiles
        ref_summary = WindowSummary(
            f"baseline:{baseline.name}",
            _iso(baseline.start_unix_nano or None),
            _iso(baseline.end_unix_nano or None),
            baseline.count,
            len(ref_profiles),
        )

    cur_acc = Accumulator(space, policy.slot_seconds)
    start, end = current
    read_records(
        log.records(since=start, until=end, kinds=[KIND_INTERACTION], log_id=log_id),
        cur_acc,
        _ns(start),
        _ns(end),
    )
    if cur_acc.count == 0:
        raise ConfigurationError(f"no interaction records in the current window {_iso(start)} .. {_iso(end)}")
    current_rows = cur_acc.by_slot()
    results = compare_windows(space, ref_profiles, current_rows, policy)
    missing = sorted(set(ref_profiles) - set(current_rows))
    if missing:
        notes.append("no current data for: " + ", ".join("/".join(k) for k in missing))
    skipped = cur_acc.skipped + (0 if reference is None else ref_acc.skipped)
    if skipped:
        notes.append(f"{skipped} records could not be read and were skipped")
    return CheckReport(
        reference=ref_summary,
        current=WindowSummary("window", _iso(start), _iso(end), cur_acc.count, len(current_rows)),
        policy=policy,
        results=results,
        notes=notes,
    )


def results_equal(a: Sequence[FeatureResult], b: Sequence[FeatureResult], rel: float = 1e-9) -> bool:
    """Whether two checks gave the same results (floats compared to ``rel``)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        dx, dy = x.to_dict(), y.to_dict()
        for name in dx:
            u, v = dx[name], dy[name]
            if isinstance(u, float) and isinstance(v, float):
                if not math.isclose(u, v, rel_tol=rel, abs_tol=1e-12):
                    return False
            elif isinstance(u, dict) and isinstance(v, dict):
                if u.keys() != v.keys() or not all(
                    math.isclose(u[k], v[k], rel_tol=rel, abs_tol=1e-12)
                    if isinstance(u[k], float) and isinstance(v[k], float)
                    else u[k] == v[k]
                    for k in u
                ):
                    return False
            elif u != v:
                return False
    return True
