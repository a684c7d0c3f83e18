"""The engine: one finding per value, the RE2 set agreeing with the patterns, client keys."""

from __future__ import annotations

import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st
from re2 import _re2

from llm_soc2.fingerprint import SecretRegistry
from llm_soc2.scrub import DetectorRegistry, Scrubber
from llm_soc2.scrub.engine import Engine

from . import values
from .conftest import make_scrubber


def entities(scrubber: Scrubber, text: str) -> list[str]:
    return [f.entity for f in scrubber.scan(text)]


def test_email_inside_url_credentials_is_one_finding(scrubber: Scrubber) -> None:
    text = "https://jane:pass@example.com/x"
    assert [(f.entity, text[f.start : f.end]) for f in scrubber.scan(text)] == [
        ("URL_CREDENTIALS", "jane:pass")
    ]


def test_jwt_in_a_password_assignment_is_reported_as_jwt(scrubber: Scrubber) -> None:
    token = values.jwt(random.Random(1))
    assert scrubber.scrub(f"token: {token}").text == "token: [JWT]"


def test_client_key_wins_over_its_family() -> None:
    known = SecretRegistry()
    scrubber = make_scrubber(known_secrets=known)
    key = values.openai_key(random.Random(2))
    assert entities(scrubber, f"k={key}") == ["OPENAI_API_KEY"]
    known.add(key)
    assert entities(scrubber, f"k={key}") == ["CLIENT_API_KEY"]


def test_client_key_of_any_shape_and_its_fragments_are_redacted() -> None:
    known = SecretRegistry()
    key = "internal-" + "".join(random.Random(3).choice(string.ascii_lowercase) for _ in range(40))
    known.add(key)
    scrubber = make_scrubber(known_secrets=known)
    text = f"a{key}b and the head {key[:30]} and the tail {key[-30:]}"
    result = scrubber.scrub(text)
    assert result.text is not None
    for fragment in (key, key[:24], key[-24:]):
        assert fragment not in result.text
    assert entities(scrubber, text) == ["CLIENT_API_KEY"] * 3


def test_client_key_matcher_follows_the_registry_version() -> None:
    known = SecretRegistry()
    scrubber = Scrubber(registry=DetectorRegistry(plugins=False), key=b"k" * 32, known_secrets=known)
    assert scrubber.scrub("my key is plain-text-key-123").text == "my key is plain-text-key-123"
    known.add("plain-text-key-123")
    assert scrubber.scrub("my key is plain-text-key-123").text == "my key is [CLIENT_API_KEY]"
    known.clear()
    assert scrubber.scrub("my key is plain-text-key-123").text == "my key is plain-text-key-123"


def test_client_key_beside_a_backslash_is_redacted_as_written() -> None:
    # The scan reads escapes: "\\" then "n" reads as a line break, so these keys do not read as themselves.
    known = SecretRegistry()
    scrubber = make_scrubber(known_secrets=known)
    for key, text in (
        ("0000012\\", "0000012\\r"),  # a key ending in a backslash, an escape letter after it
        (
            "nKey-0000123",
            "\\nKey-0000123 and more",
        ),  # a key after a backslash, starting with an escape letter
        ("ab\\u00e9cd99", "x ab\\u00e9cd99"),  # a key holding a whole escape
    ):
        known.clear()
        known.add(key)
        result = scrubber.scrub(text)
        assert result.text is not None
        assert key not in result.text, (key, result.text)
        assert "CLIENT_API_KEY" in [f.entity for f in result.findings]


def test_overlapping_values_of_different_detectors_are_merged(scrubber: Scrubber) -> None:
    text = "password=jane@example.com9X"  # PASSWORD claims the whole value, EMAIL a part: one redaction
    result = scrubber.scrub(text)
    assert result.text == "password=[EMAIL]"


def test_registry_disable_removes_an_entity() -> None:
    scrubber = make_scrubber(pii_disabled=("IP_ADDRESS",))
    assert scrubber.scrub("from 203.0.113.7").text == "from 203.0.113.7"
    assert scrubber.scrub("jane@example.com").text == "[EMAIL]"


_ALPHABET = string.ascii_letters + string.digits + " .-:/@+=_()\n\t\x00\u00e9\uff14"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=300))
def test_the_set_agrees_with_each_pattern(text: str) -> None:
    """The prefilter says 'no match' only when no pattern matches: nothing is skipped that would be found."""
    engine = _ENGINE
    view, hits = engine.view(text)
    for index, compiled in enumerate(engine._compiled):
        found = compiled.regex.Match(_re2.RE2.Anchor.UNANCHORED, view.data, 0, len(view.data))[0][0] >= 0
        assert found == (index in hits)


_ENGINE = Engine(DetectorRegistry(plugins=False).enabled())


def test_a_failing_pattern_set_drops_the_text_instead_of_passing_it() -> None:
    class GaveUp:
        def Match(self, data: bytes) -> list[int]:  # what RE2's Set answers when its DFA runs out of memory
            return []

    scrubber = make_scrubber()
    scrubber._engine._set = GaveUp()  # type: ignore[assignment]
    result = scrubber.scrub("jane@example.com")
    assert (result.text, result.error) == (None, "pattern set failed (out of memory)")
