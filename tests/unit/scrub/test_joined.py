"""The texts of one span are scanned in one pass: the result must be exactly that of scanning each alone."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from re2 import _re2

from llm_soc2.fingerprint import SecretRegistry
from llm_soc2.scrub import DetectorRegistry, Scrubber
from llm_soc2.scrub.engine import JOIN, Engine, joinable

from .conftest import make_scrubber
from .plugin_detectors import EmployeeIdDetector
from .test_properties import SEPARATORS, SURROUNDING, embedded

_SCRUBBER = make_scrubber()


def _alone(scrubber: Scrubber, texts: list[str]) -> list[tuple[str | None, object, str | None]]:
    return [(r.text, r.findings, r.error) for r in (scrubber.scrub(text) for text in texts)]


def _joined(scrubber: Scrubber, texts: list[str]) -> list[tuple[str | None, object, str | None]]:
    return [(r.text, r.findings, r.error) for r in scrubber.scrub_many(texts)]


@st.composite
def leaf(draw: st.DrawFn) -> str:
    """A text with a value at its very start or end (where the join stands in for the text's edge),
    inside, or none."""
    _entity, value, text, _secret = draw(embedded())
    shape = draw(st.sampled_from(["edge-start", "edge-end", "whole", "inside", "plain"]))
    if shape == "edge-start":
        return value + draw(SEPARATORS) + draw(SURROUNDING)
    if shape == "edge-end":
        return draw(SURROUNDING) + draw(SEPARATORS) + value
    if shape == "whole":
        return value
    if shape == "plain":
        return draw(SURROUNDING)
    return text


def test_built_in_detectors_can_be_joined() -> None:
    assert Engine(DetectorRegistry(plugins=False).enabled()).joinable


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(leaf(), min_size=2, max_size=6))
def test_one_pass_finds_what_each_text_alone_finds(texts: list[str]) -> None:
    assert _joined(_SCRUBBER, texts) == _alone(_SCRUBBER, texts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=120), min_size=2, max_size=5))
def test_arbitrary_texts_agree_too(texts: list[str]) -> None:
    assert _joined(_SCRUBBER, texts) == _alone(_SCRUBBER, texts)


def test_context_words_do_not_reach_across_texts() -> None:
    # "ssn" in one text must not make a bare nine-digit number in the next one an SSN.
    texts = ["my ssn", "536221234 is an order number", "call", "4155552671"]
    assert _joined(_SCRUBBER, texts) == _alone(_SCRUBBER, texts)
    assert [r.text for r in _SCRUBBER.scrub_many(texts)] == texts


def test_values_at_both_edges_of_every_text() -> None:
    texts = ["jane@example.com", "203.0.113.7", "4111 1111 1111 1111", "536-22-1234", "x 203.0.113.7."]
    results = _SCRUBBER.scrub_many(texts)
    assert [r.text for r in results] == [
        "[EMAIL]",
        "[IP_ADDRESS]",
        "[CREDIT_CARD]",
        "[US_SSN]",
        "x [IP_ADDRESS].",
    ]


def test_a_private_key_does_not_grow_into_the_next_text() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq98"
    texts = [pem, "AAAA plain text\nmore"]
    assert _joined(_SCRUBBER, texts) == _alone(_SCRUBBER, texts)
    assert _SCRUBBER.scrub_many(texts)[1].text == texts[1]


def test_refused_texts_are_dropped_alone() -> None:
    texts = ["a jane@example.com", "b \ud800", "\x00" * 100, "", "c 203.0.113.7"]
    results = _SCRUBBER.scrub_many(texts)
    assert [r.text for r in results] == ["a [EMAIL]", None, None, "", "c [IP_ADDRESS]"]
    assert [r.error for r in results] == [
        None,
        "text holds lone surrogates",
        "binary content (control characters)",
        None,
        None,
    ]


def test_client_keys_are_found_in_every_text() -> None:
    known = SecretRegistry()
    known.add("zq-client-key-0123456789")
    scrubber = make_scrubber(known_secrets=known)
    texts = ["zq-client-key-0123456789", "x zq-client-key-0123456789 y", "none"]
    assert [r.text for r in scrubber.scrub_many(texts)] == [
        "[CLIENT_API_KEY]",
        "x [CLIENT_API_KEY] y",
        "none",
    ]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"(?:^|[^0-9])([0-9]{9})(?:[^0-9]|$)", True),
        (r"(?:^|\s)(EMP-[0-9]{6})", True),
        (r"(?:[^0-9.]|\.[^0-9]|\.$|$)", True),
        (r"(?:^| )(EMP-[0-9]{6})", False),  # a space cannot stand in for the start at the join
        (r"^EMP-[0-9]{6}", False),
        (r"EMP-[0-9]{6}$", False),
        (r"(?:^|[^\n])x", False),
    ],
)
def test_joinable_accepts_only_anchors_a_line_break_can_stand_in_for(pattern: str, expected: bool) -> None:
    assert joinable(pattern) is expected


def test_a_plugin_with_a_bare_anchor_scans_each_text_alone() -> None:
    class AnchoredDetector:
        entity = "ANCHORED_ID"
        kind = "pii"
        patterns = (r"^(?:ID-[0-9]{6})",)

        def validate(self, value: str, context: str) -> bool:
            return True

    registry = DetectorRegistry(plugins=False)
    registry.register(AnchoredDetector)
    registry.register(EmployeeIdDetector)
    scrubber = make_scrubber(registry=registry)
    texts = ["ID-123456 first", "ID-654321 second", "EMP-123456"]
    assert [r.text for r in scrubber.scrub_many(texts)] == [
        "[ANCHORED_ID] first",
        "[ANCHORED_ID] second",
        "[EMPLOYEE_ID]",
    ]


def test_no_pattern_can_take_the_byte_in_the_middle_of_the_join() -> None:
    engine = Engine(DetectorRegistry(plugins=False).enabled())
    middle = JOIN.strip(b"\n")
    anywhere = _re2.RE2.Anchor.UNANCHORED
    for compiled in engine._compiled:
        assert compiled.regex.Match(anywhere, middle, 0, len(middle))[0][0] == -1
        if compiled.extension is not None:
            assert compiled.extension.Match(anywhere, middle, 0, len(middle))[0] == (0, 0)
