"""No input makes the scan superlinear: time grows with the input's size, never with its square.

Each adversarial input is scanned at two sizes, eight times apart. A quadratic scan would take about 64
times longer on the larger; the bound allows 8 x 4 (plus a constant for timer noise), so a slow machine
passes and a backtracking or rescanning pattern fails. The time budget is switched off (a huge
``scrub_timeout_ms``) so that the scan really runs to the end.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

import pytest

from llm_soc2.scrub import Scrubber

from .conftest import make_scrubber

SMALL = 6_000
FACTOR = 8


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _random_text(alphabet: str) -> Callable[[int], str]:
    def make(n: int) -> str:
        rng = random.Random(n)
        return "".join(rng.choices(alphabet, k=n))

    return make


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "a.": _repeat("a."),
    "a@": _repeat("a@"),
    "a@a.": _repeat("a@a."),
    "local part run": lambda n: "a" * (n - 12) + "@example.com",
    "digits": _repeat("1"),
    "digits and spaces": _repeat("1 "),
    "digits and dots": _repeat("1.2.3.4."),
    "phone shapes": _repeat("(415) 555-2671 2 "),
    "cards": _repeat("4111 1111 1111 1111 "),
    "hex and colons": _repeat("ab:"),
    "sk- prefixes": _repeat("sk-"),
    "jwt starts": _repeat("eyJhbGciOiJI."),
    "pem headers": _repeat("-----BEGIN RSA PRIVATE KEY-----"),
    "pem without end": lambda n: "-----BEGIN PRIVATE KEY-----\n" + "QUJD" * (n // 4),
    "password keys": _repeat("password=password="),
    "url credentials": _repeat("ab://x:y@"),
    "random symbols": _random_text("abcdefghij0123456789 .-@:/+=_"),
    "binary-ish": lambda n: os.urandom(n).decode("latin-1"),
    "cjk": lambda n: "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(n)),
    "zero-width in digits": _repeat("4\u200b"),
}


@pytest.fixture(scope="module")
def unbounded() -> Scrubber:
    return make_scrubber(scrub_timeout_ms=3_600_000.0, max_chars=1 << 30)


def _seconds(scrubber: Scrubber, text: str) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        result = scrubber.scrub(text)
        best = min(best, time.perf_counter() - start)
        assert result.error in (None, "binary content (control characters)")
    return best


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_scan_time_grows_linearly(unbounded: Scrubber, name: str) -> None:
    make = ADVERSARIAL[name]
    small = _seconds(unbounded, make(SMALL))
    large = _seconds(unbounded, make(SMALL * FACTOR))
    assert large < FACTOR * 4 * small + 0.25, (
        f"{name}: {small:.4f}s for {SMALL}, {large:.4f}s for {SMALL * FACTOR}"
    )


def test_presidio_redos_input_is_fast(scrubber: Scrubber) -> None:
    """The 8,000-character input that takes Presidio's email and URL recognizers seconds."""
    start = time.perf_counter()
    assert scrubber.scrub("a." * 4000).text == "a." * 4000
    assert time.perf_counter() - start < 0.5


def test_one_mebibyte_is_bounded_in_time_and_handled() -> None:
    scrubber = make_scrubber(scrub_timeout_ms=60_000.0)
    text = _random_text("abcdefghijklmnopqrstuvwxyz ,.\n0123456789")(1 << 20)
    start = time.perf_counter()
    result = scrubber.scrub(text)
    assert time.perf_counter() - start < 30
    assert result.error is None
    assert result.text is not None
    assert len(result.text) > (1 << 19)


def test_default_budget_turns_a_flood_into_a_drop_quickly() -> None:
    scrubber = make_scrubber(scrub_timeout_ms=50.0)
    start = time.perf_counter()
    result = scrubber.scrub("1 " * 500_000)
    elapsed = time.perf_counter() - start
    assert result.error == "timeout"
    assert elapsed < 2.0
