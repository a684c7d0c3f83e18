"""The scanned view: non-ASCII text folds the same whichever way it is folded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llm_soc2 import Scrubber
from llm_soc2.scrub.view import _FOLD, Unscrubbable, view_bytes


def _by_translation(text: str) -> bytes:
    """The definition of the fold: every character through the table."""
    return text.translate(_FOLD).encode("ascii")


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_fold_is_the_table_whatever_the_density_of_non_ascii(text: str) -> None:
    if "\\" in text or "%" in text or "&" in text:  # escapes are read after folding: not this test's
        return
    assert view_bytes(text) == _by_translation(text)


@pytest.mark.parametrize(
    "text",
    [
        # a few curly quotes and dashes in English: the encoder's path
        "It\u2019s done \u2014 the \u201cquarterly\u201d report is ready. " * 20,
        # Cyrillic and Japanese: every word a run, the translation's path
        "Привет мир, это тест. " * 40,
        "これはテストです。" * 100,
        # fullwidth digits, Arabic-Indic digits, zero-width space, no-break space: they fold to what
        # the patterns need, one byte per character
        "call \uff14\uff11\uff15 555 0132 or \u0664\u0661\u0665\u200b555\u00a00132",
    ],
)
def test_view_keeps_one_byte_per_character(text: str) -> None:
    data = view_bytes(text)
    assert len(data) == len(text)
    assert data == _by_translation(text)


def test_folded_digits_read_as_digits() -> None:
    assert view_bytes("\uff14\uff11\uff15 \u0664\u0661\u0665") == b"415 415"


@pytest.mark.parametrize("text", ["ok \ud800 then", "x" * 500 + "\u2019" + "\udfff"])
def test_lone_surrogates_are_refused_on_either_path(text: str) -> None:
    with pytest.raises(Unscrubbable):
        view_bytes(text)


def test_entities_are_read_only_after_an_ampersand() -> None:
    assert view_bytes("jane.doe&#64;example.com") == b"jane.doe@\x7f\x7f\x7f\x7fexample.com"
    assert view_bytes("R&D budget") == b"R&D budget"


def test_typographic_quotes_read_as_ascii_quotes() -> None:
    assert view_bytes("it\u2019s \u201cdone\u201d \u00abok\u00bb") == b'it\'s "done" "ok"'


@pytest.mark.parametrize(
    "text",
    [
        "\u2713 done " * 50,  # a checklist
        "\U0001f600 ok " * 40,  # emoji
        "a\u2192b " * 60,  # arrows
        "नमस्ते दुनिया " * 30,  # vowel signs and viramas: combining marks
    ],
)
def test_symbols_and_combining_marks_are_text_not_binary(text: str) -> None:
    result = Scrubber().scrub(text + " mail jane.doe@example.com")
    assert result.error is None
    assert result.text == text + " mail [EMAIL]"


def test_control_characters_are_still_binary() -> None:
    assert Scrubber().scrub("\u2713 " + "\x01\x02\x03 " * 100).error == "binary content (control characters)"
