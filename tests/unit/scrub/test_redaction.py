"""Actions per entity: mask, keyed pseudonym, drop; secrets' defaults; offsets in the original text."""

from __future__ import annotations

import json
import random
import re

from llm_soc2.fingerprint import fingerprint
from llm_soc2.scrub import Action, Kind, Scrubber

from . import values
from .conftest import KEY, make_scrubber

TEXT = "Mail jane.doe@example.com or call +44 20 7946 0958."


def test_mask_is_the_default(scrubber: Scrubber) -> None:
    result = scrubber.scrub(TEXT)
    assert result.text == "Mail [EMAIL] or call [PHONE]."
    assert result.entities == ("EMAIL", "PHONE")
    assert result.error is None


def test_findings_point_into_the_original_text(scrubber: Scrubber) -> None:
    result = scrubber.scrub(TEXT)
    assert [TEXT[f.start : f.end] for f in result.findings] == ["jane.doe@example.com", "+44 20 7946 0958"]
    assert all(f.action is Action.MASK and f.kind is Kind.PII for f in result.findings)
    assert [f.detector for f in result.findings] == ["EmailDetector", "PhoneDetector"]


def test_pseudonym_is_the_keyed_fingerprint_of_the_canonical_value() -> None:
    scrubber = make_scrubber(pii_action="pseudonymize")
    result = scrubber.scrub("from Jane.Doe@Example.com")
    expected = fingerprint("jane.doe@example.com", KEY, purpose="pseudonym:EMAIL")[:8]
    assert result.text == f"from [EMAIL:{expected}]"


def test_pseudonyms_correlate_across_formats_and_differ_across_values() -> None:
    scrubber = make_scrubber(pii_action="pseudonymize")
    a = scrubber.scrub("card 4111 1111 1111 1111").text
    b = scrubber.scrub("card 4111-1111-1111-1111").text
    c = scrubber.scrub("card 5555 5555 5555 4444").text
    assert a == b
    assert a != c
    assert a is not None
    assert re.fullmatch(r"card \[CREDIT_CARD:[0-9a-f]{8}\]", a)


def test_pseudonyms_depend_on_the_key() -> None:
    from llm_soc2.config import Settings
    from llm_soc2.fingerprint import SecretRegistry
    from llm_soc2.scrub import DetectorRegistry

    settings = Settings(pii_action="pseudonymize", scrub_timeout_ms=30_000)
    other = Scrubber(
        settings, registry=DetectorRegistry(plugins=False), key=b"x" * 32, known_secrets=SecretRegistry()
    )
    assert (
        other.scrub("jane@example.com").text
        != make_scrubber(pii_action="pseudonymize").scrub("jane@example.com").text
    )


def test_drop_removes_the_whole_text_but_reports_findings() -> None:
    scrubber = make_scrubber(pii_actions={"CREDIT_CARD": "drop"})
    result = scrubber.scrub("ok jane@example.com 4111 1111 1111 1111")
    assert result.dropped
    assert result.error is None
    assert [f.action for f in result.findings] == [Action.MASK, Action.DROP]
    assert scrubber.scrub("only jane@example.com").text == "only [EMAIL]"


def test_secrets_are_masked_when_pii_is_pseudonymized() -> None:
    scrubber = make_scrubber(pii_action="pseudonymize")
    key = values.github_token(random.Random(5))
    result = scrubber.scrub(f"jane@example.com {key}")
    assert result.text is not None
    assert result.text.endswith(" [GITHUB_TOKEN]")
    assert result.text.startswith("[EMAIL:")


def test_secret_follows_an_explicit_per_entity_action() -> None:
    scrubber = make_scrubber(pii_actions={"GITHUB_TOKEN": "pseudonymize"})
    result = scrubber.scrub(values.github_token(random.Random(6)))
    assert result.text is not None
    assert re.fullmatch(r"\[GITHUB_TOKEN:[0-9a-f]{8}\]", result.text)


def test_secrets_follow_drop_as_default() -> None:
    scrubber = make_scrubber(pii_action="drop")
    assert scrubber.scrub(values.openai_key(random.Random(7))).dropped


def test_invalid_action_names_fall_back_to_the_default() -> None:
    scrubber = make_scrubber(pii_actions={"EMAIL": "shred"})
    assert scrubber.scrub("jane@example.com").text == "[EMAIL]"


def test_client_api_key_is_never_pseudonymized() -> None:
    scrubber = make_scrubber(pii_action="pseudonymize", pii_actions={"CLIENT_API_KEY": "pseudonymize"})
    assert scrubber.action_for("CLIENT_API_KEY", Kind.SECRET) is Action.MASK


def test_unicode_text_keeps_its_characters_and_offsets(scrubber: Scrubber) -> None:
    text = "Grüße an jürgen@müller.de — Karte ４１１１ １１１１ １１１１ １１１１ ✓"
    result = scrubber.scrub(text)
    assert result.text == "Grüße an [EMAIL] — Karte [CREDIT_CARD] ✓"
    assert [text[f.start : f.end] for f in result.findings] == [
        "jürgen@müller.de",
        "４１１１ １１１１ １１１１ １１１１",
    ]


def test_invisible_characters_cannot_hide_a_value(scrubber: Scrubber) -> None:
    hidden = "4\u200b111 1111\u00ad 1111 1111"
    result = scrubber.scrub(f"card {hidden}!")
    assert result.text == "card [CREDIT_CARD]!"


def test_other_digit_scripts_are_read_as_digits(scrubber: Scrubber) -> None:
    arabic_indic = "".join(chr(0x0660 + int(d)) if d.isdigit() else d for d in "536-22-1234")
    assert scrubber.scrub(f"SSN {arabic_indic}").text == "SSN [US_SSN]"


def test_escaped_content_is_scanned_like_the_text_it_encodes(scrubber: Scrubber) -> None:
    raw_json = '{"notes": "Mobile:\\n07700 900 123\\nCard:\\t4111111111111111", "password": "Xk29fLq8Zp"}'
    escaped_again = raw_json.replace('"', '\\"')
    assert scrubber.scrub(raw_json).text == (
        '{"notes": "Mobile:\\n[PHONE]\\nCard:\\t[CREDIT_CARD]", "password": "[PASSWORD]"}'
    )
    result = scrubber.scrub(escaped_again)
    assert result.text is not None
    assert "4111111111111111" not in result.text
    assert "Xk29fLq8Zp" not in result.text


def test_unicode_escapes_are_read_as_the_characters_they_stand_for(scrubber: Scrubber) -> None:
    # json.dumps escapes every non-ASCII character: the digits after an escaped no-break space still
    # start a number, and an escaped accented letter is still part of an address.
    assert (
        scrubber.scrub(json.dumps({"q": "\u00a0376048764759382 "})).text == '{"q": "\\u00a0[CREDIT_CARD] "}'
    )
    assert scrubber.scrub(json.dumps({"e": "jos\u00e9@example.com"})).text == '{"e": "[EMAIL]"}'
    fullwidth = "".join(chr(0xFF10 + int(d)) if d.isdigit() else d for d in "4111 1111 1111 1111")
    assert scrubber.scrub(json.dumps({"c": f"card {fullwidth}"})).text == '{"c": "card [CREDIT_CARD]"}'
    cjk = json.dumps({"x": "\u65e5\u672c\u8a9e" * 40 + " \U0001f600 card 4111 1111 1111 1111"})
    result = scrubber.scrub(cjk)
    assert result.error is None  # many escapes are text, not binary content
    assert result.text is not None
    assert result.text.endswith('\\ude00 card [CREDIT_CARD]"}')


def test_context_words_count_as_whole_words(scrubber: Scrubber) -> None:
    assert scrubber.scrub("mobile 4155552671").text == "mobile [PHONE]"
    assert scrubber.scrub("hotel 4155552671").text == "hotel 4155552671"
