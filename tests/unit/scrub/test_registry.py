"""The registry: settings, plugins through the llm_soc2.detectors entry points, and the interface rules."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from llm_soc2.config import Settings
from llm_soc2.scrub import ENTRY_POINT_GROUP, DetectorRegistry, InvalidDetector, Kind
from llm_soc2.scrub.detectors import BUILTIN_DETECTORS

from .conftest import make_scrubber

MODULE = f"{__package__}.plugin_detectors"


def entry_point(name: str, attribute: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{MODULE}:{attribute}", group=ENTRY_POINT_GROUP)


def test_builtins_cover_every_entity() -> None:
    registry = DetectorRegistry(plugins=False)
    assert set(registry.entities) == {cls.entity for cls in BUILTIN_DETECTORS}
    assert len(registry.entities) == len(BUILTIN_DETECTORS) == 21


def test_settings_disable_entities() -> None:
    registry = DetectorRegistry.from_settings(Settings(pii_disabled=("PHONE", "IP_ADDRESS")))
    enabled = {d.entity for d in registry.enabled()}
    assert "PHONE" not in enabled
    assert "IP_ADDRESS" not in enabled
    assert "EMAIL" in enabled
    registry.enable("PHONE")
    assert "PHONE" in {d.entity for d in registry.enabled()}


def test_client_api_key_cannot_be_disabled() -> None:
    registry = DetectorRegistry(plugins=False, disabled=("CLIENT_API_KEY",))
    assert "CLIENT_API_KEY" in {d.entity for d in registry.enabled()}


def test_entry_point_plugin_is_loaded_and_used() -> None:
    registry = DetectorRegistry(plugins=False)
    assert registry.load_entry_points([entry_point("employee_id", "EmployeeIdDetector")]) == ["EMPLOYEE_ID"]
    detector = registry.get("EMPLOYEE_ID")
    assert detector is not None
    assert detector.kind is Kind.PII
    assert detector.name == "EmployeeIdDetector"
    scrubber = make_scrubber(registry=registry)
    result = scrubber.scrub("badge EMP-123456, not EMP-000000")
    assert result.text == "badge [EMPLOYEE_ID], not EMP-000000"
    assert [f.detector for f in result.findings] == ["EmployeeIdDetector"]


@pytest.mark.parametrize(
    ("attribute", "reason"),
    [("BrokenPatternDetector", "RE2 rejects"), ("UnboundedPatternDetector", "bound every repetition"),
     ("not_a_detector", "entity"), ("DoesNotExist", "DoesNotExist")],
)  # fmt: skip
def test_bad_plugins_are_skipped_with_a_reason(attribute: str, reason: str) -> None:
    registry = DetectorRegistry(plugins=False)
    before = set(registry.entities)
    loaded = registry.load_entry_points(
        [entry_point("bad", attribute), entry_point("ok", "EmployeeIdDetector")]
    )
    assert loaded == ["EMPLOYEE_ID"]
    assert set(registry.entities) == before | {"EMPLOYEE_ID"}
    assert len(registry.errors) == 1
    assert reason in registry.errors[0]


def test_installed_entry_points_are_read_without_error() -> None:
    registry = DetectorRegistry()
    assert registry.errors == []


@pytest.mark.parametrize(
    ("attributes", "message"),
    [({"entity": "lower"}, "upper-case"), ({"kind": "other"}, "kind"), ({"patterns": "x+"}, "tuple"),
     ({"patterns": ()}, "at least one"), ({"patterns": ("a*",)}, "empty string"), ({"patterns": ("é",)}, "ASCII")],
)  # fmt: skip
def test_interface_rules(attributes: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "entity": "X_ID",
        "kind": "pii",
        "patterns": ("X[0-9]{3}",),
        "validate": lambda s, v, c: True,
    }
    base.update(attributes)
    with pytest.raises(InvalidDetector, match=message):
        DetectorRegistry(plugins=False).register(type("Custom", (), base))


def test_plugin_replaces_builtin_of_the_same_entity() -> None:
    registry = DetectorRegistry(plugins=False)
    custom = type("MyEmail", (), {"entity": "EMAIL", "kind": "pii", "patterns": ("mail:[a-z]{3}",),
                                  "validate": lambda s, v, c: True})  # fmt: skip
    registry.register(custom)
    detector = registry.get("EMAIL")
    assert detector is not None
    assert detector.name == "MyEmail"
