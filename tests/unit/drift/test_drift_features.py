"""Feature extraction: what each interaction contributes, and that bad input is contained."""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_soc2 import semconv
from llm_soc2.drift.features import OTHER, FeatureSpace, Kind, key_of, token_bucket


def _record(**overrides: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 420,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 300,
        semconv.PROMPT_CHARS: 1700,
        semconv.RESPONSE_CHARS: 1250,
        semconv.DURATION: 3.2,
        semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: 0.4,
        semconv.RISK_SCORE: 0.9,
        semconv.RISK_CATEGORIES: ["prompt_injection", "refusal"],
        semconv.PII_COUNT: 2,
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
    }
    attributes.update(overrides)
    return attributes


def _counts(space: FeatureSpace, bins: list[int]) -> np.ndarray:
    return space.histogram(bins)


def _n(space: FeatureSpace, hist: np.ndarray, feature: str) -> float:
    return float(hist[space.n_columns[space.index[feature]]])


def _share(space: FeatureSpace, hist: np.ndarray, feature: str, category: str) -> float:
    f = space.index[feature]
    return float(hist[space.offsets[f] + space.vocabularies[f][category]])


def test_a_complete_interaction_fills_every_feature() -> None:
    space = FeatureSpace()
    hist = _counts(space, space.extract(_record(), "Paris is the capital of France."))
    for feature in space.features:
        assert _n(space, hist, feature.name) == 1, feature.name
    assert _share(space, hist, "risk.categories", "prompt_injection") == 1
    assert _share(space, hist, "risk.categories", "refusal") == 1
    assert _share(space, hist, "refusal.rate", "yes") == 1
    assert _share(space, hist, "pii.rate", "yes") == 1
    assert _share(space, hist, "error.type", "none") == 1
    text = space.index["response.text"]
    tokens = hist[space.span(text)]
    assert tokens.sum() == 6  # paris is the capital of france
    assert tokens[token_bucket("paris")] >= 1


def test_numeric_value_lands_in_its_bin() -> None:
    space = FeatureSpace()
    f = space.index["latency"]
    feature = space.features[f]
    hist = _counts(space, space.extract({semconv.DURATION: 3.2}))
    (index,) = np.flatnonzero(hist[space.span(f)])
    edges = feature.edges()
    assert edges[index - 1] <= 3.2 < edges[index]
    assert feature.bin(3.2) == index == int(feature.bins(np.array([3.2]))[0])


@pytest.mark.parametrize(
    "bad",
    [math.nan, math.inf, -1.0, -0.001, "3.2", None, True, [1.0], {"a": 1}],
)
def test_invalid_numbers_leave_the_feature_out(bad: Any) -> None:
    space = FeatureSpace()
    hist = _counts(space, space.extract(_record(**{semconv.DURATION: bad})))
    assert _n(space, hist, "latency") == 0
    assert _n(space, hist, "response.tokens") == 1


def test_missing_attributes_are_missing_features_not_errors() -> None:
    space = FeatureSpace()
    hist = _counts(space, space.extract({}))
    # a success without attributes still says "no error"; nothing else is known
    assert _n(space, hist, "error.type") == 1
    assert sum(_n(space, hist, f.name) for f in space.features) == 1


def test_duration_and_response_length_fall_back_to_the_span_and_text() -> None:
    space = FeatureSpace()
    attributes = _record()
    del attributes[semconv.DURATION]
    del attributes[semconv.RESPONSE_CHARS]
    hist = _counts(space, space.extract(attributes, "x" * 10, 5000, None, 1.5))
    assert _n(space, hist, "latency") == 1
    chars = space.features[space.index["response.chars"]]
    assert hist[space.offsets[space.index["response.chars"]] + chars.bin(5000)] == 1


def test_empty_categories_count_as_none_and_errors_by_type() -> None:
    space = FeatureSpace()
    hist = _counts(space, space.extract(_record(**{semconv.RISK_CATEGORIES: [], semconv.ERROR_TYPE: "429"})))
    assert _share(space, hist, "risk.categories", "none") == 1
    assert _share(space, hist, "refusal.rate", "no") == 1
    assert _share(space, hist, "error.type", "429") == 1


def test_vocabulary_is_bounded_and_overflow_is_other() -> None:
    space = FeatureSpace()
    f = space.index["error.type"]
    capacity = space.features[f].capacity
    for i in range(capacity * 3):
        space.extract({semconv.ERROR_TYPE: f"Error{i}"})
    assert len(space.vocabularies[f]) == capacity
    hist = _counts(space, space.extract({semconv.ERROR_TYPE: "YetAnotherError"}))
    assert hist[space.offsets[f] + space.vocabularies[f][OTHER]] == 1


def test_token_buckets_are_stable_across_processes() -> None:
    # CRC-32, not the per-process randomised hash()
    assert token_bucket("refund") == zlib.crc32(b"refund") % 256


def test_key_of_defaults_and_truncates() -> None:
    assert key_of({}, "svc") == ("svc", "unknown", "unknown")
    long_model = "m" * 500
    assert (
        key_of({semconv.GEN_AI_REQUEST_MODEL: long_model, semconv.GEN_AI_OPERATION_NAME: "chat"}, "s")[1]
        == "m" * 128
    )


def test_align_maps_categories_by_name() -> None:
    source = FeatureSpace()
    source.extract({semconv.ERROR_TYPE: "TimeoutError"})
    rows = source.histogram(source.extract({semconv.ERROR_TYPE: "TimeoutError"}))[None, :]
    target = FeatureSpace()
    target.extract({semconv.ERROR_TYPE: "OtherFirst"})  # different bin order
    aligned = target.align(rows, source.vocabulary_lists())
    f = target.index["error.type"]
    assert aligned[0, target.offsets[f] + target.vocabularies[f]["TimeoutError"]] == 1
    assert aligned[0, target.offsets[f] + target.vocabularies[f]["OtherFirst"]] == 0


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*_record().keys(), semconv.ERROR_TYPE, semconv.PII_DETECTED, "other"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(2**70), 2**70),
            st.floats(allow_nan=True, allow_infinity=True),
            st.text(max_size=20),
            st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=5),
        ),
    ),
    st.one_of(st.none(), st.text(max_size=50)),
)
def test_any_attribute_values_give_valid_bins(attributes: dict[str, Any], text: str | None) -> None:
    space = FeatureSpace()
    bins = space.extract(attributes, text)
    assert all(0 <= b < space.size for b in bins)
    hist = space.histogram(bins)
    for f, feature in enumerate(space.features):
        n = hist[space.n_columns[f]]
        assert n in (0, 1)
        assert hist[space.w2_columns[f]] == n
        if feature.kind is Kind.NUMERIC:
            assert hist[space.span(f)].sum() == n
