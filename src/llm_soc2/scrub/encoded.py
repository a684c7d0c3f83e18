"""Text hidden in base64: decoded so that what it holds is scanned like the text around it.

A prompt or a tool call can carry content base64-encoded: a data URL of a text file, a JSON document or a
header value passed through as it is (``Authorization: Basic ...``). The address in
``eyJlbWFpbCI6ImphbmVAZXhhbXBsZS5jb20ifQ==`` is as much an address as the plain one, and an exporter that
receives the run receives the address. The engine finds runs of the base64 alphabet (standard or URL-safe)
that look like encoded text (``TEXT_RUN``), decodes those that decode to text, scans the text once more
(without decoding again), and a finding there redacts the whole run.

Decoding is bounded: at most ``MAX_RUNS`` runs per pass and ``MAX_RUN_CHARS`` characters of each (a
longer run is decoded from its start; the rest of it is not scanned); a value encoded on its own in fewer
than ``MIN_RUN`` characters is not looked for, nor is text that is mostly not ASCII (see
``base64_text``). What does not decode to text
(images, keys, hashes, random ids: almost never valid UTF-8) is left as it is, and so is decoded text
the scan refuses (binary content).
"""

from __future__ import annotations

import binascii
from typing import Final

# Twelve bytes once decoded: a phone number or an SSN with a character either side.
MIN_RUN: Final = 16
MAX_RUNS: Final = 64
MAX_RUN_CHARS: Final = 64 * 1024
# Either alphabet: standard ("+/") or URL-safe ("-_"), as a set of bytes and as a character class.
RUN_CHARS: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_CHAR: Final = rb"[A-Za-z0-9+/_\-]"
# A run that encodes text: from the start of a run, whole groups of four, then four groups whose first
# character encodes an ASCII byte (see ``base64_text``), one of them mixed. Words and identifiers rarely
# hold such groups where a group would start (a lower-case letter leads a group one time in four), so
# ordinary text is not looked at twice: this pattern is one more in the engine's single pass, and only a
# run it finds is decoded.
_GROUP: Final = rb"(?:[A-Za-f]" + _CHAR + rb"{3})"  # a group whose first byte is ASCII
# ... and one that also holds an upper-case letter, a digit or a symbol: base64 of text has one in almost
# every group (the second character of a group encodes a lower-case letter's high bits as G, H, W, X, m,
# n, 2 or 3), while a word, or an escaped letter read six times ("aaaaaa"), has none.
_MIXED: Final = (
    rb"(?:[A-Z]"
    + _CHAR
    + rb"{3}|[a-f](?:[A-Z0-9+/_\-]"
    + _CHAR
    + rb"{2}|"
    + _CHAR
    + rb"[A-Z0-9+/_\-]"
    + _CHAR
    + rb"|"
    + _CHAR
    + rb"{2}[A-Z0-9+/_\-]))"
)
TEXT_RUN: Final = (
    rb"(?:^|[^A-Za-z0-9+/_\-])(?:"
    + _CHAR
    + rb"{4})*?(?:"
    + _MIXED
    + _GROUP
    + rb"{3}|"
    + _GROUP
    + _MIXED
    + _GROUP
    + rb"{2}|"
    + _GROUP
    + rb"{2}"
    + _MIXED
    + _GROUP
    + rb"|"
    + _GROUP
    + rb"{3}"
    + _MIXED
    + rb")"
)
# The rest of a run, from where it starts.
RUN_REST: Final = _CHAR + rb"*={0,2}"


def decode_base64(block: bytes) -> bytes | None:
    """The bytes ``block`` (standard or URL-safe base64, padding optional) stands for, or None."""
    if b"-" in block or b"_" in block:
        block = block.translate(_URL_SAFE)
    data = block.rstrip(b"=")
    if len(data) % 4 == 1:  # a lone last character holds no whole byte
        data = data[:-1]
    try:
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4), strict_mode=True)
    except (binascii.Error, ValueError):
        return None


_URL_SAFE: Final = bytes.maketrans(b"-_", b"+/")
_ASCII_LEADS: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


def base64_text(block: bytes) -> str | None:
    """The text ``block`` decodes to, or None. Text is valid UTF-8, which binary data of more than a few
    bytes almost never is; what else it holds, the scan judges.

    Mostly ASCII text is recognised before decoding: the first character of each group of four holds
    the top six bits of a byte, which for an ASCII byte read "A"-"Z" or "a"-"f". A long word or an
    identifier has about half its groups start elsewhere and is not decoded at all."""
    leads = block[:MAX_RUN_CHARS:4]
    if len(leads.translate(None, _ASCII_LEADS)) * 4 > len(leads):  # over a quarter of bytes not ASCII
        return None
    raw = decode_base64(block[:MAX_RUN_CHARS])
    if raw is None or len(raw) < 6:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # A run cut at MAX_RUN_CHARS may end inside a character.
        return raw.decode("utf-8", "ignore") if len(block) > MAX_RUN_CHARS else None
