"""The decision rule on seeded streams with known shifts: each shift is flagged, stationary seasonal
traffic is not, and the seasonal reference is what makes the difference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from llm_soc2.drift.check import Accumulator
from llm_soc2.drift.detector import (
    INSUFFICIENT,
    NO_REFERENCE,
    POOLED,
    SEASONAL,
    TESTED,
    DriftPolicy,
    FeatureResult,
    compare,
    decide,
)
from llm_soc2.drift.features import FeatureSpace
from llm_soc2.drift.simulate import DAY, Shift, Traffic

POLICY = DriftPolicy()
SEED = 314
KEY = ("svc", "gpt-4o-mini", "chat")


def _accumulate(space: FeatureSpace, traffic: Traffic, begin: float, end: float) -> Accumulator:
    acc = Accumulator(space, POLICY.slot_seconds)
    for _, items in traffic.stream(begin, end, step=600):
        for attributes, text, time_ns in items:
            acc.add(attributes, time_ns, "svc", text)
    return acc


@pytest.fixture(scope="module")
def reference() -> tuple[FeatureSpace, np.ndarray]:
    """One seeded day of traffic: the reference profile (48 half-hour slots)."""
    space = FeatureSpace()
    acc = _accumulate(space, Traffic(SEED), 0, DAY)
    (profile,) = acc.profiles().values()
    return space, profile


def _check(
    space: FeatureSpace, profile: np.ndarray, traffic: Traffic, begin: float, policy: DriftPolicy = POLICY
) -> list[FeatureResult]:
    """Decide one 30-minute window starting ``begin`` seconds after the stream's start."""
    acc = _accumulate(space, traffic, begin, begin + 1800)
    (rows,) = acc.by_slot().values()
    return decide(compare(space, KEY, profile, rows, policy), policy)


def _flagged(results: Sequence[FeatureResult]) -> set[str]:
    return {r.feature for r in results if r.flagged}


def _by_feature(results: Sequence[FeatureResult]) -> Mapping[str, FeatureResult]:
    return {r.feature: r for r in results}


# Windows of the next day spread over the daily cycle (trough at 03:00, peak at 15:00 UTC).
WINDOWS = [DAY + h * 3600 for h in (1, 3, 6, 9, 12, 15, 18, 21)]


def test_stationary_seasonal_traffic_is_not_flagged(reference: tuple[FeatureSpace, np.ndarray]) -> None:
    space, profile = reference
    traffic = Traffic(SEED)  # the same process, later: daily cycle, level noise, stragglers
    for begin in WINDOWS:
        results = _check(space, profile, traffic, begin)
        assert all(r.status == TESTED for r in results)
        assert {r.reference_kind for r in results} == {SEASONAL}
        assert _flagged(results) == set(), begin


def test_a_pooled_reference_would_flag_the_daily_cycle(reference: tuple[FeatureSpace, np.ndarray]) -> None:
    """Without time-of-day matching the same stationary windows look like latency drift (the failure
    mode of fixed-threshold monitors); with it they do not (previous test)."""
    space, profile = reference
    pooled = profile.sum(axis=0, keepdims=True)  # one slot: the whole day mixed together
    policy = DriftPolicy(slot_seconds=86_400)
    traffic = Traffic(SEED)
    flagged = [_flagged(_check(space, pooled, traffic, begin, policy)) for begin in WINDOWS]
    assert sum("latency" in f for f in flagged) >= len(WINDOWS) // 2
    results = _check(space, pooled, traffic, WINDOWS[0], policy)
    assert {r.reference_kind for r in results} == {POOLED}


SHIFTS = [
    (Shift("latency_mean", DAY + 10 * 3600, 0.5), {"latency"}),
    (Shift("length_mean", DAY + 10 * 3600, 0.5), {"response.tokens", "response.chars"}),
    (Shift("length_variance", DAY + 10 * 3600, 2.0), {"response.tokens", "response.chars"}),
    (Shift("category_share", DAY + 10 * 3600, 0.10), {"finish_reason"}),
    (Shift("topic", DAY + 10 * 3600, 0.5), {"response.text"}),
]


@pytest.mark.parametrize(("shift", "expected"), SHIFTS, ids=[s.kind for s, _ in SHIFTS])
def test_each_shift_is_flagged_on_the_features_it_moves(
    reference: tuple[FeatureSpace, np.ndarray], shift: Shift, expected: set[str]
) -> None:
    space, profile = reference
    results = _check(space, profile, Traffic(SEED, shifts=[shift]), shift.start)
    flagged = _flagged(results)
    assert expected <= flagged, (shift.kind, flagged)
    untouched = {"prompt.tokens", "prompt.chars", "risk.score", "pii.rate", "error.type"}
    assert not (flagged & untouched)
    for name in expected:
        r = _by_feature(results)[name]
        assert r.p_adjusted <= POLICY.alpha
        assert r.effect >= r.threshold


def test_variance_doubling_is_decided_by_spread(reference: tuple[FeatureSpace, np.ndarray]) -> None:
    space, profile = reference
    shift = Shift("length_variance", DAY + 10 * 3600, 2.0)
    tokens = _by_feature(_check(space, profile, Traffic(SEED, shifts=[shift]), shift.start))[
        "response.tokens"
    ]
    assert tokens.effect_name == "spread"
    assert tokens.scores["spread"] > 0.2


def test_category_change_names_the_categories(reference: tuple[FeatureSpace, np.ndarray]) -> None:
    space, profile = reference
    shift = Shift("category_share", DAY + 10 * 3600, 0.10)
    finish = _by_feature(_check(space, profile, Traffic(SEED, shifts=[shift]), shift.start))["finish_reason"]
    assert finish.top
    assert finish.top[0].split(":")[0] in ("tool_calls", "stop")
    assert finish.effect_name == "cohen_h"


def test_small_windows_are_not_tested(reference: tuple[FeatureSpace, np.ndarray]) -> None:
    space, profile = reference
    acc = _accumulate(space, Traffic(SEED, rate=0.02), DAY, DAY + 1800)  # ~36 interactions
    (rows,) = acc.by_slot().values()
    results = decide(compare(space, KEY, profile, rows, POLICY), POLICY)
    assert {r.status for r in results} <= {INSUFFICIENT, "no_current_data"}
    assert not any(r.flagged for r in results)


def test_a_key_without_reference_is_reported_not_flagged() -> None:
    space = FeatureSpace()
    acc = _accumulate(space, Traffic(SEED), 0, 1800)
    (rows,) = acc.by_slot().values()
    results = compare(space, KEY, None, rows, POLICY)
    assert {r.status for r in results} == {NO_REFERENCE}


def test_benjamini_hochberg_spans_the_whole_check() -> None:
    base = dict(
        service="s",
        model="m",
        operation="o",
        kind="categorical",
        status=TESTED,
        test="chi2",
        effect=1.0,
        threshold=0.1,
    )
    # ten features at p = 0.004: each alone is significant at 0.01; BH keeps all (a joint move) ...
    joint = [FeatureResult(feature=f"f{i}", p_value=0.004, **base) for i in range(10)]  # type: ignore[arg-type]
    assert all(r.flagged for r in decide(joint, POLICY))
    # ... but one p = 0.004 among ninety nulls is what chance produces: not flagged
    lone = [FeatureResult(feature="x", p_value=0.004, **base)]  # type: ignore[arg-type]
    lone += [FeatureResult(feature=f"n{i}", p_value=0.5 + i / 200, **base) for i in range(90)]  # type: ignore[arg-type]
    assert not any(r.flagged for r in decide(lone, POLICY))


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="alpha"):
        DriftPolicy(alpha=0)
    with pytest.raises(ValueError, match="slot"):
        DriftPolicy(slot_seconds=7000)
    with pytest.raises(ValueError, match="floor"):
        DriftPolicy(numeric_floor=0)
