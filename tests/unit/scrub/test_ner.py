"""Optional PERSON/LOCATION detection: off by default, plumbed through the registry, fail closed."""

from __future__ import annotations

import logging

import pytest

from llm_soc2.config import Settings
from llm_soc2.scrub import DetectorRegistry

from .conftest import make_scrubber


class FakeNer:
    """Stands in for Presidio + spaCy (whose models cannot be fetched here): finds listed names."""

    entities = ("PERSON", "LOCATION")

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def analyze(self, text: str) -> list[tuple[int, int, str]]:
        found = []
        for name, entity in self.names.items():
            start = text.find(name)
            if start >= 0:
                found.append((start, start + len(name), entity))
        return found


def test_ner_is_off_by_default() -> None:
    assert DetectorRegistry.from_settings(Settings()).ner is None


def test_ner_requested_without_the_extra_stays_off_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("re2")  # the scrubber itself must import; presidio must not be there
    try:
        import presidio_analyzer  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("presidio-analyzer is installed here")
    with caplog.at_level(logging.WARNING):
        registry = DetectorRegistry.from_settings(Settings(pii_ner=True))
    assert registry.ner is None
    assert "PII NER is enabled but cannot be loaded" in caplog.text


def test_ner_findings_are_redacted_and_lose_overlaps_to_patterns() -> None:
    registry = DetectorRegistry(plugins=False)
    registry.ner = FakeNer({"Jane Doe": "PERSON", "Berlin": "LOCATION", "jane@example.com": "PERSON"})
    scrubber = make_scrubber(registry=registry)
    result = scrubber.scrub("Jane Doe from Berlin, jane@example.com")
    assert result.text == "[PERSON] from [LOCATION], [EMAIL]"
    assert [f.detector for f in result.findings] == [
        "NerPersonDetector",
        "NerLocationDetector",
        "EmailDetector",
    ]


def test_a_failing_ner_drops_the_content() -> None:
    class Broken:
        entities = ("PERSON",)

        def analyze(self, text: str) -> list[tuple[int, int, str]]:
            raise OSError("model missing")

    registry = DetectorRegistry(plugins=False)
    registry.ner = Broken()
    result = make_scrubber(registry=registry).scrub("Jane Doe")
    assert (result.text, result.error) == (None, "internal error: OSError")
