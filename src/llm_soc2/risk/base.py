"""The classifier interface, and the cue machinery the built-in classifiers share.

A classifier is anything with a ``name``, the ``categories`` it reports and a
``classify(interaction) -> Iterable[Signal]`` method (:class:`Classifier`). That is all a plugin needs.

The built-in classifiers are :class:`CueClassifier` subclasses: they state their *cues* as data (a name,
an RE2 pattern, a weight, the texts it applies to) and score an interaction from the set of cues that
matched. The engine compiles the cues of every cue classifier into one RE2 ``Set`` per text, so each
text is scanned once, in linear time, whatever the number of classifiers; a classifier with no cue hit
(and no other reason to look, see :meth:`CueClassifier.wants`) is not called at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, Protocol, runtime_checkable

from re2 import _re2

from llm_soc2.risk import text as _text
from llm_soc2.risk.assessment import Interaction, Signal

# The texts of an interaction that cues can look at.
PROMPT: Final = "prompt"
RESPONSE: Final = "response"
SYSTEM: Final = "system"
TOOLS: Final = "tools"  # every tool result, joined
CONTEXT: Final = "context"  # retrieval context
FIELDS: Final = (PROMPT, RESPONSE, SYSTEM, TOOLS, CONTEXT)

Hits = Mapping[str, frozenset[str]]  # field -> names of the cues that matched in it
NO_HITS: Final[Hits] = {}


@runtime_checkable
class Classifier(Protocol):
    """What the engine calls. ``classify`` returns one :class:`Signal` per category it has something to
    say about (an empty iterable means nothing found); reasons are short codes, never content."""

    @property
    def name(self) -> str: ...

    @property
    def categories(self) -> tuple[str, ...]: ...

    def classify(self, interaction: Interaction) -> Iterable[Signal]: ...


@dataclass(frozen=True, slots=True)
class Cue:
    """One thing worth noticing: an RE2 pattern, the texts it is looked for in, and its weight.

    Cues of the same ``family`` do not add up: a family counts with its strongest matching cue, and
    families combine as independent evidence (noisy-OR, see :func:`combine`).
    """

    name: str
    pattern: str
    weight: float = 0.0
    fields: tuple[str, ...] = (PROMPT,)
    family: str = ""

    @property
    def group(self) -> str:
        return self.family or self.name


def combine(weights: Mapping[str, float]) -> float:
    """Noisy-OR of per-family weights: 1 - prod(1 - w). Weights outside [0, 1] are clamped."""
    remaining = 1.0
    for weight in weights.values():
        remaining *= 1.0 - min(1.0, max(0.0, weight))
    return 1.0 - remaining


def field_text(interaction: Interaction, field: str) -> str:
    """The (windowed) text of one field of an interaction."""
    if field == TOOLS:
        results = interaction.tool_results
        if isinstance(results, str):
            return _text.window(results)
        return _text.window(_text.join(results or ()))
    name = TEXT_FIELDS.get(field)
    if name is None:
        return ""
    value = getattr(interaction, name)
    if type(value) is str and len(value) <= _text.WINDOW_CHARS:  # the common case: the text as it is
        return value
    return _text.window(_text.as_text(value))


TEXT_FIELDS: Final = {PROMPT: "prompt", RESPONSE: "response", SYSTEM: "system", CONTEXT: "context"}


class Scanner:
    """One RE2 ``Set`` per field over the cues of several owners; ``scan`` says which cues matched.

    Thread-safe: RE2 sets are immutable once compiled.
    """

    def __init__(self, owners: Sequence[tuple[str, Sequence[Cue]]]) -> None:
        # The compiled sets of the binding itself: the ``re2.Set`` wrapper adds a Python call per scan.
        self._sets: dict[str, _re2.Set] = {}
        self._index: dict[str, list[tuple[str, str]]] = {}
        opts = _text.options()
        for field in FIELDS:
            entries = [(owner, cue) for owner, cues in owners for cue in cues if field in cue.fields]
            if not entries:
                continue
            pattern_set = _re2.Set(_re2.RE2.Anchor.UNANCHORED, opts)
            for owner, cue in entries:
                if pattern_set.Add(_text.encode(cue.pattern)) < 0:
                    raise ValueError(f"cue {owner}/{cue.name}: invalid RE2 pattern {cue.pattern!r}")
            if not pattern_set.Compile():
                raise ValueError(f"the cues for {field} do not compile as one RE2 set")
            self._sets[field] = pattern_set
            self._index[field] = [(owner, cue.name) for owner, cue in entries]
        self.fields: tuple[str, ...] = tuple(self._sets)

    def scan_text(self, field: str, data: str | bytes) -> dict[str, set[str]]:
        """Owner -> names of its cues that match ``data`` (a windowed text or its UTF-8 bytes)."""
        pattern_set = self._sets.get(field)
        if pattern_set is None or not data:
            return {}
        matched = pattern_set.Match(_text.encode(data) if isinstance(data, str) else data)
        out: dict[str, set[str]] = {}
        if matched:
            index = self._index[field]
            for position in matched:
                owner, name = index[position]
                out.setdefault(owner, set()).add(name)
        return out

    def scan(self, texts: Mapping[str, str | bytes]) -> dict[str, dict[str, frozenset[str]]]:
        """Owner -> field -> matched cue names, for every field in ``texts`` this scanner covers."""
        out: dict[str, dict[str, frozenset[str]]] = {}
        for field, data in texts.items():
            if not data or field not in self._sets:
                continue
            for owner, names in self.scan_text(field, data).items():
                out.setdefault(owner, {})[field] = frozenset(names)
        return out

    def scan_interaction(self, interaction: Interaction) -> dict[str, dict[str, frozenset[str]]]:
        return self.scan({field: field_text(interaction, field) for field in self.fields})


class CueClassifier:
    """Base of the built-in classifiers: cues as data, ``score`` turns matched cues into signals.

    Subclasses set ``name``, ``categories`` and ``CUES`` (or pass ``cues``), and implement ``score``.
    ``classify`` works stand-alone (it scans with the classifier's own cues); the engine instead scans
    once for every classifier and calls ``score`` directly with the hits.
    """

    name: ClassVar[str] = ""
    categories: ClassVar[tuple[str, ...]] = ()
    CUES: ClassVar[tuple[Cue, ...]] = ()
    # Whether a cue means the same wherever it is in a text: the engine then also runs the classifier on
    # the middle of texts too long to read whole (see ``llm_soc2.risk.engine``).
    scans_whole_text: ClassVar[bool] = False

    def __init__(self, cues: Sequence[Cue] | None = None) -> None:
        self.cues: tuple[Cue, ...] = tuple(self.CUES if cues is None else cues)
        self._scanner: Scanner | None = None
        self._lock = threading.Lock()

    @property
    def scanner(self) -> Scanner:
        """This classifier's own scanner (stand-alone use and re-scans of decoded text)."""
        scanner = self._scanner
        if scanner is None:
            with self._lock:
                if self._scanner is None:
                    self._scanner = Scanner([(self.name, self.cues)])
                scanner = self._scanner
        return scanner

    def rescan(self, field: str, text: str) -> frozenset[str]:
        """Names of this classifier's cues that match ``text`` as if it were ``field``."""
        return frozenset(self.scanner.scan_text(field, text).get(self.name, ()))

    def wants(self, interaction: Interaction) -> bool:
        """True when ``score`` must run even though no cue matched (e.g. a field to check is present)."""
        return False

    def score(self, interaction: Interaction, hits: Hits) -> Iterable[Signal]:
        raise NotImplementedError

    def classify(self, interaction: Interaction) -> Iterable[Signal]:
        hits: Hits = self.scanner.scan_interaction(interaction).get(self.name, NO_HITS)
        if not hits and not self.wants(interaction):
            return ()
        return tuple(self.score(interaction, hits))
