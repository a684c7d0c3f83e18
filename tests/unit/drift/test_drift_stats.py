"""The binned tests agree with SciPy's sample-based tests and react to the changes they are for."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from llm_soc2.drift import stats
from llm_soc2.drift.features import FEATURES, Feature

LATENCY: Feature = next(f for f in FEATURES if f.name == "latency")


def _hist(feature: Feature, values: np.ndarray) -> np.ndarray:
    return np.bincount(feature.bins(values), minlength=feature.size).astype(np.float64)


def _compare(a: np.ndarray, b: np.ndarray) -> stats.NumericComparison:
    return stats.compare_numeric(_hist(LATENCY, a), _hist(LATENCY, b), LATENCY.values(), a.size, b.size)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20260101)


def test_binned_statistics_match_scipy_on_the_raw_samples(rng: np.random.Generator) -> None:
    reference = rng.lognormal(0.5, 0.5, 9000)
    for current in (rng.lognormal(0.5, 0.5, 1800), rng.lognormal(0.5, 0.5, 1800) + 0.5 * reference.std()):
        binned = _compare(reference, current)
        ks = scipy_stats.ks_2samp(reference, current)
        wasserstein = scipy_stats.wasserstein_distance(reference, current) / reference.std()
        # bins are ~9 % wide: the statistics agree to a fraction of a bin's mass
        assert binned.ks == pytest.approx(ks.statistic, abs=0.01)
        assert binned.wasserstein == pytest.approx(wasserstein, abs=0.01)
        # binning merges ties, so the binned KS is conservative
        assert binned.ks <= ks.statistic + 1e-12


def test_ks_p_value_tracks_scipy_asymptotic(rng: np.random.Generator) -> None:
    for shift in (0.0, 0.05, 0.1):
        a = rng.normal(0, 1, 2000)
        b = rng.normal(shift, 1, 1500)
        d = scipy_stats.ks_2samp(a, b).statistic
        expected = scipy_stats.ks_2samp(a, b, method="asymp").pvalue
        assert stats.ks_pvalue(d, a.size, b.size) == pytest.approx(expected, rel=0.25, abs=1e-3)


def test_brown_forsythe_detects_a_variance_doubling_that_ks_barely_sees(rng: np.random.Generator) -> None:
    reference = rng.gamma(6.0, 50.0, 9000)
    base = rng.gamma(6.0, 50.0, 1800)
    current = base.mean() + (base - base.mean()) * math.sqrt(2.0)
    tokens = next(f for f in FEATURES if f.name == "response.tokens")
    result = stats.compare_numeric(
        _hist(tokens, reference), _hist(tokens, current), tokens.values(), 9000, 1800
    )
    levene = scipy_stats.levene(reference, current, center="median")
    assert result.bf_p < 1e-10
    assert levene.pvalue < 1e-10
    assert result.spread == pytest.approx(math.log(math.sqrt(2.0)), abs=0.06)
    assert result.bf > 0


def test_identical_histograms_have_no_effect() -> None:
    counts = np.array([0, 5, 10, 20, 10, 5, 0], dtype=np.float64)
    values = np.arange(7, dtype=np.float64)
    result = stats.compare_numeric(counts, counts, values, 50, 50)
    assert result.ks == 0.0
    assert result.wasserstein == 0.0
    assert result.spread == 0.0
    assert result.p_value == 1.0


def test_categorical_share_change_is_significant_with_cohen_h(rng: np.random.Generator) -> None:
    names = ["stop", "tool_calls", "length"]
    n_ref, n_cur = 9000, 1800
    ref = rng.multinomial(n_ref, [0.65, 0.30, 0.05]).astype(np.float64)
    cur = rng.multinomial(n_cur, [0.55, 0.40, 0.05]).astype(np.float64)
    result = stats.compare_categorical(ref, cur, n_ref, n_cur, names)
    expected_h = abs(2 * math.asin(math.sqrt(cur[1] / n_cur)) - 2 * math.asin(math.sqrt(ref[1] / n_ref)))
    assert result.p_value < 1e-6
    assert result.categories[0].name in ("tool_calls", "stop")
    assert result.cohen_h == pytest.approx(max(abs(c.cohen_h) for c in result.categories))
    assert max(abs(c.cohen_h) for c in result.categories if c.name == "tool_calls") == pytest.approx(
        expected_h
    )
    # the per-category test is the 2x2 chi-square test
    table = np.array([[cur[1], n_cur - cur[1]], [ref[1], n_ref - ref[1]]])
    chi2 = scipy_stats.chi2_contingency(table, correction=False)
    tool = next(c for c in result.categories if c.name == "tool_calls")
    assert tool.p_value == pytest.approx(chi2.pvalue, rel=1e-6)


def test_categorical_without_change_is_not_significant(rng: np.random.Generator) -> None:
    p = [0.65, 0.28, 0.05, 0.02]
    ref = rng.multinomial(9000, p).astype(np.float64)
    cur = rng.multinomial(1800, p).astype(np.float64)
    result = stats.compare_categorical(ref, cur, 9000, 1800, ["a", "b", "c", "d"])
    assert result.p_value > 0.01
    assert result.cohen_h < 0.1


def test_rare_categories_are_not_tested_on_tiny_counts() -> None:
    ref = np.array([99.0, 1.0])
    cur = np.array([8.0, 2.0])
    result = stats.compare_categorical(ref, cur, 100, 10, ["common", "rare"])
    assert result.p_value == 1.0
    assert result.categories == ()


def test_js_distance_is_base_two() -> None:
    assert stats.js_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    assert stats.js_distance(np.array([1.0, 1.0]), np.array([1.0, 1.0])) == 0.0


def test_chi2_homogeneity_matches_scipy(rng: np.random.Generator) -> None:
    ref = rng.multinomial(5000, [0.4, 0.3, 0.2, 0.1]).astype(np.float64)
    cur = rng.multinomial(1000, [0.35, 0.3, 0.2, 0.15]).astype(np.float64)
    stat, df, p = stats.chi2_homogeneity(ref, cur, 5000, 1000)
    expected = scipy_stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert stat == pytest.approx(expected.statistic)
    assert df == expected.dof
    assert p == pytest.approx(expected.pvalue)


def test_benjamini_hochberg_matches_scipy(rng: np.random.Generator) -> None:
    p = np.concatenate([rng.uniform(0, 1, 40), rng.uniform(0, 1e-4, 5)])
    np.testing.assert_allclose(
        stats.benjamini_hochberg(p), scipy_stats.false_discovery_control(p), rtol=1e-12
    )
    assert stats.benjamini_hochberg([]).size == 0


def test_psi_grows_with_the_shift(rng: np.random.Generator) -> None:
    reference = rng.lognormal(0.5, 0.5, 9000)
    small = _compare(reference, rng.lognormal(0.55, 0.5, 1800)).psi
    large = _compare(reference, rng.lognormal(0.9, 0.5, 1800)).psi
    assert 0 <= small < 0.1 < large
