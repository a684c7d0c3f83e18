"""The risk engine: runs the classifiers over one interaction and applies the policy.

One pass per text: the cues of every built-in (cue) classifier are compiled into one RE2 set per field,
each field is scanned once, and a cue classifier with nothing to look at is not called. Other
classifiers (plugins, and the built-ins that read no text: truncation, groundedness, output schema) are
called directly; those decide cheaply for themselves whether their field is present.

Never raises: a classifier that raises is skipped, counted in :attr:`RiskEngine.errors` (per classifier
name) and named in the assessment (``Assessment.failed`` and a ``classifier_error:<name>`` reason on its
categories). Thread-safe: the engine holds no per-call state; compiled patterns are immutable.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final

from llm_soc2.config import Settings
from llm_soc2.risk import text as _text
from llm_soc2.risk.assessment import Assessment, Interaction, Signal
from llm_soc2.risk.base import NO_HITS, TEXT_FIELDS, Classifier, CueClassifier, Scanner, field_text
from llm_soc2.risk.policy import Policy
from llm_soc2.risk.registry import ClassifierRegistry, check_classifier

_log = logging.getLogger(__name__)

ENGINE_ERROR: Final = "engine"
MAX_REASONS: Final = 16
MAX_REASON_CHARS: Final = 64
_BUILTIN_MODULES: Final = "llm_soc2.risk."


class RiskEngine:
    """Assess interactions: ``RiskEngine().assess(Interaction(prompt=..., response=...))``.

    ``settings`` supplies the policy path (``LLM_SOC2_RISK_POLICY``); ``policy`` overrides it;
    ``classifiers`` replaces the registry (built-ins + entry-point plugins - disabled ones).
    ``budget_ms``: once an assessment has taken this long (wall clock, so a badly overloaded process
    can reach it too), the remaining classifiers are skipped and named in ``Assessment.failed`` as
    ``budget:<name>``. It guards against slow plugins: the built-ins are bounded by their windows and
    stay far below it. ``None`` disables the check.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        policy: Policy | None = None,
        classifiers: Sequence[Classifier] | None = None,
        budget_ms: float | None = 250.0,
    ) -> None:
        if policy is None:
            path = settings.risk_policy if settings is not None else Settings.from_env().risk_policy
            policy = Policy.load_or_default(path)
        self.policy = policy
        if classifiers is None:
            try:
                registry = ClassifierRegistry.from_policy(policy)
            except Exception as exc:  # a bad option in a policy file: fall back to the built-in policy
                _log.warning("%s; using the built-in risk policy", exc)
                self.policy = Policy.default()
                registry = ClassifierRegistry.from_policy(self.policy)
            self.classifiers: tuple[Classifier, ...] = tuple(registry)
        else:
            self.classifiers = tuple(
                check_classifier(c, f"classifier {getattr(c, 'name', c)!r}") for c in classifiers
            )
        self.budget_s = None if budget_ms is None else budget_ms / 1000.0
        self.errors: Counter[str] = Counter()  # classifier name -> exceptions raised
        self._lock = threading.Lock()
        self._cue_classifiers = {c.name: c for c in self.classifiers if isinstance(c, CueClassifier)}
        self._scanner = Scanner([(c.name, c.cues) for c in self._cue_classifiers.values()])
        # The scanned fields and the Interaction attribute each reads as it is ("" for tool results).
        self._fields = tuple((field, TEXT_FIELDS.get(field, "")) for field in self._scanner.fields)
        # Per classifier: its cue form (scored from the shared scan), its ``wants`` when it has one of its
        # own (a cue classifier without one is only scored on a cue hit), and whether it is a plugin.
        self._plan: tuple[
            tuple[Classifier, CueClassifier | None, Callable[[Interaction], bool] | None, bool], ...
        ]
        self._plan = tuple(
            (
                c,
                (cue := self._cue_classifiers.get(c.name) if isinstance(c, CueClassifier) else None),
                cue.wants if cue is not None and type(cue).wants is not CueClassifier.wants else None,
                not type(c).__module__.startswith(_BUILTIN_MODULES),
            )
            for c in self.classifiers
        )
        # What also runs on the middle of texts longer than a window (see ``_middle_windows``).
        self._whole_text_plan = tuple(
            entry for entry in self._plan if getattr(entry[0], "scans_whole_text", False)
        )

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def assess(self, interaction: Interaction) -> Assessment:
        """The assessment of one interaction. Never raises."""
        try:
            return self._assess(interaction)
        except Exception:
            self._count(ENGINE_ERROR)
            _log.debug("risk engine failed", exc_info=True)
            return Assessment(0.0, "low", (), {}, {}, self.policy.version, failed=(ENGINE_ERROR,))

    def _assess(self, interaction: Interaction) -> Assessment:
        started = time.perf_counter()
        if not isinstance(interaction, Interaction):
            interaction = _coerce(interaction)
        interaction = _plain_apostrophes(interaction)
        signals: list[Signal] = []
        failed: dict[str, tuple[str, ...]] = {}
        cut = self._classify(interaction, self._plan, started, signals, failed)
        if cut and self._whole_text_plan:
            for window in _middle_windows(interaction):
                self._classify(window, self._whole_text_plan, started, signals, failed)
        return self.policy.evaluate(signals, failed)

    def _classify(
        self,
        interaction: Interaction,
        plan: tuple[tuple[Classifier, CueClassifier | None, Callable[[Interaction], bool] | None, bool], ...],
        started: float,
        signals: list[Signal],
        failed: dict[str, tuple[str, ...]],
    ) -> bool:
        """Run ``plan`` on ``interaction``, adding to ``signals`` and ``failed``. True when a text was
        too long to be read whole (``field_text`` kept its head and tail, or cut the tool results)."""
        texts = {}
        cut = False
        for field, name in self._fields:
            value = getattr(interaction, name) if name else None
            if type(value) is not str or len(value) > _text.WINDOW_CHARS:  # the common case is a str
                value = field_text(interaction, field)
                cut = cut or len(value) >= _text.WINDOW_CHARS
            if value:
                texts[field] = value.encode("utf-8", "surrogatepass")  # as _text.encode, without a call
        hits = self._scanner.scan(texts) if texts else {}
        timed = False  # the built-ins are bounded by their windows: the clock matters once a plugin ran
        for classifier, cue, wants, plugin in plan:
            if timed and self.budget_s is not None and time.perf_counter() - started > self.budget_s:
                failed[f"budget:{classifier.name}"] = ()
                continue
            try:
                if cue is not None:
                    found = hits.get(cue.name, NO_HITS)
                    if not found and (wants is None or not wants(interaction)):
                        continue
                    produced: Iterable[Signal] = cue.score(interaction, found)
                else:
                    produced = classifier.classify(interaction)
                for signal in produced:
                    signals.append(_clean(signal))
            except Exception:
                self._count(classifier.name)
                _log.debug("risk classifier %s failed", classifier.name, exc_info=True)
                failed[classifier.name] = tuple(classifier.categories)
            timed = timed or plugin
        return cut

    def _count(self, name: str) -> None:
        with self._lock:
            self.errors[name] += 1


def _plain_apostrophes(interaction: Interaction) -> Interaction:
    """``interaction`` with typographic apostrophes (as models and word processors write them) made ASCII,
    so that "don’t" and "you’re" read like "don't" and "you're" to every cue. Double quotes are left:
    inside a JSON answer they would end its strings."""
    changes: dict[str, Any] = {}
    for name in ("prompt", "response", "system", "context"):
        value = getattr(interaction, name)
        if type(value) is str and not value.isascii() and ("’" in value or "‘" in value):
            changes[name] = value.replace("’", "'").replace("‘", "'")
    results = interaction.tool_results
    if (
        results
        and type(results) is tuple
        and any(type(r) is str and not r.isascii() and ("’" in r or "‘" in r) for r in results)
    ):
        changes["tool_results"] = tuple(
            r.replace("’", "'").replace("‘", "'") if type(r) is str else r for r in results
        )
    return dataclasses.replace(interaction, **changes) if changes else interaction


# The middle of a long text is read in windows that overlap by this much (a cue is far shorter), at most
# MAX_MIDDLE_WINDOWS of them per text: 1.3 MB, beyond what the scrubber lets through by default.
WINDOW_OVERLAP: Final = 2_048
MAX_MIDDLE_WINDOWS: Final = 32


def _middle_windows(interaction: Interaction) -> Iterator[Interaction]:
    """The interaction again for each window of the middle of its long texts: what ``window`` leaves
    out of a text longer than ``WINDOW_CHARS`` (it keeps the head and the tail). Classifiers whose cues
    mean the same wherever they are (``scans_whole_text``) read these too, so an instruction buried
    in the middle of a long document or tool result is found; the others would misread a window (a
    refusal opens a response, a JSON answer is valid only whole)."""
    results = interaction.tool_results
    parts = (results,) if isinstance(results, str) else list(results)[: _text.JOIN_LIMIT]
    tools = "\n".join(_text.as_text(part) for part in parts)
    middles = {
        "prompt": _middle(_text.as_text(interaction.prompt)),
        "response": _middle(_text.as_text(interaction.response)),
        "context": _middle(_text.as_text(interaction.context or "")),
        # Tool results are read joined and cut after a window (``field_text``): no tail was read.
        "tool_results": _middle(tools, tail_read=False),
    }
    count = max(map(len, middles.values()))
    for i in range(count):
        changes: dict[str, Any] = {}
        for name, windows in middles.items():
            if i < len(windows):
                changes[name] = (windows[i],) if name == "tool_results" else windows[i]
            else:  # this text has no window here: nothing of it is read again
                changes[name] = () if name == "tool_results" else ""
        yield dataclasses.replace(interaction, **changes)


def _middle(text: str, *, tail_read: bool = True) -> list[str]:
    """Overlapping windows over what ``window`` leaves out of ``text`` (none for a text that fits); with
    ``tail_read=False``, over everything after the head."""
    if len(text) <= _text.WINDOW_CHARS:
        return []
    start = _text.HEAD_CHARS - WINDOW_OVERLAP
    stop = len(text) - _text.TAIL_CHARS + WINDOW_OVERLAP if tail_read else len(text)
    step = _text.WINDOW_CHARS - WINDOW_OVERLAP
    starts = list(range(start, max(start + 1, stop - WINDOW_OVERLAP), step))
    if len(starts) > MAX_MIDDLE_WINDOWS:  # the first ones and the one before the tail
        starts = [*starts[: MAX_MIDDLE_WINDOWS - 1], max(start, stop - _text.WINDOW_CHARS)]
    return [text[begin : min(begin + _text.WINDOW_CHARS, stop)] for begin in starts]


def _clean(signal: Signal) -> Signal:
    """A signal from any classifier made safe to export: score in [0, 1], short string reasons."""
    if not isinstance(signal, Signal):
        raise TypeError(f"classify() must yield Signal objects, not {type(signal).__name__}")
    score = float(signal.score)
    if not math.isfinite(score):
        score = 0.0
    score = min(1.0, max(0.0, score))
    reasons = tuple(str(r)[:MAX_REASON_CHARS] for r in tuple(signal.reasons)[:MAX_REASONS])
    if score == signal.score and reasons == signal.reasons and isinstance(signal.category, str):
        return signal
    return Signal(str(signal.category)[:MAX_REASON_CHARS], score, reasons)


def _coerce(value: Any) -> Interaction:
    """An Interaction from a mapping (the processor may hand one over); anything else is empty."""
    if isinstance(value, dict):
        fields = {k: v for k, v in value.items() if k in Interaction.__dataclass_fields__}
        return make_interaction(**fields)
    return Interaction()


def make_interaction(
    prompt: object = "",
    response: object = "",
    context: object = None,
    *,
    system: object = "",
    tool_results: object = (),
    finish_reasons: object = (),
    response_schema: object = None,
    input_entities: object = (),
    output_entities: object = (),
) -> Interaction:
    """An Interaction from loosely typed values (a str where a tuple is expected, bytes, None ...)."""

    def strings(value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str | bytes):
            return (_text.as_text(value),)
        try:
            return tuple(_text.as_text(v) for v in list(value)[: _text.JOIN_LIMIT])  # type: ignore[call-overload]
        except TypeError:
            return (_text.as_text(value),)

    from collections.abc import Mapping

    return Interaction(
        prompt=_text.as_text(prompt),
        response=_text.as_text(response),
        system=_text.as_text(system),
        tool_results=strings(tool_results),
        context=None if context is None else _text.as_text(context),
        finish_reasons=strings(finish_reasons),
        response_schema=response_schema if isinstance(response_schema, Mapping) else None,
        input_entities=strings(input_entities),
        output_entities=strings(output_entities),
    )
