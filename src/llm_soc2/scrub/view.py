"""The ASCII view of a text that the engine scans: one byte per character, so positions carry over.

ASCII text is its own view (one ``encode``). Any other character is folded to one ASCII byte:

==========================================  ===========================================================
Unicode                                     in the view
==========================================  ===========================================================
decimal digits of any script (Nd)           the ASCII digit ("４" and "٤" become "4")
compatibility forms of ASCII (NFKC)         that character (fullwidth "＠" becomes "@")
space separators (Zs)                       " "; dashes (Pd) "-"; line/paragraph separators "\\n"
typographic quotes (‘ ’ “ ” « » ...)        the ASCII quote, single or double
letters and other alphanumerics             "a" (so an internationalised address is still an address)
controls, format characters (zero-width     invisible: removed from the view before scanning, so they
space, joiners, BOM), combining marks       cannot be slipped between the digits of a number to hide it
lone surrogates                             the text is refused (it could not be exported anyway)
anything else (symbols, emoji)              "\\x1a", removed from the view like the invisible ones
==========================================  ===========================================================

The escapes of JSON and Python strings are read as what they stand for, position for position: ``\\n``,
``\\r``, ``\\t`` become a space and that character, ``\\uXXXX`` six bytes that read like the character
(see ``_unescape``), so escaped content is scanned like plain text. So are the percent escapes of URLs
(``jane.doe%40example.com`` in a query string is an address) and HTML numeric character references
(``jane.doe&#64;example.com``).

When a view holds invisible characters (ASCII controls included) it is compacted, and a table of runs
maps positions in the compacted view back to the original text. More than ``BINARY_RATIO`` control
characters mark binary content, which is refused rather than scanned (symbols, emoji and combining marks
are text, however many).
"""

from __future__ import annotations

import bisect
import codecs
import re
import string
import unicodedata

INVISIBLE = 0x00
SURROGATE = 0x01
OTHER = 0x1A
BINARY_RATIO = 0.10
# Control bytes that are not whitespace: the invisible class of the compacted view.
INVISIBLE_CLASS = rb"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
# One character class with "+": linear, each byte is looked at once per run.
_VISIBLE_RUN = re.compile(rb"[^" + INVISIBLE_CLASS + rb"]+")
_CONTROL_CHARACTER = re.compile("[" + INVISIBLE_CLASS.decode("ascii") + "]")
_INVISIBLE_BYTES = bytes(byte for byte in range(128) if _VISIBLE_RUN.fullmatch(bytes((byte,))) is None)
_MEMO_LIMIT = 65_536


class Unscrubbable(ValueError):
    """The text cannot be scanned safely (binary content, lone surrogates); the caller drops it."""


def fold_char(ch: str) -> int:
    """The byte a character becomes in the view (ASCII stays itself)."""
    if ch < "\x80":
        return ord(ch)
    quote = _QUOTES.get(ch)
    if quote is not None:
        return quote
    category = unicodedata.category(ch)
    if category == "Cs":
        return SURROGATE
    if category == "Nd":
        return 0x30 + unicodedata.digit(ch)
    if category in ("Cc", "Cf", "Mn", "Me"):
        return INVISIBLE
    if category == "Zs":
        return 0x20
    if category in ("Zl", "Zp"):
        return 0x0A
    if category == "Pd":
        return 0x2D
    compat = unicodedata.normalize("NFKC", ch)
    if len(compat) == 1 and " " < compat < "\x7f":
        return ord(compat)
    if ch.isalnum() or category == "Mc":
        return 0x61
    return OTHER


# Typographic quotes read as the ASCII ones: "it’s" is "it's", a “quoted” value is quoted.
_QUOTES = {**dict.fromkeys("‘’‚‛‹›", 0x27), **dict.fromkeys("“”„‟«»", 0x22)}


class _FoldTable(dict[int, int]):
    """``str.translate`` table: computed on first sight of a character, remembered (bounded)."""

    def __missing__(self, codepoint: int) -> int:
        value = fold_char(chr(codepoint))
        if len(self) < _MEMO_LIMIT:
            self[codepoint] = value
        return value


_FOLD = _FoldTable({i: i for i in range(128)})


class View:
    """``data`` is scanned. A compacted view keeps the view it was made from (``source``), and maps its
    positions back through a table of the runs it kept, built the first time a position is asked for:
    most compacted texts hold nothing, and never need it."""

    __slots__ = ("_runs", "_source", "data")

    def __init__(self, data: bytes, source: bytes | None = None) -> None:
        self.data = data
        self._source = source
        self._runs: tuple[tuple[int, ...], tuple[int, ...]] | None = None

    def to_text(self, start: int, end: int) -> tuple[int, int]:
        """The span in the original text of the view's ``[start, end)``. A span that ends where invisible
        bytes were removed takes them in: the rest of an escape (``\\uff11`` is one digit) or zero-width
        characters are redacted with the value they follow, never left behind."""
        if self._source is None:
            return start, end
        view_starts, text_starts = self._tables()
        last = bisect.bisect_right(view_starts, end - 1) - 1
        text_end = text_starts[last] + end - view_starts[last]
        if last + 1 < len(view_starts):
            if end == view_starts[last + 1]:
                text_end = text_starts[last + 1]
        elif end == len(self.data):
            text_end = len(self._source)
        i = bisect.bisect_right(view_starts, start) - 1
        return text_starts[i] + start - view_starts[i], text_end

    def _tables(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Where each kept run starts, in this view and in the source."""
        runs = self._runs
        if runs is None:
            assert self._source is not None
            view_starts: list[int] = []
            text_starts: list[int] = []
            position = 0
            for match in _VISIBLE_RUN.finditer(self._source):
                view_starts.append(position)
                text_starts.append(match.start())
                position += match.end() - match.start()
            if not view_starts:
                view_starts, text_starts = [0], [0]
            runs = self._runs = (tuple(view_starts), tuple(text_starts))
        return runs


def make_view(text: str) -> View:
    """The view of ``text``, not yet compacted (see ``compact``)."""
    return View(view_bytes(text))


def view_bytes(text: str) -> bytes:
    """The data of ``make_view(text)``: what is scanned, before any compaction."""
    if text.isascii():
        data = text.encode("ascii")
    else:
        data = _fold(text)
        if SURROGATE.to_bytes() in data and any("\ud800" <= ch <= "\udfff" for ch in text):
            raise Unscrubbable("text holds lone surrogates")
    if b"\\" in data:
        data = _unescape(data)
    if b"%" in data:
        data = _unescape_percent(data)
    # A one-byte search first: it is a memchr, a two-byte one walks the text ten times slower.
    if b"&" in data and b"&#" in data:
        data = _unescape_entities(data)
    return data


def reads_escapes(text: str) -> bool:
    """Whether the view of ``text`` may read escapes, i.e. differ from the text beyond folding."""
    return "\\" in text or "%" in text or ("&" in text and "&#" in text)


def _fold(text: str) -> bytes:
    """``text`` (not ASCII) folded to its view's bytes.

    ``str.translate`` looks every character up in the table once the text is not ASCII (about 30 ns a
    character), so one curly quote in an English answer made the whole text cost that. Where non-ASCII
    characters are few, the ASCII encoder copies the text and calls ``_fold_run`` for each run of
    them; where they are many (a Cyrillic or CJK text, whose runs are words), one ``translate`` is
    cheaper than a call per run. A non-ASCII character takes one to three extra bytes in UTF-8.

    Before either, the characters models write most (curly quotes, dashes, the no-break space, the
    ellipsis) are replaced by their folded byte with ``str.replace``, a C loop: an English answer is
    often ASCII after that."""
    for character, folded in _TYPOGRAPHIC:
        if character in text:
            text = text.replace(character, folded)
    if text.isascii():
        return text.encode("ascii")
    if (len(text.encode("utf-8", "surrogatepass")) - len(text)) * _SPARSE < len(text):
        return text.encode("ascii", _FOLD_ERRORS)
    return text.translate(_FOLD).encode("ascii")


def _fold_run(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: the folded form of the run of characters the ASCII encoder cannot encode."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    run = error.object[error.start : error.end]
    folded = _folded_runs.get(run)
    if folded is None:
        folded = run.translate(_FOLD)
        if len(run) <= 4 and len(_folded_runs) < _MEMO_LIMIT:  # the same few quotes and dashes recur
            _folded_runs[run] = folded
    return folded, error.end


_TYPOGRAPHIC = tuple((character, chr(fold_char(character))) for character in "’‘“”—–\u00a0…•")
# A call of ``_fold_run`` costs about as much as translating ten characters: the runs are few enough
# when the extra UTF-8 bytes are under a quarter of the length.
_SPARSE = 4
_FOLD_ERRORS = "llm_soc2.scrub.fold"
_folded_runs: dict[str, str] = {}
codecs.register_error(_FOLD_ERRORS, _fold_run)


def _unescape_percent(data: bytes) -> bytes:
    """Read the percent escapes of printable ASCII (``%40`` is ``@``) as that byte and two ``ESCAPE_FILL``
    bytes, removed when the view is compacted; other ``%`` sequences stay as they are."""
    pieces = _PERCENT_ESCAPE.split(data)
    if len(pieces) == 1:
        return data
    memo = _percent_escapes
    pieces[1::2] = [memo.get(escape) or _read_percent(escape) for escape in pieces[1::2]]
    return b"".join(pieces)


def _unescape_entities(data: bytes) -> bytes:
    """Read HTML numeric character references (``&#64;``, ``&#x40;``: pages that hide an address from
    scrapers) as the character's byte followed by ``ESCAPE_FILL`` bytes up to the reference's length."""
    pieces = _ENTITY.split(data)
    if len(pieces) == 1:
        return data
    pieces[1::2] = [_read_entity(reference) for reference in pieces[1::2]]
    return b"".join(pieces)


def _read_entity(reference: bytes) -> bytes:
    digits = reference[2:-1]
    codepoint = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
    if codepoint > 0x10FFFF or 0xD800 <= codepoint <= 0xDFFF:
        return reference
    return bytes((_FOLD[codepoint],)) + ESCAPE_FILL * (len(reference) - 1)


def _read_percent(escape: bytes) -> bytes:
    value = int(escape[1:], 16)
    out = bytes((value,)) + ESCAPE_FILL * 2 if 0x20 <= value < 0x7F else escape
    _percent_escapes[escape] = out  # at most 256 keys
    return out


def _unescape(data: bytes) -> bytes:
    """Read the escapes of JSON/Python strings as the characters they stand for, keeping every position,
    so content that arrives still escaped (tool arguments, JSON written with ``ensure_ascii``) is scanned
    like the text it encodes. Each escape becomes as many bytes as it has:

    - ``\\n``, ``\\r``, ``\\t``: a space and that character;
    - ``\\u`` of a letter or symbol: its byte six times (``jos\\u00e9@example.com`` stays one address;
      no compaction, which JSON written with ``ensure_ascii`` would otherwise need on every escape);
    - ``\\u`` of a digit, a space, a dash or an invisible character: its byte and five ``ESCAPE_FILL``
      bytes, removed when the view is compacted (the digits after an escaped no-break space are a number
      of their own, escaped fullwidth digits one number).

    (Escaped quotes are allowed for by the patterns that care.)"""
    for escape, meaning in _WHITESPACE_ESCAPES:
        if escape in data:
            data = data.replace(escape, meaning)
    if b"\\u" in data:
        pieces = _UNICODE_ESCAPE.split(data)
        memo = _escapes
        pieces[1::2] = [memo.get(escape) or _read_escape(escape) for escape in pieces[1::2]]
        data = b"".join(pieces)
    return data


def _read_escape(escape: bytes) -> bytes:
    codepoint = int(escape[2:], 16)
    # Half of an escaped surrogate pair is half of a character outside the BMP (an emoji, mostly).
    folded = OTHER if 0xD800 <= codepoint <= 0xDFFF else _FOLD[codepoint]
    out = bytes((folded,)) + ESCAPE_FILL * 5 if folded in _SEPARATING else bytes((folded,)) * 6
    if len(_escapes) < _MEMO_LIMIT:
        _escapes[escape] = out
    return out


# Invisible like INVISIBLE, but not evidence of binary content: it stands for the rest of an escape.
ESCAPE_FILL = b"\x7f"
# Bytes whose count matters to the patterns (digits, separators, punctuation: "@" six times is no address)
# or that must vanish (invisible).
_SEPARATING = frozenset(b"0123456789 -\n" + string.punctuation.encode() + bytes((INVISIBLE,)))
_WHITESPACE_ESCAPES = ((b"\\n", b" \n"), (b"\\r", b" \r"), (b"\\t", b" \t"))
_UNICODE_ESCAPE = re.compile(rb"(\\u[0-9a-fA-F]{4})")  # literal-led: skips to each backslash
_escapes: dict[bytes, bytes] = {}
_PERCENT_ESCAPE = re.compile(rb"(%[0-9a-fA-F]{2})")  # literal-led: skips to each "%"
_ENTITY = re.compile(rb"(&#(?:[0-9]{1,7}|[xX][0-9a-fA-F]{1,6});)")  # literal-led, bounded
_percent_escapes: dict[bytes, bytes] = {}


def control_characters(text: str) -> int:
    """How many ASCII control characters (other than tab and line breaks) ``text`` holds."""
    return len(_CONTROL_CHARACTER.findall(text))


def compact(view: View, text: str | None = None) -> View:
    """Remove invisible bytes from ``view`` (one ``translate``); positions map back through ``to_text``.

    ``text`` is the text ``view`` was made from: when invisible bytes are many, whether it is binary is
    decided by its own control characters. Symbols, emoji, format characters and combining marks are
    invisible in the view too, and a text full of them (a checklist of "✓", Hindi or Thai with their
    vowel signs) is text."""
    data = view.data
    kept = data.translate(None, _INVISIBLE_BYTES)
    invisible = len(data) - len(kept) - data.count(ESCAPE_FILL)
    if len(data) >= 64 and invisible > BINARY_RATIO * len(data):
        controls = invisible if text is None else control_characters(text)
        if controls > BINARY_RATIO * len(data):
            raise Unscrubbable("binary content (control characters)")
    return View(kept, data)
