"""Whatever goes wrong, the content is dropped with a reason, and nothing is raised."""

from __future__ import annotations

import pytest

from llm_soc2.config import Settings
from llm_soc2.scrub import DetectorRegistry, Scrubber, ScrubError

from .conftest import make_scrubber
from .plugin_detectors import ExplodingDetector, WaitingDetector


@pytest.mark.parametrize("value", [None, b"bytes jane@example.com", 42, ["jane@example.com"]])
def test_non_strings_are_dropped(scrubber: Scrubber, value: object) -> None:
    result = scrubber.scrub(value)  # type: ignore[arg-type]
    assert result.text is None
    assert result.error == "not a string"


def test_lone_surrogates_are_dropped(scrubber: Scrubber) -> None:
    result = scrubber.scrub("mail jane@example.com \ud800 end")
    assert result.text is None
    assert result.error == "text holds lone surrogates"


def test_nul_flood_is_binary_and_dropped(scrubber: Scrubber) -> None:
    result = scrubber.scrub("jane@example.com" + "\x00" * 1000)
    assert result.text is None
    assert result.error == "binary content (control characters)"


def test_a_few_control_characters_are_scanned_through(scrubber: Scrubber) -> None:
    result = scrubber.scrub("card 4111\x001111\x071111\x1b1111 and a long enough sentence around it")
    assert result.text == "card [CREDIT_CARD] and a long enough sentence around it"


def test_too_large_is_dropped_unscanned() -> None:
    scrubber = make_scrubber(max_chars=1000)
    result = scrubber.scrub("a" * 1001)
    assert (result.text, result.error) == (None, "input too large")


def test_time_budget_overrun_drops_the_content() -> None:
    scrubber = make_scrubber(scrub_timeout_ms=0.1)
    result = scrubber.scrub("call 415-555-2671 " * 20_000)
    assert result.text is None
    assert result.error == "timeout"


def test_the_budget_counts_work_not_waiting() -> None:
    # 16 values each waiting 30 ms: half a second of wall time, far over a 20 ms budget, little CPU.
    registry = DetectorRegistry(plugins=False)
    registry.register(WaitingDetector)
    scrubber = Scrubber(Settings(scrub_timeout_ms=20.0), registry=registry, key=b"k" * 32)
    text = " ".join(f"TKT-{n:04d}" for n in range(16)) + " and jane@example.com"
    result = scrubber.scrub(text)
    assert result.error is None
    assert result.text is not None
    assert "TKT-0007" not in result.text
    assert "jane@example.com" not in result.text


def test_exception_in_a_detector_drops_the_content_and_names_no_content() -> None:
    registry = DetectorRegistry(plugins=False)
    registry.register(ExplodingDetector)
    scrubber = Scrubber(registry=registry, key=b"k" * 32)
    result = scrubber.scrub("a boom42 with jane@example.com")
    assert result.text is None
    assert result.error == "internal error: RuntimeError"
    assert scrubber.scrub("no trigger here").text == "no trigger here"


def test_scan_raises_a_scrub_error_instead(scrubber: Scrubber) -> None:
    with pytest.raises(ScrubError) as caught:
        scrubber.scan("x \ud800")
    assert caught.value.reason == "text holds lone surrogates"


def test_missing_deployment_key_masks_instead_of_pseudonymizing() -> None:
    settings = Settings(pii_action="pseudonymize", secret_key_hex="00", scrub_timeout_ms=30_000)
    scrubber = Scrubber(settings, registry=DetectorRegistry(plugins=False))
    assert scrubber.scrub("jane@example.com").text == "[EMAIL]"


def test_scrub_many_keeps_order_and_isolates_failures(scrubber: Scrubber) -> None:
    results = scrubber.scrub_many(["a jane@example.com", "b \ud800", "c"])
    assert [r.text for r in results] == ["a [EMAIL]", None, "c"]


def test_empty_text(scrubber: Scrubber) -> None:
    result = scrubber.scrub("")
    assert (result.text, result.findings, result.error) == ("", (), None)


def test_scrub_many_shares_one_budget_per_span() -> None:
    scrubber = make_scrubber(scrub_timeout_ms=1.0)
    slow = "call 415-555-2671 " * 5_000
    results = scrubber.scrub_many([slow, "jane@example.com", "plain"])
    assert [r.error for r in results] == ["timeout", "timeout", "timeout"]
    assert all(r.text is None for r in results)


def test_a_scrubber_that_cannot_be_built_drops_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_soc2.scrub import scrubber as scrubber_module

    def no_engine(detectors: object) -> None:
        raise MemoryError

    monkeypatch.setattr(scrubber_module, "Engine", no_engine)
    broken = make_scrubber()
    result = broken.scrub("jane@example.com")
    assert (result.text, result.error) == (None, "scrubber unavailable: MemoryError")
