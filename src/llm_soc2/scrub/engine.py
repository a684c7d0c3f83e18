"""The engine: every detector's patterns compiled into one linear-time RE2 scan, then exact extraction.

How a text is scanned:

1. Its ASCII view (``view.py``) is built: one ``encode`` for ASCII text.
2. One ``re2.Set`` holding every pattern of every enabled detector answers, in a single pass over the view,
   *which* patterns match anywhere (about 4 us for 2 KB). Clean text stops here.
3. Only the patterns that matched are run again, each as its own RE2 regex, to get positions; every
   candidate goes through its detector's validator (Luhn, mod-97, ``phonenumbers``, ``ipaddress`` ...).
4. Overlapping findings are resolved to one finding per value (``resolve``).

Why this cannot backtrack: RE2 (and its ``Set``) runs automata, not backtracking, so each pass is linear
in the text whatever the pattern or the input. A ``Set`` whose DFA cache fills up resets it and carries
on; should its automaton still give up, a sentinel pattern that matches every text goes missing from
the answer and the text is refused rather than taken for clean. Every pattern's matches are bounded in
length (``compile_pattern`` checks it), so one search reads at most the distance to its match plus that
bound, and the searches of one pattern together read each byte a bounded number of times: a pattern like
``BEGIN.*END`` would instead rescan the rest of the text for every BEGIN. Long values grow through an
anchored ``extension`` within a bounded window.

Where the next search starts: after an accepted value; one character after the start of a rejected
candidate, since a real value may begin inside it ("12 415-555-2671"). Patterns run strongest detector
first, and a weaker detector's candidate inside a value already accepted is skipped unvalidated (it
would lose the overlap anyway).

Python ``re`` is used only on single candidates of bounded length inside validators, on context windows
and on the view's run table, never over the text with a pattern that nests quantifiers.
"""

from __future__ import annotations

import bisect
import importlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from re2 import _re2

from llm_soc2.scrub.detector import (
    CONTEXT_AFTER,
    CONTEXT_BEFORE,
    MAX_EXTENSION_CHARS,
    MAX_MATCH_CHARS,
    Detector,
)
from llm_soc2.scrub.detectors.client_key import ClientApiKeyDetector, key_literals
from llm_soc2.scrub.view import INVISIBLE_CLASS, Unscrubbable, View, compact, make_view

# The standard library's regex parser (no public name, no stubs): it reads RE2's syntax for every construct a
# detector may use, and gives the bounds of a match's length.
_sre_parser: Any = importlib.import_module("re._parser")
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_ANCHOR_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH
_ANCHOR_START = _re2.RE2.Anchor.ANCHOR_START
_PATTERN_MAX_MEM = 8 << 20
_SET_MAX_MEM = 64 << 20
_DEADLINE_EVERY = 16  # candidates between two clock reads


class PatternError(ValueError):
    """A detector pattern that RE2 rejects, that matches the empty string, or that is not ASCII."""


class ScrubTimeout(Exception):
    """The scan went past its deadline."""


def _options(max_mem: int) -> _re2.RE2.Options:
    options = _re2.RE2.Options()
    options.max_mem = max_mem
    options.log_errors = False
    return options


def compile_pattern(pattern: str, *, max_chars: int = MAX_MATCH_CHARS, extension: bool = False) -> _re2.RE2:
    """Compile one detector pattern for RE2, checking the rules of ``detector.py``.

    ``max_chars`` bounds the length of a match (checked with the standard library's regex parser, which
    reads RE2's syntax for everything a detector needs). An ``extension`` may match the empty string and
    need not be bounded: its reach is bounded by its search window instead.
    """
    if not pattern.isascii():
        raise PatternError(f"pattern {pattern!r} is not ASCII")
    regex = _re2.RE2(pattern.encode("ascii"), _options(_PATTERN_MAX_MEM))
    if not regex.ok():
        raise PatternError(f"RE2 rejects pattern {pattern!r}: {regex.error()}")
    if extension:
        return regex
    if regex.Match(_ANCHOR_BOTH, b"", 0, 0)[0][0] >= 0:
        raise PatternError(f"pattern {pattern!r} matches the empty string")
    try:
        width = _sre_parser.parse(pattern).getwidth()[1]
    except (re.error, OverflowError, RecursionError):
        raise PatternError(f"pattern {pattern!r}: cannot prove its matches are bounded") from None
    if width > max_chars:
        raise PatternError(
            f"pattern {pattern!r} can match more than {max_chars} characters: bound every repetition"
        )
    return regex


@dataclass(frozen=True, slots=True)
class Candidate:
    """A validated value: its span and its whole match's span (both in the original text)."""

    start: int
    end: int
    match_start: int
    match_end: int
    detector: Detector


@dataclass(frozen=True, slots=True)
class _Compiled:
    detector: Detector
    regex: _re2.RE2
    has_group: bool
    extension: _re2.RE2 | None = None
    extension_limit: int = 0


def compile_extension(detector: Detector) -> tuple[_re2.RE2 | None, int]:
    if not detector.extension:
        return None, 0
    limit = detector.extension_limit
    if not 0 < limit <= MAX_EXTENSION_CHARS:
        raise PatternError(f"{detector.entity}: extension_limit must be within 1..{MAX_EXTENSION_CHARS}")
    return compile_pattern(detector.extension, extension=True), limit


class Engine:
    """Compiled scan over a fixed set of detectors. Immutable after construction, so thread-safe."""

    def __init__(self, detectors: Sequence[Detector]) -> None:
        self.detectors = tuple(detectors)
        self._compiled: list[_Compiled] = []
        regex_set = _re2.Set(_UNANCHORED, _options(_SET_MAX_MEM))
        for detector in self.detectors:
            extension, limit = compile_extension(detector)
            for pattern in detector.patterns:
                regex = compile_pattern(pattern)
                index = regex_set.Add(pattern.encode("ascii"))
                if index != len(self._compiled):
                    raise PatternError(f"RE2 Set rejects pattern {pattern!r}")
                groups = regex.NumberOfCapturingGroups() > 0
                self._compiled.append(_Compiled(detector, regex, groups, extension, limit))
        self._invisible = regex_set.Add(b"[" + INVISIBLE_CLASS + b"]")
        # Matches every text: its absence means the set's automaton gave up (memory), not "no match".
        self._sentinel = regex_set.Add(rb"\A")
        if not regex_set.Compile():
            raise PatternError("RE2 could not compile the detector set")
        self._set = regex_set
        self._client_detector = next((d for d in self.detectors if isinstance(d, ClientApiKeyDetector)), None)
        self._by_entity = {d.entity: d for d in self.detectors}

    def detector_for(self, entity: str) -> Detector | None:
        return self._by_entity.get(entity)

    def view(self, text: str) -> tuple[View, list[int]]:
        """The (compacted if needed) view of ``text`` and the indices of the patterns that match in it."""
        view = make_view(text)
        hits = self._set.Match(view.data)
        if self._invisible in hits:
            view = compact(view)
            hits = self._set.Match(view.data)
        if self._sentinel not in hits:
            raise Unscrubbable("pattern set failed (out of memory)")
        return view, [i for i in hits if i != self._invisible and i != self._sentinel]

    def scan(self, text: str, deadline: float, client_keys: ClientKeys | None = None) -> list[Candidate]:
        """Every validated candidate in ``text``, positions in the original text (not yet resolved)."""
        view, hits = self.view(text)
        data = view.data
        candidates: list[Candidate] = []
        accepted: list[tuple[int, int]] = []  # value spans found so far (view positions), sorted
        if client_keys is not None and self._client_detector is not None:
            compiled = _Compiled(self._client_detector, client_keys.regex, False)
            self._extract(compiled, data, view, candidates, accepted, deadline)
        # Stronger detectors first: a weaker one's candidate inside a value already found would lose the
        # overlap anyway (a phone-shaped run inside a card number), so it is not even validated.
        for index in sorted(hits, key=lambda i: (-self._compiled[i].detector.priority, i)):
            self._extract(self._compiled[index], data, view, candidates, accepted, deadline)
        return candidates

    @staticmethod
    def _extract(
        compiled: _Compiled,
        data: bytes,
        view: View,
        out: list[Candidate],
        accepted: list[tuple[int, int]],
        deadline: float,
    ) -> None:
        detector, regex, has_group = compiled.detector, compiled.regex, compiled.has_group
        size = len(data)
        position = 0
        seen = 0
        while position < size:
            seen += 1
            if seen % _DEADLINE_EVERY == 0 and time.monotonic() > deadline:
                raise ScrubTimeout
            spans = regex.Match(_UNANCHORED, data, position, size)
            match_start, match_end = spans[0]
            if match_start < 0:
                break
            start, end = spans[1] if has_group and spans[1][0] >= 0 else spans[0]
            inside = bisect.bisect_right(accepted, (start, size)) - 1
            if inside >= 0 and accepted[inside][1] >= end:
                position = max(start + 1, position + 1)
                continue
            value = data[start:end].decode("ascii")
            context = data[max(0, start - CONTEXT_BEFORE) : end + CONTEXT_AFTER].decode("ascii").lower()
            span = detector.refine(value, context)
            if span is None or span[0] >= span[1]:
                # Rejected: a value may still start inside this candidate (the guard of the next one).
                position = max(start + 1, position + 1)
            else:
                value_end = start + span[1]
                if compiled.extension is not None and value_end == end:
                    value_end = _grow(compiled.extension, compiled.extension_limit, data, end)
                    match_end = max(match_end, value_end)
                position = max(value_end, position + 1)
                bisect.insort(accepted, (start + span[0], value_end))
                value_start, value_end = view.to_text(start + span[0], value_end)
                whole_start, whole_end = view.to_text(match_start, match_end)
                out.append(Candidate(value_start, value_end, whole_start, whole_end, detector))
        if time.monotonic() > deadline:
            raise ScrubTimeout


def _grow(extension: _re2.RE2, limit: int, data: bytes, end: int) -> int:
    """Where a value ends once grown by its extension; a window filled to its edge is followed by the next
    one, so nothing is cut at the window (each round consumes its window: linear)."""
    size = len(data)
    while True:
        window_end = min(size, end + limit)
        grown = extension.Match(_ANCHOR_START, data, end, window_end)[0][1]
        if grown < window_end or window_end == size or grown <= end:
            return max(int(grown), end)
        end = grown


class ClientKeys:
    """A literal matcher for the keys in a secret registry snapshot."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        literals = [make_view(s).data for s in key_literals(secrets)]
        pattern = b"|".join(_re2.RE2.QuoteMeta(literal) for literal in literals)
        self.regex = _re2.RE2(pattern, _options(_PATTERN_MAX_MEM))


def client_keys(secrets: tuple[str, ...]) -> ClientKeys | None:
    return ClientKeys(secrets) if secrets else None


def resolve(candidates: list[Candidate]) -> list[Candidate]:
    """One finding per value: overlapping candidates are merged into the strongest one's.

    The winner of a group of overlapping values is the detector with the highest priority, then the
    longest whole match. A loser whose whole match lies inside the winner's is a fragment of it (the
    email address ``pass@host`` inside ``https://user:pass@host``) and is dropped; any other loser's value
    is added to the winner's span, so nothing either detector found stays visible.
    """
    if len(candidates) < 2:
        return list(candidates)
    ordered = sorted(candidates, key=lambda c: (c.start, -c.end))
    resolved: list[Candidate] = []
    group = [ordered[0]]
    group_end = ordered[0].end
    for candidate in ordered[1:]:
        if candidate.start < group_end:
            group.append(candidate)
            group_end = max(group_end, candidate.end)
        else:
            resolved.append(_merge(group))
            group, group_end = [candidate], candidate.end
    resolved.append(_merge(group))
    return resolved


def _merge(group: list[Candidate]) -> Candidate:
    if len(group) == 1:
        return group[0]
    winner = max(group, key=lambda c: (c.detector.priority, c.match_end - c.match_start, -c.start))
    start, end = winner.start, winner.end
    for other in group:
        if winner.match_start <= other.match_start and other.match_end <= winner.match_end:
            continue
        start, end = min(start, other.start), max(end, other.end)
    return Candidate(start, end, winner.match_start, winner.match_end, winner.detector)
