"""The detector interface: one class per entity, its patterns, context words and validator side by side.

A detector states *what* it matches as data at the top of its class and *why a match is believed* in
``validate`` right below, so a reader sees both on one screen::

    class EmployeeIdDetector(Detector):
        entity = "EMPLOYEE_ID"
        kind = Kind.PII
        patterns = (r"(?:^|[^A-Za-z0-9])(EMP-[0-9]{6})(?:[^0-9]|$)",)
        context = ("employee", "staff")

        def validate(self, value: str, context: str) -> bool:
            return value[4:] != "000000"

Rules for ``patterns`` (checked when a detector is registered):

- RE2 syntax (no look-around, no backreferences), ASCII only. The engine compiles every pattern of every
  detector into one linear-time RE2 scan, so no input can make a detector backtrack.
- The text a pattern sees is an ASCII *view* of the content of the same length: fullwidth and other
  Unicode digits become ASCII digits, Unicode spaces become ``" "``, dashes ``"-"``, other letters ``"a"``,
  invisible characters (zero-width, controls, combining marks) are removed, so they cannot split a
  value to hide it, and escaped whitespace (``\\n``, ``\\t``) reads as whitespace. Findings are reported
  at their positions in the original text.
- If a pattern has a capturing group, group 1 is the value and the rest is guard context (for example a
  leading ``(?:^|[^0-9])`` instead of a look-behind). The scan resumes right after an accepted value (or
  one character into a rejected one), so a guard may consume one character on either side without
  hiding the next value.
- A pattern must not match the empty string, and its matches must be bounded in length (at most
  ``MAX_MATCH_CHARS``; no unbounded ``*`` or ``+``). RE2 is linear for one search; bounding the match is
  what keeps a whole scan of one pattern, search after search, linear too.
- A value that can be long (a PEM block, a JWT with a big payload) is matched by a bounded pattern for
  its start and grown by ``extension``: an RE2 pattern matched anchored right after the value, within
  ``extension_limit`` characters.

``validate(value, context)`` receives the matched value (in the ASCII view) and ``context``, the
lowercased text around it (64 characters before, 32 after), and returns whether the value is real.
``context`` words count as whole words (or their plurals) in that window (``has_context``).
Validation decides: there are no scores to tune. ``priority`` breaks ties when two detectors claim
overlapping text (higher wins); a detector whose whole match lies inside the winner's match is taken for a
fragment of it (an email address inside a URL's credentials), otherwise the redaction covers both values.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from typing import ClassVar

from llm_soc2.scrub.findings import Kind

CONTEXT_BEFORE = 64
CONTEXT_AFTER = 32
MAX_MATCH_CHARS = 4096
MAX_EXTENSION_CHARS = 65_536


class Detector:
    """Base class of every detector. Subclasses set the class attributes and override ``validate``."""

    entity: ClassVar[str] = ""
    kind: ClassVar[Kind] = Kind.PII
    patterns: ClassVar[tuple[str, ...]] = ()
    context: ClassVar[tuple[str, ...]] = ()
    priority: ClassVar[int] = 50
    extension: ClassVar[str] = ""
    extension_limit: ClassVar[int] = 0
    _context_memo: tuple[str, bool] | None = None

    def validate(self, value: str, context: str) -> bool:
        """Whether ``value`` (a pattern match in the ASCII view) really is this entity."""
        return True

    def refine(self, value: str, context: str) -> tuple[int, int] | None:
        """The span of the entity inside a candidate, or ``None`` when there is none.

        The default accepts the whole candidate when ``validate`` does. Built-in detectors whose candidate
        may carry extra characters (a card number followed by its security code) trim it here.
        """
        return (0, len(value)) if self.validate(value, context) else None

    def canonical(self, value: str) -> str:
        """The form a pseudonym is computed from, so differently formatted copies of a value correlate."""
        return value

    @property
    def name(self) -> str:
        return type(self).__name__

    def has_context(self, context: str) -> bool:
        """Whether one of this detector's context words (or its plural) occurs as a word in ``context``."""
        memo = self._context_memo  # a validator may ask several times about the same candidate
        if memo is not None and memo[0] is context:
            return memo[1]
        found = _context_regex(self.context).search(context) is not None
        self._context_memo = (context, found)  # one tuple swapped in whole: safe across threads
        return found


@functools.lru_cache(maxsize=256)
def _context_regex(words: tuple[str, ...]) -> re.Pattern[str]:
    # Python ``re`` over a window of ~100 characters: an alternation of literals, nothing nested.
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)"
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})s?(?![a-z0-9])")


# --------------------------------------------------------------------------------------------------
# Helpers shared by validators
# --------------------------------------------------------------------------------------------------
_DIGIT_RUN = re.compile(r"[0-9]+")
_NOT_DIGITS = bytes(b for b in range(128) if not 0x30 <= b <= 0x39)


def digits_of(value: str) -> str:
    """The decimal digits of ``value`` as ASCII digits (any script's digits count)."""
    if value.isascii():
        return value.encode("ascii").translate(None, _NOT_DIGITS).decode("ascii")
    return "".join(str(unicodedata.digit(ch)) for ch in value if ch.isdecimal())


def digit_group_spans(value: str) -> list[tuple[int, int]]:
    """The (start, end) of each run of digits in ``value`` (a one-class ``+`` cannot backtrack)."""
    return [m.span() for m in _DIGIT_RUN.finditer(value)]


def longest_valid_prefix(
    value: str, accept: Callable[[int], bool], min_digits: int, max_digits: int, max_tries: int = 8
) -> int | None:
    """The end of the longest prefix of ``value`` made of whole digit groups, holding ``min_digits`` to
    ``max_digits`` digits, that ``accept(end)`` takes ("4111 1111 1111 1111 123": the card without its
    security code). At most ``max_tries`` prefixes are tried. A value starting at a later group is found
    by the engine, which looks for the next candidate inside a rejected one."""
    groups = digit_group_spans(value)
    digits = sum(end - start for start, end in groups)
    tries = 0
    for start, end in reversed(groups):
        if digits < min_digits:
            return None
        if digits <= max_digits:
            tries += 1
            if accept(end):
                return end
            if tries >= max_tries:
                return None
        digits -= end - start
    return None


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) checksum of a digit string."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def shannon_entropy(value: str) -> float:
    """Shannon entropy of the character distribution of ``value``, in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def char_classes(value: str) -> int:
    """How many of lowercase, uppercase, digit and other characters ``value`` mixes."""
    lower = upper = digit = other = 0
    for ch in value:
        if "a" <= ch <= "z":
            lower = 1
        elif "A" <= ch <= "Z":
            upper = 1
        elif "0" <= ch <= "9":
            digit = 1
        else:
            other = 1
    return lower + upper + digit + other
