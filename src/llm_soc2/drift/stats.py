"""Two-sample tests on binned data: pure functions of NumPy vectors, using SciPy's distributions.

Every function takes a reference and a current histogram over the same bins (any non-negative weights;
they are normalised here) and the effective sample size of each. Effective sizes, not bin totals, set
the p-values: a reference built from several decayed days or from a mixture of time-of-day slots is
worth fewer independent samples than its weights add up to.

Numbers
    * Kolmogorov-Smirnov: ``D`` = largest gap between the two CDFs at the bin edges; p from the
      asymptotic Kolmogorov distribution with Stephens' small-sample correction
      (``(sqrt(en) + 0.12 + 0.11/sqrt(en)) * D``, ``en = n*m/(n+m)``). Binning merges ties, which only
      lowers ``D``: the test stays conservative. KS sees shifts of location, and barely sees a change of
      spread (a doubled variance moves the CDF by 0.08 at most), so
    * Brown-Forsythe: Welch's t-test on absolute deviations from each sample's median -- the robust
      test for a change of spread.
    * Wasserstein-1 distance divided by the reference's standard deviation (Evidently's numeric
      statistic): the effect size of a change of location (or shape), in reference standard deviations;
    * spread: log of the ratio of the mean absolute deviations from the median (the quantities the
      Brown-Forsythe test compares), the effect size of a change of spread: a doubled variance gives
      log(sqrt 2) = 0.35 for any location-scale family, a 5 % change of level only 0.05.
    * PSI over ten reference-quantile groups, zero shares floored at 1e-4 (reported, not decisive).
Categories (a span may carry several labels: shares are "spans with label c / spans")
    * per category, the two-proportion chi-square test (1 degree of freedom), Bonferroni-combined over
      the feature's categories that have at least 5 spans with and without the label;
    * Cohen's h = 2 asin(sqrt(share_cur)) - 2 asin(sqrt(share_ref)), the effect size: a 10-point change
      counts more for a rare category (2 % -> 12 %: h = 0.42) than a common one (45 % -> 55 %: 0.20),
      as a reader of a compliance dashboard expects;
    * Jensen-Shannon distance (base 2, in [0, 1]) between the label distributions.
Text
    * chi-square homogeneity over hashed-token buckets, counts rescaled to the number of responses
      (tokens of one response are not independent), sparse buckets pooled; the effect size is the
      Jensen-Shannon distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special
from scipy.spatial import distance

PSI_FLOOR = 1e-4
MIN_EXPECTED = 5.0

FloatArray = NDArray[np.float64]


def _normalise(counts: FloatArray) -> FloatArray:
    total = float(counts.sum())
    if total <= 0.0:
        return np.zeros_like(counts, dtype=np.float64)
    return np.asarray(counts, dtype=np.float64) / total


def ks_pvalue(d: float, n_ref: float, n_cur: float) -> float:
    """Two-sample KS p-value for statistic ``d`` (asymptotic, Stephens-corrected)."""
    if n_ref <= 0 or n_cur <= 0:
        return 1.0
    en = math.sqrt(n_ref * n_cur / (n_ref + n_cur))
    return float(min(1.0, max(0.0, special.kolmogorov((en + 0.12 + 0.11 / en) * d))))


def welch_pvalue(
    mean_a: float, var_a: float, n_a: float, mean_b: float, var_b: float, n_b: float
) -> tuple[float, float]:
    """Welch's two-sided t-test from summary statistics: ``(t, p)``."""
    if n_a < 2 or n_b < 2:
        return 0.0, 1.0
    a = var_a / n_a
    b = var_b / n_b
    if a + b <= 0.0:
        return 0.0, 1.0 if mean_a == mean_b else 0.0
    t = (mean_b - mean_a) / math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (n_a - 1) + b * b / (n_b - 1))
    return t, float(min(1.0, 2.0 * special.stdtr(df, -abs(t))))


@dataclass(frozen=True, slots=True)
class NumericComparison:
    ks: float  # KS statistic D
    ks_p: float
    bf: float  # Brown-Forsythe (Welch) t, positive when the current spread is larger
    bf_p: float
    spread: float  # log(mean absolute deviation from the median, current / reference)
    wasserstein: float  # W1 / std(reference)
    psi: float
    mean_ref: float
    mean_cur: float
    std_ref: float
    std_cur: float

    @property
    def p_value(self) -> float:
        """KS and Brown-Forsythe combined (Bonferroni over the two)."""
        return min(1.0, 2.0 * min(self.ks_p, self.bf_p))

    @property
    def statistic(self) -> float:
        return self.ks


def _median(values: FloatArray, probs: FloatArray) -> float:
    cdf = np.cumsum(probs)
    index = int(np.searchsorted(cdf, 0.5 * cdf[-1]))
    return float(values[min(index, len(values) - 1)])


def _moments(values: FloatArray, probs: FloatArray) -> tuple[float, float]:
    mean = float(probs @ values)
    var = float(probs @ (values - mean) ** 2)
    return mean, var


def psi(ref_probs: FloatArray, cur_probs: FloatArray, groups: int = 10) -> float:
    """Population stability index over ``groups`` reference-quantile groups of adjacent bins."""
    cdf_mid = np.cumsum(ref_probs) - ref_probs / 2
    group = np.minimum((cdf_mid * groups).astype(np.int64), groups - 1)
    r = np.maximum(np.bincount(group, weights=ref_probs, minlength=groups), PSI_FLOOR)
    c = np.maximum(np.bincount(group, weights=cur_probs, minlength=groups), PSI_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def compare_numeric(
    ref: FloatArray, cur: FloatArray, values: FloatArray, n_ref: float, n_cur: float
) -> NumericComparison:
    """Compare two histograms of one numeric feature; ``values`` are the bins' representative values."""
    p_ref = _normalise(ref)
    p_cur = _normalise(cur)
    cdf_ref = np.cumsum(p_ref)
    cdf_cur = np.cumsum(p_cur)
    gaps = np.abs(cdf_ref - cdf_cur)
    d = float(gaps.max()) if gaps.size else 0.0
    mean_r, var_r = _moments(values, p_ref)
    mean_c, var_c = _moments(values, p_cur)
    std_r = math.sqrt(var_r)
    if std_r <= 0.0:
        # a constant reference: measure the distance in units of the bin's width instead
        at = int(np.argmax(p_ref))
        std_r = float(values[min(at + 1, len(values) - 1)] - values[max(at - 1, 0)]) / 2 or 1.0
    w1 = float(gaps[:-1] @ np.diff(values))
    # Brown-Forsythe: deviations from each sample's own median
    z_ref = np.abs(values - _median(values, p_ref))
    z_cur = np.abs(values - _median(values, p_cur))
    zm_r, zv_r = _moments(z_ref, p_ref)
    zm_c, zv_c = _moments(z_cur, p_cur)
    if n_ref > 1:
        zv_r *= n_ref / (n_ref - 1)
    if n_cur > 1:
        zv_c *= n_cur / (n_cur - 1)
    t, bf_p = welch_pvalue(zm_r, zv_r, n_ref, zm_c, zv_c, n_cur)
    if zm_r > 0 and zm_c > 0:
        spread = math.log(zm_c / zm_r)
    else:
        spread = 0.0 if zm_r == zm_c else math.copysign(math.inf, zm_c - zm_r)
    return NumericComparison(
        ks=d,
        ks_p=ks_pvalue(d, n_ref, n_cur),
        bf=t,
        bf_p=bf_p,
        spread=spread,
        wasserstein=w1 / std_r,
        psi=psi(p_ref, p_cur),
        mean_ref=mean_r,
        mean_cur=mean_c,
        std_ref=math.sqrt(var_r),
        std_cur=math.sqrt(var_c),
    )


@dataclass(frozen=True, slots=True)
class CategoryShare:
    name: str
    reference: float  # share of reference spans with the label
    current: float
    cohen_h: float
    p_value: float


@dataclass(frozen=True, slots=True)
class CategoricalComparison:
    chi2: float  # the largest per-category chi-square (1 df)
    p_value: float  # Bonferroni over the tested categories
    cohen_h: float  # largest |h| over the tested categories
    js: float  # Jensen-Shannon distance, base 2
    categories: tuple[CategoryShare, ...]  # tested categories, largest |h| first

    @property
    def statistic(self) -> float:
        return self.chi2

    def top(self, count: int = 3) -> list[str]:
        return [
            f"{c.name}: {c.reference:.1%} -> {c.current:.1%}"
            for c in self.categories[:count]
            if c.cohen_h != 0.0
        ]


def js_distance(p: FloatArray, q: FloatArray) -> float:
    """Jensen-Shannon distance, base 2 (0 = identical, 1 = disjoint)."""
    if p.sum() <= 0 or q.sum() <= 0:
        return 0.0
    value = float(distance.jensenshannon(p, q, base=2.0))
    return 0.0 if math.isnan(value) else value


def compare_categorical(
    ref: FloatArray, cur: FloatArray, n_ref: float, n_cur: float, names: Sequence[str]
) -> CategoricalComparison:
    """Compare per-category span counts (``ref``/``cur``: spans carrying each label) out of
    ``n_ref``/``n_cur`` spans."""
    if n_ref <= 0 or n_cur <= 0:
        return CategoricalComparison(0.0, 1.0, 0.0, 0.0, ())
    share_r = np.clip(np.asarray(ref, dtype=np.float64) / n_ref, 0.0, 1.0)
    share_c = np.clip(np.asarray(cur, dtype=np.float64) / n_cur, 0.0, 1.0)
    pooled = (share_r * n_ref + share_c * n_cur) / (n_ref + n_cur)
    total = n_ref + n_cur
    testable = (pooled * total >= MIN_EXPECTED) & ((1.0 - pooled) * total >= MIN_EXPECTED)
    # Expected counts in each sample, too (a tiny current window cannot test a 1 % category).
    testable &= np.minimum(n_ref, n_cur) * np.minimum(pooled, 1.0 - pooled) >= 1.0
    se = np.sqrt(np.maximum(pooled * (1.0 - pooled), 1e-300) * (1.0 / n_ref + 1.0 / n_cur))
    z = np.where(testable, (share_c - share_r) / se, 0.0)
    chi2 = z * z
    p = np.where(testable, special.chdtrc(1.0, chi2), 1.0)
    h = np.where(testable, 2.0 * np.arcsin(np.sqrt(share_c)) - 2.0 * np.arcsin(np.sqrt(share_r)), 0.0)
    tested = int(testable.sum())
    order = np.argsort(-np.abs(h), kind="stable")
    shares = tuple(
        CategoryShare(
            names[i] if i < len(names) else str(i),
            float(share_r[i]),
            float(share_c[i]),
            float(h[i]),
            float(p[i]),
        )
        for i in order
        if testable[i]
    )
    return CategoricalComparison(
        chi2=float(chi2.max()) if tested else 0.0,
        p_value=min(1.0, float(p.min()) * tested) if tested else 1.0,
        cohen_h=float(np.abs(h).max()) if tested else 0.0,
        js=js_distance(_normalise(ref), _normalise(cur)),
        categories=shares,
    )


@dataclass(frozen=True, slots=True)
class TextComparison:
    chi2: float
    df: int
    p_value: float
    js: float
    buckets: tuple[tuple[int, float, float], ...]  # (bucket, ref share, cur share), largest change first

    @property
    def statistic(self) -> float:
        return self.chi2


def chi2_homogeneity(
    ref: FloatArray, cur: FloatArray, n_ref: float, n_cur: float
) -> tuple[float, int, float]:
    """Chi-square test that two histograms come from one distribution, with the histograms rescaled to
    ``n_ref``/``n_cur`` observations; cells expected below 5 are pooled into one."""
    if n_ref <= 0 or n_cur <= 0:
        return 0.0, 0, 1.0
    r = _normalise(ref) * n_ref
    c = _normalise(cur) * n_cur
    total = r + c
    n = n_ref + n_cur
    e_r = total * (n_ref / n)
    e_c = total * (n_cur / n)
    keep = (e_r >= MIN_EXPECTED) & (e_c >= MIN_EXPECTED)
    cells_r = list(r[keep])
    cells_c = list(c[keep])
    rest_r = float(r[~keep].sum())
    rest_c = float(c[~keep].sum())
    if (rest_r + rest_c) * min(n_ref, n_cur) / n >= MIN_EXPECTED:
        cells_r.append(rest_r)
        cells_c.append(rest_c)
    if len(cells_r) < 2:
        return 0.0, 0, 1.0
    obs_r = np.asarray(cells_r)
    obs_c = np.asarray(cells_c)
    tot = obs_r + obs_c
    exp_r = tot * (obs_r.sum() / tot.sum())
    exp_c = tot * (obs_c.sum() / tot.sum())
    stat = float(np.sum((obs_r - exp_r) ** 2 / exp_r) + np.sum((obs_c - exp_c) ** 2 / exp_c))
    df = len(cells_r) - 1
    return stat, df, float(special.chdtrc(df, stat))


def compare_text(ref: FloatArray, cur: FloatArray, n_ref: float, n_cur: float) -> TextComparison:
    """Compare hashed-token histograms of ``n_ref``/``n_cur`` responses."""
    stat, df, p = chi2_homogeneity(ref, cur, n_ref, n_cur)
    p_r = _normalise(ref)
    p_c = _normalise(cur)
    change = np.abs(p_c - p_r)
    order = np.argsort(-change, kind="stable")[:5]
    buckets = tuple((int(i), float(p_r[i]), float(p_c[i])) for i in order if change[i] > 0)
    return TextComparison(stat, df, p, js_distance(p_r, p_c), buckets)


def benjamini_hochberg(p_values: Sequence[float] | FloatArray) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (step-up; valid under independence and positive
    dependence, which overlapping windows and correlated features have)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m, dtype=np.float64)
    out[order] = np.minimum(adjusted, 1.0)
    return out
