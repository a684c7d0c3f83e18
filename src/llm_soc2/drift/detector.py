"""From a reference and a current window of histograms to one decision per feature.

The decision rule (the same for the online monitor and ``llm-soc2 drift check``)
================================================================================

A feature is *flagged* in a check when all of these hold:

1. **enough data**: at least ``min_current`` spans in the current window and an effective reference
   size of at least ``min_reference``;
2. **significant**: its p-value, adjusted with Benjamini-Hochberg over every feature of every
   (service, model, operation) tested in the same check, is at most ``alpha`` (a false-discovery rate);
3. **large enough to matter**: its effect size reaches a floor -- Cohen's h >= ``categorical_floor``
   for categories, Jensen-Shannon distance >= ``text_floor`` for response text. A number is tested
   twice, each effect with its own test: a change of location (KS significant and Wasserstein-1 /
   reference standard deviation >= ``numeric_floor``) or a change of spread (Brown-Forsythe
   significant and |log ratio of mean absolute deviations| >= ``spread_floor``); both tests are in the
   Benjamini-Hochberg family.

The online monitor raises a drift alert when a feature is flagged in ``persistence`` consecutive checks
(5: five minutes with the default 60-second interval) and clears it after as many unflagged checks.

Why this and not p < 0.05: a monitor tests ~13 features x every model x every minute, ~600,000 tests a
month per model. P-values alone either page all the time (at 1 request/s every real-world wobble is
"significant") or, Bonferroni-corrected, see nothing. Benjamini-Hochberg keeps the share of false
discoveries within a check at ``alpha`` without losing power when several features move together (a
real change usually moves many); the effect floor makes large samples harmless (significance grows
with n, effect size does not); persistence removes the rest, the short excursions of a sliding
window. The floors are in units a reviewer can read and sit just above the variation of a stationary
but realistically noisy system (``bench/bench_drift.py``: 3 % day-to-day and 2 % hour-to-hour level
noise on latency, stragglers, a daily cycle): 0.3 reference standard deviations of location (a 0.5 sd
shift crosses it once 60 % of the window has shifted), a 0.25 log-ratio of spread (a doubled variance
gives 0.35), a Cohen's h of 0.12 (a 10-point move around 30 % gives 0.21, 1 % -> 3 % gives 0.15). They
are tuned on one seed and evaluated on another; set them from your own stationary history if it is
noisier or calmer.

Seasonality (the reason fixed thresholds fail: the reference shows Evidently raising 1,351 alarms in
1,440 checks of stationary traffic with a daily cycle) is handled by the reference, not the threshold:
the reference for a window is built from the *same time of day* on the reference days. Reference
histograms are kept per 30-minute slot of the day; the reference for a window mixes the slots its
spans fall in, weighted by the window's spans per slot, each slot widened by ``band`` neighbouring
slots either side (+-1 hour by default: more reference data, and a smooth daily cycle averages out
symmetrically across the band). When a slot has no reference data (a baseline shorter than a day),
the whole reference is pooled and the result says ``reference_kind = "pooled"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from llm_soc2.drift import stats
from llm_soc2.drift.features import FeatureSpace, Kind

FloatArray = NDArray[np.float64]
Key = tuple[str, str, str]  # (service, model, operation)

TESTED = "tested"
INSUFFICIENT = "insufficient_data"
NO_REFERENCE = "no_reference"
NO_CURRENT = "no_current_data"

SEASONAL = "seasonal"
POOLED = "pooled"

SECONDS_PER_DAY = 86_400

# The test names a feature kind is decided with (the ``test`` label of the ``detected`` gauge).
SIGNIFICANCE_TEST = {"numeric": "ks+brown_forsythe", "categorical": "chi2", "text": "chi2"}


@dataclass(frozen=True)
class DriftPolicy:
    """Thresholds and windows of the drift decision (see the module docstring)."""

    alpha: float = 0.01
    persistence: int = 5
    min_current: int = 100
    min_reference: int = 200
    numeric_floor: float = 0.3
    spread_floor: float = 0.25
    categorical_floor: float = 0.12
    text_floor: float = 0.1
    slot_seconds: int = 1800
    band: int = 2
    rolling_days: float = 7.0

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError("alpha must be in (0, 1)")
        if self.persistence < 1 or self.min_current < 1 or self.min_reference < 1:
            raise ValueError("persistence, min_current and min_reference must be >= 1")
        if self.slot_seconds <= 0 or SECONDS_PER_DAY % self.slot_seconds:
            raise ValueError("slot_seconds must divide a day")
        if self.band < 0 or self.rolling_days <= 0:
            raise ValueError("band must be >= 0 and rolling_days > 0")
        if (
            min(self.numeric_floor, self.spread_floor) <= 0
            or min(self.categorical_floor, self.text_floor) < 0
        ):
            raise ValueError("the numeric and spread floors must be > 0, the others >= 0")

    @property
    def slots(self) -> int:
        return SECONDS_PER_DAY // self.slot_seconds

    def floor(self, kind: Kind) -> float:
        if kind is Kind.NUMERIC:
            return self.numeric_floor
        if kind is Kind.CATEGORICAL:
            return self.categorical_floor
        return self.text_floor

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def slot_of(seconds: float, slot_seconds: int) -> int:
    return int((seconds % SECONDS_PER_DAY) // slot_seconds)


@dataclass(frozen=True)
class FeatureResult:
    """One feature of one (service, model, operation) in one check."""

    service: str
    model: str
    operation: str
    feature: str
    kind: str
    status: str  # tested | insufficient_data | no_reference | no_current_data
    test: str = ""  # significance test: "ks+brown_forsythe", "chi2"
    statistic: float = 0.0
    p_value: float = 1.0
    p_adjusted: float = 1.0
    effect_name: str = ""  # wasserstein | cohen_h | js
    effect: float = 0.0
    threshold: float = 0.0
    flagged: bool = False
    n_reference: float = 0.0  # effective size
    n_current: int = 0
    reference_kind: str = ""
    scores: Mapping[str, float] = field(default_factory=dict)  # every statistic computed, by test name
    top: tuple[str, ...] = ()  # top contributing categories / tokens, largest change first

    @property
    def key(self) -> Key:
        return (self.service, self.model, self.operation)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["scores"] = {k: _finite(v) for k, v in self.scores.items()}
        data["top"] = list(self.top)
        for name in ("statistic", "p_value", "p_adjusted", "effect", "threshold", "n_reference"):
            data[name] = _finite(data[name])
        return data


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# --------------------------------------------------------------------------------------------------
# Reference assembly
# --------------------------------------------------------------------------------------------------
def _band_rows(slot: int, slots: int, band: int) -> list[int]:
    return sorted({(slot + j) % slots for j in range(-band, band + 1)})


def _effective(n: float, w2: float) -> float:
    return n * n / w2 if w2 > 0 else 0.0


def _reference(
    space: FeatureSpace,
    profile: FloatArray,
    current_rows: Mapping[int, FloatArray],
    n_current: FloatArray,
    policy: DriftPolicy,
) -> tuple[FloatArray, FloatArray, list[str]]:
    """The reference matched to the current window's time-of-day mix.

    Returns ``(histogram, n_eff, kind)``: a full-size vector whose feature spans hold per-span
    frequencies scaled to the effective sample size, the effective size per feature and the reference
    kind per feature."""
    features = len(space.features)
    ncols = np.asarray(space.n_columns)
    w2cols = np.asarray(space.w2_columns)
    slots = profile.shape[0]
    out = np.zeros(space.size, dtype=np.float64)
    n_eff = np.zeros(features, dtype=np.float64)
    kinds = [POOLED] * features
    bands: dict[int, FloatArray] = {}
    if slots > 1:
        for slot in current_rows:
            bands[slot] = profile[_band_rows(slot, slots, policy.band)].sum(axis=0, dtype=np.float64)
    pooled = profile.sum(axis=0, dtype=np.float64)
    for f in range(features):
        span = space.span(f)
        total_cur = n_current[f]
        use_seasonal = bool(bands) and total_cur > 0
        if use_seasonal:
            mix = np.zeros(span.stop - span.start, dtype=np.float64)
            inv_eff = 0.0
            for slot, row in current_rows.items():
                weight = row[ncols[f]] / total_cur
                if weight <= 0:
                    continue
                band = bands[slot]
                n = band[ncols[f]]
                eff = _effective(n, band[w2cols[f]])
                if n <= 0 or eff <= 0:
                    use_seasonal = False
                    break
                mix += weight * band[span] / n
                inv_eff += weight * weight / eff
            if use_seasonal and inv_eff > 0:
                eff_total = 1.0 / inv_eff
                out[span] = mix * eff_total
                n_eff[f] = eff_total
                kinds[f] = SEASONAL
                continue
        n = pooled[ncols[f]]
        eff = _effective(n, pooled[w2cols[f]])
        if n > 0:
            out[span] = pooled[span] / n * eff
        n_eff[f] = eff
    return out, n_eff, kinds


# --------------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------------
def compare(
    space: FeatureSpace,
    key: Key,
    reference: FloatArray | None,
    current_rows: Mapping[int, FloatArray],
    policy: DriftPolicy,
) -> list[FeatureResult]:
    """Compare one key's current window (histogram rows by time-of-day slot) with its reference
    (``slots x size`` histograms; ``None`` when there is none). The results are not yet adjusted for
    multiple testing: pass every key's results of one check through :func:`decide`."""
    service, model, operation = key
    ncols = np.asarray(space.n_columns)
    current = np.zeros(space.size, dtype=np.float64)
    for row in current_rows.values():
        current += row
    n_current = current[ncols]
    if reference is None or not reference.any():
        return [
            FeatureResult(
                service,
                model,
                operation,
                f.name,
                f.kind.value,
                NO_REFERENCE,
                test=SIGNIFICANCE_TEST[f.kind.value],
                n_current=int(n_current[i]),
            )
            for i, f in enumerate(space.features)
        ]
    ref, n_eff, kinds = _reference(space, reference, current_rows, n_current, policy)
    results = []
    for f, feature in enumerate(space.features):
        n_cur = float(n_current[f])
        base = FeatureResult(
            service,
            model,
            operation,
            feature.name,
            feature.kind.value,
            TESTED,
            n_reference=float(n_eff[f]),
            n_current=int(n_cur),
            reference_kind=kinds[f],
            threshold=policy.floor(feature.kind),
            test=SIGNIFICANCE_TEST[feature.kind.value],
        )
        if n_cur < policy.min_current or n_eff[f] < policy.min_reference:
            status = NO_CURRENT if n_cur == 0 else INSUFFICIENT
            results.append(dataclasses.replace(base, status=status))
            continue
        span = space.span(f)
        results.append(_test(space, f, base, ref[span], current[span], float(n_eff[f]), n_cur, policy))
    return results


def _trim(ref: FloatArray, cur: FloatArray) -> slice:
    """The range of bins holding any mass (the tests only need those; the rest are zeros)."""
    used = np.flatnonzero((ref > 0) | (cur > 0))
    if used.size == 0:
        return slice(0, 0)
    return slice(int(used[0]), int(used[-1]) + 1)


def _test(
    space: FeatureSpace,
    f: int,
    base: FeatureResult,
    ref: FloatArray,
    cur: FloatArray,
    n_ref: float,
    n_cur: float,
    policy: DriftPolicy,
) -> FeatureResult:
    feature = space.features[f]
    if feature.kind is Kind.NUMERIC:
        used = _trim(ref, cur)
        if used.stop - used.start < 2:
            used = slice(max(used.start - 1, 0), used.start + 1)
        num = stats.compare_numeric(ref[used], cur[used], space.values(f)[used], n_ref, n_cur)
        # Provisional: the effect furthest past its floor; decide() settles it with the adjusted p-values.
        if abs(num.spread) / policy.spread_floor > num.wasserstein / policy.numeric_floor:
            test, statistic, p_value = "brown_forsythe", num.bf, num.bf_p
            effect_name, effect, threshold = "spread", abs(num.spread), policy.spread_floor
        else:
            test, statistic, p_value = "ks", num.ks, num.ks_p
            effect_name, effect, threshold = "wasserstein", num.wasserstein, policy.numeric_floor
        return dataclasses.replace(
            base,
            test=test,
            statistic=statistic,
            p_value=p_value,
            effect_name=effect_name,
            effect=effect,
            threshold=threshold,
            scores={
                "ks": num.ks,
                "ks_p": num.ks_p,
                "brown_forsythe": num.bf,
                "brown_forsythe_p": num.bf_p,
                "wasserstein": num.wasserstein,
                "spread": num.spread,
                "psi": num.psi,
                "mean_reference": num.mean_ref,
                "mean_current": num.mean_cur,
                "std_reference": num.std_ref,
                "std_current": num.std_cur,
            },
        )
    if feature.kind is Kind.CATEGORICAL:
        cat = stats.compare_categorical(ref, cur, n_ref, n_cur, space.category_names(f))
        return dataclasses.replace(
            base,
            statistic=cat.chi2,
            p_value=cat.p_value,
            effect_name="cohen_h",
            effect=cat.cohen_h,
            scores={"chi2": cat.chi2, "cohen_h": cat.cohen_h, "js": cat.js},
            top=tuple(cat.top()),
        )
    txt = stats.compare_text(ref, cur, n_ref, n_cur)
    examples = space.text_examples
    top = tuple(
        f"{examples.get(bucket, f'#{bucket}')}: {r:.2%} -> {c:.2%}" for bucket, r, c in txt.buckets[:3]
    )
    return dataclasses.replace(
        base,
        statistic=txt.chi2,
        p_value=txt.p_value,
        effect_name="js",
        effect=txt.js,
        scores={"chi2": txt.chi2, "js": txt.js},
        top=top,
    )


def decide(results: Sequence[FeatureResult], policy: DriftPolicy) -> list[FeatureResult]:
    """Adjust the p-values of one check's tests (Benjamini-Hochberg over every test: two per number,
    one per category or text feature) and flag the features with a significant test whose effect
    reaches its floor."""
    family: list[tuple[int, str, float]] = []  # (result index, test, p)
    for i, r in enumerate(results):
        if r.status != TESTED:
            continue
        if r.kind == "numeric":
            family.append((i, "ks", r.scores.get("ks_p", 1.0)))
            family.append((i, "brown_forsythe", r.scores.get("brown_forsythe_p", 1.0)))
        else:
            family.append((i, r.test, r.p_value))
    adjusted = stats.benjamini_hochberg([p for _, _, p in family])
    by_result: dict[int, dict[str, float]] = {}
    for (i, test, _), p_adj in zip(family, adjusted, strict=True):
        by_result.setdefault(i, {})[test] = float(p_adj)
    out = list(results)
    for i, p_adj in by_result.items():
        r = results[i]
        if r.kind != "numeric":
            flagged = p_adj[r.test] <= policy.alpha and r.effect >= r.threshold
            out[i] = dataclasses.replace(r, p_adjusted=p_adj[r.test], flagged=bool(flagged))
            continue
        out[i] = _decide_numeric(r, p_adj, policy)
    return out


def _decide_numeric(r: FeatureResult, p_adj: Mapping[str, float], policy: DriftPolicy) -> FeatureResult:
    location = r.scores.get("wasserstein", 0.0)
    spread = abs(r.scores.get("spread", 0.0))
    candidates = [
        # (flagged, ratio to floor, test, statistic, p, p adjusted, effect name, effect, threshold)
        (
            p_adj["ks"] <= policy.alpha and location >= policy.numeric_floor,
            location / policy.numeric_floor,
            "ks",
            r.scores.get("ks", 0.0),
            r.scores.get("ks_p", 1.0),
            p_adj["ks"],
            "wasserstein",
            location,
            policy.numeric_floor,
        ),
        (
            p_adj["brown_forsythe"] <= policy.alpha and spread >= policy.spread_floor,
            spread / policy.spread_floor,
            "brown_forsythe",
            r.scores.get("brown_forsythe", 0.0),
            r.scores.get("brown_forsythe_p", 1.0),
            p_adj["brown_forsythe"],
            "spread",
            spread,
            policy.spread_floor,
        ),
    ]
    flagged, _, test, statistic, p, adjusted, effect_name, effect, threshold = max(
        candidates, key=lambda c: c[:2]
    )
    return dataclasses.replace(
        r,
        flagged=bool(flagged),
        test=test,
        statistic=statistic,
        p_value=p,
        p_adjusted=adjusted,
        effect_name=effect_name,
        effect=effect,
        threshold=threshold,
    )
