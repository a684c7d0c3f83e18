"""Reproducible samples from streamed populations, sized by how often the control operates.

Sample sizes follow the common audit-firm convention for manual controls: annual 1, quarterly 2,
monthly 2-5, weekly 5-15, daily 20-40, several times a day 25-60 (the top of the range for high-risk
controls). An automated control is tested once, because the report itself re-performs the automated
test on 100 % of the population. A Type I report (design at a point in time) takes one item: a
walkthrough.

Selection is bottom-k sampling: each member's key is ``SHA-256(seed_hex ":" member_id)`` and the sample
is the ``k`` members with the smallest keys. It is uniform without replacement, needs one pass and
``k`` records of memory, does not depend on the order members arrive in, and anyone holding the
population file and the seed re-performs it with a few lines of code (see :func:`select`).
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from llm_soc2.report.criteria import Control, Frequency

T = TypeVar("T")

SIZES: Final[dict[str, tuple[int, int]]] = {
    "annual": (1, 1),
    "quarterly": (2, 2),
    "monthly": (2, 5),
    "weekly": (5, 15),
    "daily": (20, 40),
    "multiple_per_day": (25, 60),
}
MAX_SAMPLE: Final = max(high for _, high in SIZES.values())


def frequency_for_rate(count: int, days: float) -> str:
    """The frequency class of a control that operates once per event, from the events' rate."""
    if count <= 0 or days <= 0:
        return "annual"
    per_day = count / days
    if per_day > 1.5:
        return "multiple_per_day"
    if per_day >= 5 / 7:  # most working days
        return "daily"
    if per_day >= 1 / 7:
        return "weekly"
    if per_day >= 1 / 31:
        return "monthly"
    if per_day >= 1 / 92:
        return "quarterly"
    return "annual"


@dataclass(frozen=True)
class SizeDecision:
    size: int
    frequency: str
    rationale: str


def sample_size(control: Control, population_size: int, period_days: float, report_type: int) -> SizeDecision:
    """How many members of ``control``'s population to sample, and why."""
    if population_size <= 0:
        return SizeDecision(0, control.frequency, "empty population: nothing to sample")
    if report_type == 1:
        return SizeDecision(1, control.frequency, "Type I: one walkthrough item")
    if control.nature == "automated":
        return SizeDecision(
            1,
            control.frequency,
            "automated control: tested once (the report re-performs the test on the whole population)",
        )
    frequency: Frequency | str = control.frequency
    if frequency == "occurrence":
        frequency = frequency_for_rate(population_size, period_days)
    elif frequency == "continuous":
        frequency = "multiple_per_day"
    low, high = SIZES[frequency]
    wanted = high if control.high_risk else low
    size = min(wanted, population_size)
    capped = " (the whole population)" if size == population_size and size < wanted else ""
    range_text = f"{low}" if low == high else f"{low}-{high}"
    risk = "top of range, high-risk control" if control.high_risk else "bottom of range"
    return SizeDecision(
        size, frequency, f"{frequency.replace('_', ' ')} control: {range_text} items ({risk}){capped}"
    )


def member_key(seed_hex: str, member_id: str) -> bytes:
    return hashlib.sha256(f"{seed_hex}:{member_id}".encode()).digest()


class BottomK(Generic[T]):
    """Keeps the ``capacity`` members with the smallest keys seen so far (one pass, O(capacity) memory)."""

    def __init__(self, seed_hex: str, capacity: int = MAX_SAMPLE) -> None:
        self._prefix = f"{seed_hex}:".encode()
        self._capacity = capacity
        self._kept: list[tuple[bytes, str, T]] = []  # ascending by key
        self.offered = 0

    def offer(self, member_id: str, item: T) -> None:
        self.offered += 1
        key = hashlib.sha256(self._prefix + member_id.encode()).digest()
        kept = self._kept
        if len(kept) < self._capacity:
            bisect.insort(kept, (key, member_id, item))
        elif kept and key < kept[-1][0]:
            bisect.insort(kept, (key, member_id, item))
            kept.pop()

    def merge(self, other: BottomK[T]) -> None:
        """Add the members another sampler (same seed) kept: the union's smallest keys, as if one had
        seen both streams."""
        self.offered += other.offered
        self._kept = sorted([*self._kept, *other._kept])[: self._capacity]

    def take(self, k: int) -> list[tuple[str, T]]:
        """The ``k`` members with the smallest keys, smallest first."""
        return [(member_id, item) for _, member_id, item in self._kept[:k]]


def select(seed_hex: str, member_ids: Iterable[str], k: int) -> list[str]:
    """Re-perform a sample from a population's member ids (what an auditor would run)."""
    return sorted(member_ids, key=lambda member: member_key(seed_hex, member))[:k]
