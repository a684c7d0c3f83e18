"""Embedding drift (optional, off by default: the monitor is fed no embeddings; call this on vectors
from your own embedding model, e.g. of sampled responses from two audit-log windows).

Unbiased MMD^2 with an RBF kernel, the bandwidth by the median heuristic (median pairwise distance of
the pooled sample), the p-value by permutation of the pooled sample -- the method Evidently's ``mmd``
embedding test uses (its threshold: MMD^2 > 0.015), with a p-value instead of a fixed threshold. Pure
NumPy; each sample is subsampled to ``max_samples`` rows, so the cost is bounded
(O(max_samples^2 * permutations)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class EmbeddingComparison:
    mmd2: float  # unbiased MMD^2
    p_value: float  # permutation p-value, (1 + #{perm >= observed}) / (1 + permutations)
    bandwidth: float
    n_reference: int
    n_current: int


def _mmd2(kernel: NDArray[np.float64], n: int) -> float:
    m = kernel.shape[0] - n
    kxx = kernel[:n, :n]
    kyy = kernel[n:, n:]
    kxy = kernel[:n, n:]
    sum_xx = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    sum_yy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(sum_xx + sum_yy - 2.0 * kxy.mean())


def mmd_test(
    reference: NDArray[np.float64],
    current: NDArray[np.float64],
    *,
    permutations: int = 200,
    max_samples: int = 500,
    seed: int = 0,
) -> EmbeddingComparison:
    """Two-sample MMD test between two sets of embedding vectors (rows)."""
    x = np.asarray(reference, dtype=np.float64)
    y = np.asarray(current, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError("reference and current must be 2-D arrays with the same number of columns")
    if len(x) < 2 or len(y) < 2:
        raise ValueError("each sample needs at least two vectors")
    rng = np.random.default_rng(seed)
    if len(x) > max_samples:
        x = x[rng.choice(len(x), max_samples, replace=False)]
    if len(y) > max_samples:
        y = y[rng.choice(len(y), max_samples, replace=False)]
    pooled = np.vstack([x, y])
    squares = np.sum(pooled * pooled, axis=1)
    distances = np.maximum(squares[:, None] + squares[None, :] - 2.0 * pooled @ pooled.T, 0.0)
    upper = distances[np.triu_indices(len(pooled), k=1)]
    median = float(np.median(upper[upper > 0])) if np.any(upper > 0) else 1.0
    bandwidth = float(np.sqrt(median / 2.0))
    kernel = np.exp(-distances / (2.0 * bandwidth**2))
    n = len(x)
    observed = _mmd2(kernel, n)
    exceed = 0
    for _ in range(permutations):
        order = rng.permutation(len(pooled))
        if _mmd2(kernel[np.ix_(order, order)], n) >= observed:
            exceed += 1
    return EmbeddingComparison(observed, (1 + exceed) / (1 + permutations), bandwidth, len(x), len(y))
