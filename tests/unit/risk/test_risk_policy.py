"""The risk policy: levels, thresholds, weights, merging over the defaults, errors, run-time fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError
from llm_soc2.risk import Interaction, Policy, RiskEngine, Signal
from llm_soc2.semconv import RISK_LEVELS


def test_default_policy_levels_and_version() -> None:
    policy = Policy.default()
    assert policy.version == "llm-soc2-default-1"
    assert [policy.level_of(s) for s in (0.0, 0.39, 0.4, 0.7, 0.95)] == [
        "low",
        "low",
        "medium",
        "high",
        "critical",
    ]
    assert policy.threshold("prompt_injection") == 0.5
    assert policy.threshold("some_plugin_category") == 0.5  # default_category


def test_evaluate_applies_thresholds_weights_and_category_levels() -> None:
    policy = Policy.default()
    assessment = policy.evaluate(
        [Signal("refusal", 0.9, ("explicit",)), Signal("prompt_injection", 0.45, ("x",))]
    )
    assert assessment.categories == ("refusal",)  # injection below its threshold
    assert assessment.score == 0.45  # max(1.0 * 0.45, 0.3 * 0.9)
    assert assessment.level == "medium"
    assert assessment.scores == {"refusal": 0.9, "prompt_injection": 0.45}
    crossed = policy.evaluate([Signal("data_leakage", 0.55)])
    assert crossed.level == "high"  # the category's level once crossed, above its score band
    assert crossed.level in RISK_LEVELS


def test_several_signals_of_one_category_take_the_highest_and_join_reasons() -> None:
    assessment = Policy.default().evaluate(
        [Signal("refusal", 0.2, ("a",)), Signal("refusal", 0.8, ("b", "a"))]
    )
    assert assessment.scores["refusal"] == 0.8
    assert assessment.reasons["refusal"] == ("a", "b")


def test_custom_policy_file_merges_over_defaults(tmp_path: Path) -> None:
    path = tmp_path / "risk.yaml"
    path.write_text(
        "version: acme-7\n"
        "levels: {high: 0.8}\n"
        "categories:\n  prompt_injection: {threshold: 0.9}\n  refusal: {weight: 0.0, level: medium}\n"
        "classifiers: {disabled: [ungrounded]}\n"
    )
    policy = Policy.from_file(path)
    assert policy.version == "acme-7"
    assert policy.threshold("prompt_injection") == 0.9
    assert policy.rule("prompt_injection").weight == 1.0  # kept from the default
    assert policy.rule("data_leakage").threshold == 0.5
    assert dict(policy.bands) == {"medium": 0.4, "high": 0.8, "critical": 0.9}
    assert "ungrounded" in policy.disabled
    engine = RiskEngine(policy=policy)
    assert "ungrounded" not in [c.name for c in engine.classifiers]
    refused = engine.assess(Interaction(prompt="hi", response="I'm sorry, but I can't help with that."))
    assert refused.categories == ("refusal",)
    assert refused.level == "medium"
    assert refused.score == 0.0


def test_policy_without_version_is_pinned_by_content_hash(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("categories: {refusal: {threshold: 0.6}}\n")
    version = Policy.from_file(path).version
    assert version.startswith("sha256:")
    assert len(version) == len("sha256:") + 12
    path.write_text("categories: {refusal: {threshold: 0.7}}\n")
    assert Policy.from_file(path).version != version


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "categories: {prompt_injection: {threshold: 2}}",
            r"categories\.prompt_injection\.threshold must be between 0",
        ),
        ("categories: {prompt_injection: {threshold: high}}", "must be a number"),
        ("categories: {refusal: {level: severe}}", "level must be one of low, medium, high, critical"),
        ("categories: {refusal: {treshold: 0.5}}", "unknown key"),
        ("levels: {medium: 0.8, high: 0.5}", "levels must increase"),
        ("levels: {extreme: 0.99}", "unknown level"),
        ("severity: 3", "unknown key"),
        ("- just\n- a list", "top level must be a mapping"),
        ("version: [1, 2]", "'version' must be a non-empty string"),
        ("classifiers: {disabled: refusal}", "classifiers.disabled must be a list"),
        ("categories: [unclosed", "not valid YAML"),
    ],
)
def test_bad_policy_files_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=message) as info:
        Policy.from_file(path)
    assert str(path) in str(info.value)


def test_missing_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Policy.from_file(tmp_path / "nope.yaml")


def test_run_time_falls_back_to_defaults_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("categories: {refusal: {threshold: 7}}")
    with caplog.at_level(logging.WARNING, logger="llm_soc2.risk.policy"):
        engine = RiskEngine(Settings(risk_policy=str(path)))
    assert engine.policy.version == Policy.default().version
    assert "using the built-in risk policy" in caplog.text


def test_bad_classifier_option_falls_back_at_run_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("classifiers: {harmful_content: {lexicon: {x: {extreme: ['a']}}}}")
    policy = Policy.from_file(path)  # structurally valid; the lexicon is checked when built
    with caplog.at_level(logging.WARNING):
        engine = RiskEngine(policy=policy)
    assert engine.policy.version == Policy.default().version
    assert "unknown severity" in caplog.text


def test_settings_path_is_used(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("version: from-settings\n")
    assert RiskEngine(Settings(risk_policy=str(path))).policy.version == "from-settings"
