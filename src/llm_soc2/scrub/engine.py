"""The engine: every detector's patterns compiled into one linear-time RE2 scan, then exact extraction.

How a text is scanned:

1. Its ASCII view (``view.py``) is built: one ``encode`` for ASCII text.
2. One ``re2.Set`` holding every pattern of every enabled detector answers, in a single pass over the view,
   *which* patterns match anywhere (about 4 us for 2 KB). Clean text stops here.
3. Only the patterns that matched are run again, each as its own RE2 regex, to get positions; every
   candidate goes through its detector's validator (Luhn, mod-97, ``phonenumbers``, ``ipaddress`` ...).
4. Overlapping findings are resolved to one finding per value (``resolve``).

The texts of one span (every message part, the system instructions, the response) are scanned in one
pass: their views are joined by ``JOIN`` and steps 2-3 run once over the whole, which saves the fixed
cost of a scan per text. Nothing can match across the join: between two line breaks it holds a byte
that is not UTF-8, which no RE2 pattern (in RE2's default UTF-8 mode) can match, not even ``.`` or a
negated class. The line breaks stand in for the start and end of each text: a guard such as
``(?:^|[^0-9])`` or ``(?:[^0-9]|$)`` takes a line break where it would have taken the text's edge, and
validators see context from their own text only. ``joinable`` checks, when the engine is built, that
every anchor of every pattern is such a guard; an engine with a pattern that uses ``^`` or ``$``
otherwise scans each text on its own.

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
from typing import Any, Final

from re2 import _re2

from llm_soc2.scrub import encoded
from llm_soc2.scrub.detector import (
    CONTEXT_AFTER,
    CONTEXT_BEFORE,
    MAX_EXTENSION_CHARS,
    MAX_MATCH_CHARS,
    Detector,
)
from llm_soc2.scrub.detectors.client_key import ClientApiKeyDetector, key_literals
from llm_soc2.scrub.view import (
    ESCAPE_FILL,
    INVISIBLE_CLASS,
    Unscrubbable,
    View,
    compact,
    reads_escapes,
    view_bytes,
)

# The standard library's regex parser (no public name, no stubs): it reads RE2's syntax for every construct a
# detector may use, and gives the bounds of a match's length.
_sre_parser: Any = importlib.import_module("re._parser")
_sre: Any = importlib.import_module("re._constants")
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_ANCHOR_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH
_ANCHOR_START = _re2.RE2.Anchor.ANCHOR_START
_PATTERN_MAX_MEM = 8 << 20
_SET_MAX_MEM = 64 << 20
_BUDGET_EVERY = 16  # candidates between two clock reads
# Between the views of two texts scanned together (see the module docstring).
JOIN: Final = b"\n\xff\n"
_HAS_INVISIBLE = re.compile(rb"[" + INVISIBLE_CLASS + rb"]")
_PREFILTER_LITERALS = 16


class PatternError(ValueError):
    """A detector pattern that RE2 rejects, that matches the empty string, or that is not ASCII."""


class ScrubTimeout(Exception):
    """The scan used up its time budget."""


class Budget:
    """The CPU time the scan of one span may take, counted on the thread that scans: waiting for the GIL
    or for a core uses none of it (a wall-clock deadline dropped content whenever a loaded machine held
    the thread back). The clock starts at the first check; before it, only the pattern set's pass over
    the size-limited input has run, which is linear."""

    __slots__ = ("_cpu_limit", "_seconds", "_wall_limit")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._wall_limit: float | None = None
        self._cpu_limit = 0.0

    def spent(self) -> bool:
        # A thread's CPU time cannot grow faster than the wall clock, so the thread's CPU clock (a system
        # call, ten times the cost of the wall clock's vDSO read) is read only once the wall budget is over.
        wall = time.perf_counter()
        if self._wall_limit is None:
            self._wall_limit = wall + self._seconds
            self._cpu_limit = time.thread_time() + self._seconds
            return False
        return wall > self._wall_limit and time.thread_time() > self._cpu_limit


def _options(max_mem: int) -> _re2.RE2.Options:
    options = _re2.RE2.Options()
    options.max_mem = max_mem
    options.log_errors = False
    return options


# Where base64 runs that may hold text start, and where a run ends: each search reads the text up to the
# run and the run once (linear).
_TEXT_RUN: Final = _re2.RE2(encoded.TEXT_RUN, _options(_PATTERN_MAX_MEM))
_RUN_REST: Final = _re2.RE2(encoded.RUN_REST, _options(_PATTERN_MAX_MEM))


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


# --------------------------------------------------------------------------------------------------
# Joined scans: which patterns may scan several texts at once
# --------------------------------------------------------------------------------------------------
_START_ANCHORS: Final = frozenset({_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING})
_END_ANCHORS: Final = frozenset({_sre.AT_END, _sre.AT_END_STRING})
_NEWLINE_CATEGORIES: Final = frozenset(
    {_sre.CATEGORY_SPACE, _sre.CATEGORY_NOT_DIGIT, _sre.CATEGORY_NOT_WORD, _sre.CATEGORY_LINEBREAK}
)


def joinable(pattern: str) -> bool:
    """Whether ``pattern`` finds the same values in texts joined by ``JOIN`` as in each text alone.

    True when every ``^``/``\\A`` opens a branch alternative that has a twin in which one character that
    takes a line break stands in for the anchor (``(?:^|[^0-9])``), and every ``$`` likewise closes one
    (``(?:[^0-9.]|\\.[^0-9]|\\.$|$)``). At the join, the twin matches the line break exactly where the
    anchor would have matched the text's edge. Anything else (a bare ``^``, an anchor inside a repetition)
    is not joinable, and the engine then scans each text on its own.
    """
    try:
        return _anchors_covered(list(_sre_parser.parse(pattern)))
    except (re.error, OverflowError, RecursionError, TypeError, ValueError):
        return False


def _anchors_covered(items: list[Any]) -> bool:
    for op, arg in items:
        if op is _sre.AT:
            if arg in _START_ANCHORS or arg in _END_ANCHORS:
                return False
        elif op is _sre.BRANCH:
            alternatives = [list(alternative) for alternative in arg[1]]
            for alternative in alternatives:
                if not _alternative_covered(alternative, alternatives):
                    return False
        elif op is _sre.SUBPATTERN:
            if not _anchors_covered(list(arg[3])):
                return False
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            if not _anchors_covered(list(arg[2])):
                return False
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.ATOMIC_GROUP, _sre.GROUPREF_EXISTS):
            return False  # not RE2 syntax anyway
    return True


def _alternative_covered(alternative: list[Any], alternatives: list[list[Any]]) -> bool:
    if alternative and alternative[0][0] is _sre.AT and alternative[0][1] in _START_ANCHORS:
        rest = alternative[1:]
        return _anchors_covered(rest) and any(
            len(other) == len(alternative) and other[1:] == rest and _takes_newline(other[0])
            for other in alternatives
        )
    if alternative and alternative[-1][0] is _sre.AT and alternative[-1][1] in _END_ANCHORS:
        rest = alternative[:-1]
        return _anchors_covered(rest) and any(
            len(other) == len(alternative) and other[:-1] == rest and _takes_newline(other[-1])
            for other in alternatives
        )
    return _anchors_covered(alternative)


def _takes_newline(item: tuple[Any, Any]) -> bool:
    """Whether one parsed regex item matches exactly one character and accepts ``"\\n"``."""
    op, arg = item
    if op is _sre.LITERAL:
        return bool(arg == 0x0A)
    if op is _sre.NOT_LITERAL:
        return bool(arg != 0x0A)
    if op is not _sre.IN:
        return False
    negate = hit = False
    for member, value in arg:
        if member is _sre.NEGATE:
            negate = True
        elif member is _sre.LITERAL:
            hit = hit or value == 0x0A
        elif member is _sre.RANGE:
            hit = hit or value[0] <= 0x0A <= value[1]
        elif member is _sre.CATEGORY:
            hit = hit or value in _NEWLINE_CATEGORIES
        else:
            return False
    return hit != negate


# --------------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------------
_NONE_COMPACTED: Final[dict[int, View]] = {}  # shared, never written: no view was compacted


class _Joined:
    """The views of several texts joined by ``JOIN``: ``owners[i]`` is the i-th view's text's position in
    the caller's list, ``compacted[i]`` maps a compacted view back to its text (views without invisible
    characters map one to one); ``bounds()`` gives where each view starts and ends in ``data``, computed
    only when a pattern matched (a clean pass never needs them)."""

    __slots__ = ("compacted", "data", "owners", "parts")

    def __init__(
        self, data: bytes, parts: list[bytes], owners: list[int], compacted: dict[int, View]
    ) -> None:
        self.data = data
        self.parts = parts
        self.owners = owners
        self.compacted = compacted

    def bounds(self) -> tuple[list[int], list[int]]:
        starts: list[int] = []
        ends: list[int] = []
        position = 0
        for part in self.parts:
            starts.append(position)
            position += len(part)
            ends.append(position)
            position += len(JOIN)
        return starts, ends

    def to_text(self, segment: int, start: int, end: int) -> tuple[int, int]:
        view = self.compacted.get(segment)
        return (start, end) if view is None else view.to_text(start, end)


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
        self._encoded = regex_set.Add(encoded.TEXT_RUN)
        if self._encoded < 0 or not _TEXT_RUN.ok() or not _RUN_REST.ok():
            raise PatternError("RE2 rejects the base64 run patterns")
        # Matches every text: its absence means the set's automaton gave up (memory), not "no match".
        self._sentinel = regex_set.Add(rb"\A")
        if not regex_set.Compile():
            raise PatternError("RE2 could not compile the detector set")
        self._set = regex_set
        self._client_detector = next((d for d in self.detectors if isinstance(d, ClientApiKeyDetector)), None)
        self._by_entity = {d.entity: d for d in self.detectors}
        # Strongest detector first (see ``scan_many``); a pattern's position in this order never changes.
        self._rank = {
            index: (-compiled.detector.priority, index) for index, compiled in enumerate(self._compiled)
        }
        self.joinable = all(joinable(pattern) for detector in self.detectors for pattern in detector.patterns)

    def detector_for(self, entity: str) -> Detector | None:
        return self._by_entity.get(entity)

    def view(self, text: str) -> tuple[View, list[int]]:
        """The (compacted if needed) view of ``text`` and the indices of the patterns that match in it."""
        joined, hits, failed = self._views([text])
        if joined is None:
            raise failed[0]
        return joined.compacted.get(0) or View(joined.data), hits

    def scan(self, text: str, budget: Budget, client_keys: ClientKeys | None = None) -> list[Candidate]:
        """Every validated candidate in ``text``, positions in the original text (not yet resolved)."""
        (found,) = self.scan_many([text], budget, client_keys)
        if isinstance(found, Unscrubbable):
            raise found
        return found

    def scan_many(
        self,
        texts: Sequence[str],
        budget: Budget,
        client_keys: ClientKeys | None = None,
        *,
        decode: bool = True,
    ) -> list[list[Candidate] | Unscrubbable]:
        """``scan`` for several texts in one pass (``joinable`` engines only, or one text at a time).

        Per text: its candidates, or the ``Unscrubbable`` that refuses it (lone surrogates, binary
        content), which does not affect the others. Raises ``Unscrubbable`` when the pattern set gave up
        and ``ScrubTimeout`` once ``budget`` is spent: both concern every text of the pass. ``decode``:
        base64 runs are decoded and scanned too (``encoded.py``); text decoded from one is not decoded
        again.
        """
        if len(texts) > 1 and not self.joinable:
            raise ValueError("this engine scans one text at a time")
        joined, hits, failed = self._views(texts)
        out: list[list[Candidate] | Unscrubbable] = [[] for _ in texts]
        for position, error in failed.items():
            out[position] = error
        if joined is None:
            return out
        keys = (
            client_keys
            if client_keys is not None
            and self._client_detector is not None
            and client_keys.may_occur(joined.data)
            else None
        )
        if not hits and keys is None:
            self._add_keys_as_written(texts, out, client_keys)
            return out  # clean text: the common case stops here
        found: list[list[Candidate]] = [[] for _ in joined.owners]
        accepted: list[tuple[int, int]] = []  # value spans found so far (joined positions), sorted
        bounds = joined.bounds()
        if keys is not None and self._client_detector is not None:
            compiled = _Compiled(self._client_detector, keys.regex, False)
            self._extract(compiled, joined, bounds, found, accepted, budget)
        # Stronger detectors first: a weaker one's candidate inside a value already found would lose the
        # overlap anyway (a phone-shaped run inside a card number), so it is not even validated.
        rank = self._rank
        encoded_runs = self._encoded in hits
        for index in sorted((i for i in hits if i != self._encoded), key=rank.__getitem__):
            self._extract(self._compiled[index], joined, bounds, found, accepted, budget)
        if encoded_runs and decode:
            self._scan_encoded(joined, bounds, found, budget, client_keys)
        for owner, candidates in zip(joined.owners, found, strict=True):
            out[owner] = candidates
        self._add_keys_as_written(texts, out, client_keys)
        return out

    def _add_keys_as_written(
        self, texts: Sequence[str], out: list[list[Candidate] | Unscrubbable], client_keys: ClientKeys | None
    ) -> None:
        """The view reads escapes, so a client key beside or containing one may not read as itself there
        (``\\`` then ``n`` becomes a line break, ``%21`` a ``!``): texts whose view reads escapes are also
        searched as written."""
        detector = self._client_detector
        if client_keys is None or detector is None:
            return
        for text, candidates in zip(texts, out, strict=True):
            if isinstance(candidates, list) and reads_escapes(text):
                for start, end in client_keys.find(text):
                    candidates.append(Candidate(start, end, start, end, detector))

    def _views(self, texts: Sequence[str]) -> tuple[_Joined | None, list[int], dict[int, Unscrubbable]]:
        """The joined views of ``texts`` (those that can be scanned), the pattern hits, the refusals."""
        parts: list[bytes] = []
        owners: list[int] = []
        views: list[View | None] = []  # per part: its compacted view, if it was compacted
        failed: dict[int, Unscrubbable] = {}
        for position, text in enumerate(texts):
            try:
                part = view_bytes(text)
                view = None
                if ESCAPE_FILL in part:  # escapes read as characters: compact now, scan once
                    view = compact(View(part), text)
                    part = view.data
            except Unscrubbable as exc:
                failed[position] = exc
                continue
            parts.append(part)
            owners.append(position)
            views.append(view)
        if not parts:
            return None, [], failed
        data = parts[0] if len(parts) == 1 else JOIN.join(parts)
        hits = self._set.Match(data)
        if self._invisible in hits:
            kept: list[bytes] = []
            kept_owners: list[int] = []
            kept_views: list[View | None] = []
            for part, owner, view in zip(parts, owners, views, strict=True):
                if _HAS_INVISIBLE.search(part) is not None:
                    try:
                        view = compact(View(part), texts[owner])
                    except Unscrubbable as exc:
                        failed[owner] = exc
                        continue
                    part = view.data
                kept.append(part)
                kept_owners.append(owner)
                kept_views.append(view)
            if not kept:
                return None, [], failed
            parts, owners, views = kept, kept_owners, kept_views
            data = parts[0] if len(parts) == 1 else JOIN.join(parts)
            hits = self._set.Match(data)
        compacted = (
            {i: view for i, view in enumerate(views) if view is not None} if any(views) else _NONE_COMPACTED
        )
        if self._sentinel not in hits:
            raise Unscrubbable("pattern set failed (out of memory)")
        hits = [i for i in hits if i != self._invisible and i != self._sentinel]
        return _Joined(data, parts, owners, compacted), hits, failed

    def _scan_encoded(
        self,
        joined: _Joined,
        bounds: tuple[list[int], list[int]],
        out: list[list[Candidate]],
        budget: Budget,
        client_keys: ClientKeys | None,
    ) -> None:
        """A candidate for each base64 run whose decoded text holds a value: the whole run, reported as
        the strongest detector that found something in it."""
        data = joined.data
        starts, ends = bounds
        size = len(data)
        position = 0
        for _ in range(encoded.MAX_RUNS):
            if budget.spent():
                raise ScrubTimeout
            start = _TEXT_RUN.Match(_UNANCHORED, data, position, size)[0][0]
            if start < 0:
                return
            if data[start] not in encoded.RUN_CHARS:  # the match starts with the byte before the run
                start += 1
            end = _RUN_REST.Match(_ANCHOR_START, data, start, size)[0][1]
            position = end
            if end - start < encoded.MIN_RUN:
                continue
            text = encoded.base64_text(data[start:end])
            if text is None:
                continue
            (found,) = self.scan_many([text], budget, client_keys, decode=False)
            if not found or isinstance(found, Unscrubbable):
                continue
            detector = max((candidate.detector for candidate in found), key=lambda d: d.priority)
            segment = bisect.bisect_right(starts, start) - 1  # a run never spans the join (it has no \xff)
            low = starts[segment]
            run_start, run_end = joined.to_text(segment, start - low, min(end, ends[segment]) - low)
            out[segment].append(Candidate(run_start, run_end, run_start, run_end, detector))

    @staticmethod
    def _extract(
        compiled: _Compiled,
        joined: _Joined,
        bounds: tuple[list[int], list[int]],
        out: list[list[Candidate]],
        accepted: list[tuple[int, int]],
        budget: Budget,
    ) -> None:
        detector, regex, has_group = compiled.detector, compiled.regex, compiled.has_group
        data = joined.data
        starts, ends = bounds
        single = len(starts) == 1
        size = len(data)
        position = 0
        seen = 0
        while position < size:
            seen += 1
            if seen % _BUDGET_EVERY == 0 and budget.spent():
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
            if single:
                segment, low, high = 0, 0, size
            else:
                # The text the value belongs to. Built-in patterns never take a character of the join
                # into a value; one that does (a plugin's "\s") is cut back to its text.
                segment = bisect.bisect_right(starts, start) - 1
                if start >= ends[segment] and segment + 1 < len(starts):
                    segment += 1
                low, high = starts[segment], ends[segment]
                if max(start, low) >= min(end, high):  # nothing of it inside a text: as if rejected
                    position = max(start + 1, position + 1)
                    continue
                start, end = max(start, low), min(end, high)
                match_start, match_end = max(match_start, low), min(match_end, high)
            value = data[start:end].decode("ascii")
            context = data[max(low, start - CONTEXT_BEFORE) : min(high, end + CONTEXT_AFTER)]
            span = detector.refine(value, context.decode("ascii").lower())
            if span is None or span[0] >= span[1]:
                # Rejected: a value may still start inside this candidate (the guard of the next one).
                position = max(start + 1, position + 1)
            else:
                value_end = start + span[1]
                if compiled.extension is not None and value_end == end:
                    value_end = _grow(compiled.extension, compiled.extension_limit, data, end, high)
                    match_end = max(match_end, value_end)
                position = max(value_end, position + 1)
                bisect.insort(accepted, (start + span[0], value_end))
                value_start, value_end = joined.to_text(segment, start + span[0] - low, value_end - low)
                whole_start, whole_end = joined.to_text(segment, match_start - low, match_end - low)
                out[segment].append(Candidate(value_start, value_end, whole_start, whole_end, detector))
        if budget.spent():
            raise ScrubTimeout


def _grow(extension: _re2.RE2, limit: int, data: bytes, end: int, size: int) -> int:
    """Where a value ends once grown by its extension (within ``data[:size]``, the value's own text); a
    window filled to its edge is followed by the next one, so nothing is cut at the window (each round
    consumes its window: linear)."""
    while True:
        window_end = min(size, end + limit)
        grown = extension.Match(_ANCHOR_START, data, end, window_end)[0][1]
        if grown < window_end or window_end == size or grown <= end:
            return max(int(grown), end)
        end = grown


class ClientKeys:
    """A literal matcher for the keys in a secret registry snapshot."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self._raw = tuple(key_literals(secrets))
        literals = [view_bytes(s) for s in self._raw]
        pattern = b"|".join(_re2.RE2.QuoteMeta(literal) for literal in literals)
        self.regex = _re2.RE2(pattern, _options(_PATTERN_MAX_MEM))
        # The application's own key is in the registry on every span, and the regex would cost a pass of
        # its own over the text; a substring search for a few literals costs a fraction of that.
        self._literals = tuple(literals) if len(literals) <= _PREFILTER_LITERALS else None

    def find(self, text: str) -> list[tuple[int, int]]:
        """Where the keys occur in ``text`` itself, as written (not in its view)."""
        spans = []
        for literal in self._raw:
            start = text.find(literal)
            while start >= 0:
                spans.append((start, start + len(literal)))
                start = text.find(literal, start + 1)
        return spans

    def may_occur(self, data: bytes) -> bool:
        """False only when no key literal occurs in ``data`` (then the regex cannot match either)."""
        return self._literals is None or any(literal in data for literal in self._literals)


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
