"""The classifier registry and the ``llm_soc2.classifiers`` entry-point group."""

from __future__ import annotations

import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from llm_soc2.errors import ConfigurationError
from llm_soc2.risk import ENTRY_POINT_GROUP, ClassifierRegistry, Interaction, Policy, RiskEngine, Signal
from llm_soc2.risk.registry import BUILTIN, load_entry_point

PLUGIN = textwrap.dedent(
    """
    from llm_soc2.risk import Interaction, Signal


    class CompetitorClassifier:
        name = "competitors"
        categories = ("competitor_mention",)

        def __init__(self, names=("globex",)):
            self.names = tuple(names)

        @classmethod
        def from_options(cls, options):
            return cls(options.get("names", ("globex",)))

        def classify(self, interaction: Interaction):
            text = interaction.response.lower()
            hits = [n for n in self.names if n in text]
            return [Signal("competitor_mention", 0.8, ("named",))] if hits else []


    def factory():
        return CompetitorClassifier(("initech",))


    INSTANCE = CompetitorClassifier(("umbrella",))


    class QuietRefusal:
        name = "refusal"
        categories = ("refusal",)

        def classify(self, interaction):
            return []
    NOT_A_CLASSIFIER = object()
    """
)


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "acme_risk_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "acme_risk_plugin"
    sys.modules.pop("acme_risk_plugin", None)


def entry_point(value: str, name: str = "competitors") -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_builtins_are_registered_in_order() -> None:
    registry = ClassifierRegistry.from_policy(Policy.default(), entry_points=[])
    assert registry.names == tuple(BUILTIN)
    assert "refusal" in registry
    assert len(registry) == 7


def test_registry_add_remove_and_duplicates() -> None:
    registry = ClassifierRegistry.from_policy(Policy.default(), entry_points=[])
    refusal = registry.get("refusal")
    assert refusal is not None
    with pytest.raises(ConfigurationError, match="already registered"):
        registry.add(refusal)
    registry.remove("refusal")
    assert "refusal" not in registry
    registry.add(refusal)
    assert registry.names[-1] == "refusal"
    with pytest.raises(ConfigurationError, match="not a classifier"):
        registry.add(object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "matches"),
    [
        ("CompetitorClassifier", "Globex"),  # a class, built with from_options
        ("factory", "Initech"),  # a factory function
        ("INSTANCE", "Umbrella"),  # an instance
    ],
)
def test_entry_point_is_loaded_through_the_same_loader(plugin_module: str, target: str, matches: str) -> None:
    classifier = load_entry_point(entry_point(f"{plugin_module}:{target}"))
    assert classifier.name == "competitors"
    signals = list(classifier.classify(Interaction(response=f"Try {matches} instead")))
    assert signals == [Signal("competitor_mention", 0.8, ("named",))]


def test_entry_point_plugin_runs_in_the_engine_with_policy_options(
    plugin_module: str, tmp_path: Path
) -> None:
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text(
        "classifiers:\n  competitors: {names: [hooli]}\ncategories:\n  competitor_mention: {level: high}\n"
    )
    policy = Policy.from_file(policy_file)
    registry = ClassifierRegistry.from_policy(
        policy, entry_points=[entry_point(f"{plugin_module}:CompetitorClassifier")]
    )
    assert registry.names[-1] == "competitors"
    engine = RiskEngine(policy=policy, classifiers=list(registry))
    assessment = engine.assess(Interaction(response="Hooli does this better"))
    assert assessment.categories == ("competitor_mention",)
    assert assessment.level == "high"


def test_plugins_can_be_disabled_by_policy(plugin_module: str, tmp_path: Path) -> None:
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text("classifiers: {disabled: [competitors]}\n")
    registry = ClassifierRegistry.from_policy(
        Policy.from_file(policy_file), entry_points=[entry_point(f"{plugin_module}:CompetitorClassifier")]
    )
    assert "competitors" not in registry


def test_plugin_replaces_builtin_of_the_same_name(plugin_module: str) -> None:
    ep = entry_point(f"{plugin_module}:QuietRefusal", name="quiet_refusal")
    registry = ClassifierRegistry.from_policy(Policy.default(), entry_points=[ep])
    assert registry.names == tuple(BUILTIN)
    assert type(registry.get("refusal")).__name__ == "QuietRefusal"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("acme_risk_plugin:NOT_A_CLASSIFIER", "not a classifier"),
        ("acme_risk_plugin:MISSING", "cannot be imported"),
        ("no_such_module_xyz:Thing", "cannot be imported"),
    ],
)
def test_broken_entry_points_are_clear_errors_and_skipped_at_run_time(
    plugin_module: str, value: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_entry_point(entry_point(value))
    registry = ClassifierRegistry.from_policy(Policy.default(), entry_points=[entry_point(value)])
    assert registry.names == tuple(BUILTIN)
    assert message in caplog.text
