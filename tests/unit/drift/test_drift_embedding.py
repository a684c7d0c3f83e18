"""MMD on embeddings: a shifted cloud is found, the same cloud is not."""

from __future__ import annotations

import numpy as np
import pytest

from llm_soc2.drift.embedding import mmd_test


def test_mmd_separates_shifted_embeddings() -> None:
    rng = np.random.default_rng(8)
    reference = rng.normal(0, 1, (300, 16))
    same = mmd_test(reference, rng.normal(0, 1, (200, 16)), permutations=100, seed=1)
    shifted = mmd_test(reference, rng.normal(0.4, 1, (200, 16)), permutations=100, seed=1)
    assert same.p_value > 0.05
    assert shifted.p_value < 0.02
    assert shifted.mmd2 > same.mmd2


def test_mmd_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="columns"):
        mmd_test(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="two vectors"):
        mmd_test(np.zeros((1, 3)), np.zeros((5, 3)))
