"""Sample sizes follow the control's frequency; selection is reproducible from the seed."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from llm_soc2.report import criteria as cat
from llm_soc2.report.sampling import SIZES, BottomK, frequency_for_rate, member_key, sample_size, select


@pytest.mark.parametrize(
    ("events", "days", "frequency"),
    [(400, 180, "multiple_per_day"), (180, 180, "daily"), (30, 180, "weekly"), (7, 180, "monthly"),
     (2, 180, "quarterly"), (1, 365, "annual"), (0, 180, "annual")],
)  # fmt: skip
def test_frequency_follows_the_event_rate(events: int, days: float, frequency: str) -> None:
    assert frequency_for_rate(events, days) == frequency


def _control(**changes: object) -> cat.Control:
    base = cat.Control("T-1", "CC7.4", "t", "r", "manual", "occurrence", cat.POP_INCIDENTS)
    return cat.Control(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_sizes_follow_the_convention_table() -> None:
    for frequency, (low, high) in SIZES.items():
        assert sample_size(_control(frequency=frequency), 10_000, 180, 2).size == low
        assert sample_size(_control(frequency=frequency, high_risk=True), 10_000, 180, 2).size == high
    # occurrence controls take the frequency of their population
    assert sample_size(_control(), 400, 180, 2).size == 25
    assert sample_size(_control(high_risk=True), 400, 180, 2).size == 60
    # never more than the population, automated controls once, Type I one walkthrough
    decision = sample_size(_control(frequency="daily", high_risk=True), 7, 180, 2)
    assert decision.size == 7
    assert "the whole population" in decision.rationale
    assert sample_size(_control(nature="automated", frequency="continuous"), 10_000, 180, 2).size == 1
    assert sample_size(_control(high_risk=True), 400, 180, 1).size == 1
    assert sample_size(_control(), 0, 180, 2).size == 0


def test_bottom_k_equals_the_auditors_reperformance_in_any_order() -> None:
    members = [f"support-bot:{seq}" for seq in range(5000)]
    streamed: BottomK[int] = BottomK("5eed", capacity=60)
    shuffled = members[:]
    random.Random(3).shuffle(shuffled)
    for member in shuffled:
        streamed.offer(member, int(member.split(":")[1]))
    chosen = [m for m, _ in streamed.take(25)]
    assert chosen == select("5eed", members, 25)
    assert chosen == sorted(members, key=lambda m: member_key("5eed", m))[:25]
    assert [m for m, _ in streamed.take(25)] == chosen[:25]  # a smaller sample is a prefix of a larger one
    assert select("5eee", members, 25) != chosen  # another seed, another sample


def test_selection_is_roughly_uniform() -> None:
    hits: Counter[int] = Counter()
    for seed in range(300):
        for member in select(f"{seed:x}", [str(i) for i in range(10)], 3):
            hits[int(member)] += 1
    assert set(hits) == set(range(10))
    assert max(hits.values()) - min(hits.values()) < 45  # 90 expected each; crude but catches a bias
