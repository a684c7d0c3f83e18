"""Text helpers shared by the classifiers: bounded windows, pattern building, de-obfuscation.

Everything here is linear in the size of its input and bounded by the window: a classifier never looks
at more than ``HEAD_CHARS + TAIL_CHARS`` characters of one text, however large the text is. Texts are
handed to RE2 as UTF-8 bytes encoded with ``surrogatepass``, so lone surrogates and other junk never
raise; RE2 treats bytes that are not valid UTF-8 as characters that match no letter class.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any, Final

import re2

HEAD_CHARS: Final = 32_768  # scanned from the start of a text ...
TAIL_CHARS: Final = 8_192  # ... and from its end; the middle of a larger text is not scanned
WINDOW_CHARS: Final = HEAD_CHARS + TAIL_CHARS  # texts up to this long are scanned whole
JOIN_LIMIT: Final = 64  # at most this many tool results / parts are joined into one scanned text

# Leetspeak classes used when a cue word is turned into a pattern: "ignore" also matches "1gn0r3".
_LEET: Final = {
    "a": "[a4@]",
    "b": "[b8]",
    "e": "[e3]",
    "g": "[g9]",
    "i": "[i1!]",
    "l": "[l1]",
    "o": "[o0]",
    "s": "[s5$]",
    "t": "[t7]",
    "z": "[z2]",
}

# Characters that hide text from a reader: zero-width and word joiners, BOM, Mongolian vowel separator.
ZERO_WIDTH: Final = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e"
BIDI_CONTROLS: Final = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

# Cyrillic and Greek letters that look like Latin ones (the common confusables; NFKC handles the
# fullwidth and mathematical alphanumeric forms).
_CONFUSABLES: Final = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m", "н": "h",
    "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ɡ": "g", "ո": "n", "ս": "u",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "γ": "y",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}  # fmt: skip
_FOLD_TABLE: Final = str.maketrans({**_CONFUSABLES, **dict.fromkeys(ZERO_WIDTH + BIDI_CONTROLS)})
_ROT13: Final = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)
_TAG_FIRST: Final = 0xE0000
_TAG_RUN: Final = re2.compile(r"[\x{E0000}-\x{E007F}]+")
_BLACK_FLAG: Final = "\U0001f3f4"  # subdivision flags are 🏴 + tag letters + cancel tag: not a payload

# "i g n o r e", "i.g.n.o.r.e": five or more single letters separated by one space/dot/dash/star.
_SPACED_LETTERS: Final = re2.compile(r"\b(?:[A-Za-z][ ._*\-]){3,}[A-Za-z]\b")
_SEPARATORS: Final = str.maketrans(dict.fromkeys(" ._*-"))
_NON_SPACE_SEPARATORS: Final = str.maketrans(dict.fromkeys("._*-"))


def options(max_mem: int = 64 << 20) -> re2.Options:
    """RE2 options for our patterns: UTF-8, enough memory that the DFA never gives up on a window."""
    opts = re2.Options()
    opts.max_mem = max_mem
    opts.log_errors = False
    return opts


def window(text: str) -> str:
    """The part of ``text`` that is scanned: all of it, or its head and tail when it is larger."""
    if len(text) <= WINDOW_CHARS:
        return text
    return text[:HEAD_CHARS] + "\n" + text[-TAIL_CHARS:]


def as_text(value: object) -> str:
    """Any value as text, never raising: bytes are decoded leniently, ``None`` is empty."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value[: (HEAD_CHARS + TAIL_CHARS) * 4]).decode("utf-8", "replace")
    try:
        return str(value)
    except Exception:
        return ""


def clean(text: str) -> str:
    """``text`` with lone surrogates replaced by "?", for the str-based RE2 calls (which encode strictly)."""
    if text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8")


def encode(text: str) -> bytes:
    """UTF-8 bytes for RE2; lone surrogates pass through as (invalid) bytes instead of raising."""
    return text.encode("utf-8", "surrogatepass")


def join(parts: Iterable[str]) -> str:
    """Several texts (tool results, context parts) as one bounded text."""
    out: list[str] = []
    budget = HEAD_CHARS + TAIL_CHARS
    for count, part in enumerate(parts):
        if count >= JOIN_LIMIT or budget <= 0:
            break
        piece = as_text(part)[:budget]
        out.append(piece)
        budget -= len(piece) + 1
    return "\n".join(out)


def leet(word: str) -> str:
    """A pattern for ``word`` that tolerates leetspeak digits and symbols (case is the caller's flag)."""
    return "".join(_LEET.get(ch, re2.escape(ch)) for ch in word.lower())


def alternation(words: Iterable[str], *, leetspeak: bool = True) -> str:
    """``(?:w1|w2|...)`` where spaces inside a phrase match any run of spaces and punctuation."""
    items = []
    for phrase in words:
        tokens = [leet(tok) if leetspeak else re2.escape(tok) for tok in phrase.split()]
        items.append(r"\W+".join(tokens))
    return "(?:" + "|".join(items) + ")"


def rot13(text: str) -> str:
    return text.translate(_ROT13)


def fold(text: str) -> str:
    """Undo the cheap visual obfuscations: NFKC, confusable letters, zero-width and bidi characters,
    and letters spelt out with separators ("i g n o r e" -> "ignore")."""
    folded = unicodedata.normalize("NFKC", clean(text)).translate(_FOLD_TABLE)
    if _SPACED_LETTERS.search(folded) is None:
        return folded
    return str(_SPACED_LETTERS.sub(_collapse, folded))


def _collapse(match: Any) -> str:
    """ "p.i.p.e b.o.m.b" -> "pipe bomb"; with spaces as the only separator the word breaks are unknown
    and everything joins ("k i l l" -> "kill")."""
    run: str = match.group(0)
    if " " in run and any(sep in run for sep in "._*-"):
        return run.translate(_NON_SPACE_SEPARATORS)
    return run.translate(_SEPARATORS)


_MORSE: Final = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g", "....": "h", "..": "i",
    ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n", "---": "o", ".--.": "p", "--.-": "q", ".-.": "r",
    "...": "s", "-": "t", "..-": "u", "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z",
    "-----": "0", ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6",
    "--...": "7", "---..": "8", "----.": "9",
}  # fmt: skip
_MORSE_RUN: Final = re2.compile(r"(?:[.\-]{1,6}[ /]+){8,}[.\-]{1,6}")


def morse(text: str) -> str:
    """Morse code runs decoded (letters split by one space, words by two spaces or a slash)."""
    words_out: list[str] = []
    for match in _MORSE_RUN.finditer(clean(text)):
        run = match.group(0).replace("/", "  ")
        for word in run.split("  "):
            letters = "".join(_MORSE.get(symbol, "") for symbol in word.split())
            if letters:
                words_out.append(letters)
    return " ".join(words_out)


def tag_payload(text: str) -> str:
    """The ASCII hidden in Unicode tag characters (U+E0020..U+E007E), minus emoji subdivision flags
    (🏴 followed by tag letters, e.g. the flag of Scotland)."""
    out: list[str] = []
    text = clean(text)
    for match in _TAG_RUN.finditer(text):
        start = match.start()
        if start > 0 and text[start - 1] == _BLACK_FLAG:
            continue
        out.append(
            "".join(chr(ord(ch) - _TAG_FIRST) for ch in match.group(0) if 0xE0020 <= ord(ch) <= 0xE007E)
        )
    return " ".join(out)
