"""Frozen baselines: save, load, align, reject what they cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from llm_soc2 import semconv
from llm_soc2.drift.baseline import Baseline, BaselineStore, change_attributes, check_name
from llm_soc2.drift.check import Accumulator
from llm_soc2.drift.features import FeatureSpace
from llm_soc2.drift.simulate import Traffic
from llm_soc2.errors import ConfigurationError


def _baseline(name: str = "launch") -> Baseline:
    space = FeatureSpace()
    acc = Accumulator(space, 1800)
    for _, items in Traffic(5, rate=0.2).stream(0, 4 * 3600, step=600):
        for attributes, text, time_ns in items:
            acc.add(attributes, time_ns, "svc", text)
    return Baseline(name, space, 1800, dict(acc.profiles()), 1, 2, acc.count, "test")


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    original = _baseline()
    path = store.save(original)
    assert path == tmp_path / "drift" / "baselines" / "launch.json"
    loaded = store.load("launch")
    assert loaded.keys == original.keys
    for key in original.keys:
        np.testing.assert_allclose(loaded.profiles[key], original.profiles[key], rtol=1e-9)
    assert loaded.sha256 == original.sha256
    assert list(store.names()) == ["launch"]
    assert store.delete("launch")
    assert not store.delete("launch")


def test_loading_into_another_space_aligns_categories(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    original = _baseline()
    store.save(original)
    other = FeatureSpace()
    other.extract({semconv.ERROR_TYPE: "SomethingSeenFirst"})
    loaded = store.load("launch", other)
    f = other.index["error.type"]
    for name, i in original.space.vocabularies[f].items():
        j = other.vocabularies[f][name]
        for key in original.keys:
            assert (
                loaded.profiles[key][:, other.offsets[f] + j].sum()
                == original.profiles[key][:, original.space.offsets[f] + i].sum()
            )


@pytest.mark.parametrize("name", ["", "../etc", "a b", "-lead", "x" * 65])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigurationError):
        check_name(name)


def test_unreadable_files_give_clear_errors(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    with pytest.raises(ConfigurationError, match="no drift baseline"):
        store.load("missing")
    store.directory.mkdir(parents=True)
    store.path("junk").write_text("{not json")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        store.load("junk")
    store.path("other").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ConfigurationError, match="not a drift baseline"):
        store.load("other")


def test_change_attributes_pin_the_file() -> None:
    baseline = _baseline()
    attributes = change_attributes("save", baseline.name, baseline)
    assert attributes[semconv.DRIFT_BASELINE_SHA256] == baseline.sha256
    assert attributes[semconv.DRIFT_BASELINE_COUNT] == baseline.count
    summary = baseline.summary()
    assert summary["keys"][0]["slots_covered"] == 8  # four hours of half-hour slots
