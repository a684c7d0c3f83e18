"""Ungrounded answers: when retrieval context is given, how much of the answer the context supports.

Runs only when ``Interaction.context`` is present. Three kinds of claim are checked against the context
(and the prompt: what the user said is not a hallucination either):

- numbers (amounts, percentages, years, the day and year of a date), compared by value (``1,000`` and
  ``1000`` agree; list markers such as ``1.`` at the start of a line are not claims);
- named entities: capitalised spans that do not open a sentence, and multi-word ones anywhere; a span
  is supported when each of its words occurs in the context;
- sentences: a sentence with three or more content words is supported when at least half of their stems
  occur in the context.

``groundedness`` is the weighted support (numbers 0.35, entities 0.25, sentences 0.4, renormalised over
the kinds present); the ``ungrounded`` score is ``1 - groundedness``. Answers that abstain ("the context
does not say") are grounded by definition. Work is bounded: the answer's first 8 KiB and the context's
scanned window.

The abstention pattern is RE2. The others use Python's ``re`` (faster per match from Python); each is a
run of one character class, optionally followed by a group that starts with a class the run cannot
contain, so a failed attempt gives back at most that one group: no input makes them backtrack more than
linearly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Final

import re2

from llm_soc2.risk import text as _text
from llm_soc2.risk.assessment import Interaction, Signal
from llm_soc2.semconv import RISK_UNGROUNDED

MAX_ANSWER_CHARS: Final = 8192
WEIGHTS: Final = {"numbers": 0.35, "entities": 0.25, "sentences": 0.4}
SENTENCE_SUPPORT: Final = 0.5

_NUMBER: Final = re.compile(r"\d[\d,]*(?:\.\d+)?")
_LIST_MARKER: Final = re.compile(r"(?m)^[ \t]*\d{1,2}[.)][ \t]")
_CAPITALISED: Final = re.compile(r"[A-Z][A-Za-z'’\-]*(?:[ \t]+[A-Z][A-Za-z'’\-]*)*")
_NOT_LETTERS: Final = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalpha()} | {"’": " "})
_ABSTAIN: Final = re2.compile(
    r"(?i)\b(?:(?:context|document|text|passage|information|sources?)\s+(?:provided\s+)?(?:does\s+not|doesn['’]t"
    r"|do\s+not|don['’]t)\s+(?:say|mention|contain|include|specify|provide|state)|not\s+(?:mentioned|stated|"
    r"specified|provided|included)\s+in\s+the\s+(?:context|document|text|passage|provided)|I\s+(?:do\s+not|"
    r"don['’]t)\s+know|no\s+information\s+(?:about|on|regarding))",
    _text.options(),
)
_STOP: Final = frozenset(
    [
        "that",
        "this",
        "with",
        "from",
        "have",
        "were",
        "been",
        "they",
        "their",
        "there",
        "which",
        "would",
        "could",
        "should",
        "about",
        "into",
        "than",
        "then",
        "them",
        "these",
        "those",
        "what",
        "when",
        "where",
        "while",
        "will",
        "your",
        "also",
        "more",
        "most",
        "some",
        "such",
        "very",
        "just",
        "only",
        "over",
        "other",
        "after",
        "before",
        "being",
        "because",
        "does",
        "doing",
        "each",
        "both",
        "here",
        "however",
        "many",
        "much",
        "must",
        "same",
        "well",
        "while",
        "within",
        "without",
        "answer",
        "question",
        "context",
        "based",
        "according",
        "provided",
        "information",
        "following",
    ]
)
_CAPITAL_STOP: Final = frozenset(
    [
        "The",
        "A",
        "An",
        "This",
        "That",
        "These",
        "Those",
        "It",
        "Its",
        "I",
        "In",
        "On",
        "At",
        "For",
        "From",
        "To",
        "Of",
        "And",
        "Or",
        "But",
        "If",
        "When",
        "While",
        "As",
        "By",
        "With",
        "However",
        "Therefore",
        "Thus",
        "Also",
        "Yes",
        "No",
        "Here",
        "There",
        "They",
        "We",
        "You",
        "He",
        "She",
        "His",
        "Her",
        "Our",
        "Their",
        "My",
        "Your",
        "Note",
        "Based",
        "According",
        "Overall",
        "Finally",
        "First",
        "Second",
        "Third",
        "Additionally",
        "Furthermore",
        "Moreover",
        "Please",
        "Sure",
        "Certainly",
        "Answer",
        "Question",
        "Context",
        "Summary",
    ]
)


@dataclass(frozen=True, slots=True)
class Grounding:
    """Support per kind of claim (``None``: no claim of that kind) and the weighted groundedness."""

    groundedness: float
    numbers: float | None
    entities: float | None
    sentences: float | None
    abstained: bool = False


def _canonical_number(token: str) -> str:
    value = token.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


def _numbers(text: str) -> set[str]:
    return {_canonical_number(m) for m in _NUMBER.findall(text)}


def _words(text_lower: str) -> set[str]:
    """Distinct words of four letters or more (str.translate + split: C speed, no pattern)."""
    return {w for w in text_lower.translate(_NOT_LETTERS).split() if len(w) >= 4}


def _entities(answer: str) -> list[str]:
    spans = []
    for match in _CAPITALISED.finditer(answer):
        span = match.group(0)
        words = [w for w in span.split() if w not in _CAPITAL_STOP]
        if not words:
            continue
        start = match.start()
        before = answer[max(0, start - 3) : start].strip()
        opens_sentence = start == 0 or before == "" or before[-1:] in ".!?:\n\"'“(*-#"
        if opens_sentence and len(words) < 2:
            continue
        spans.append(" ".join(words))
    return spans


def groundedness(answer: str, context: str, prompt: str = "") -> Grounding:
    """How much of ``answer`` the ``context`` (and ``prompt``) support, in [0, 1]."""
    answer = answer[:MAX_ANSWER_CHARS]
    if _ABSTAIN.search(_text.encode(answer)) is not None:
        return Grounding(1.0, None, None, None, abstained=True)
    source = _text.window(context) + "\n" + prompt[:MAX_ANSWER_CHARS]
    source_lower = source.lower()

    claims = _LIST_MARKER.sub(" ", answer)
    numbers = _numbers(claims)
    number_support = len(numbers & _numbers(source)) / len(numbers) if numbers else None

    entities = list(dict.fromkeys(_entities(answer)))[:200]
    entity_support = None
    if entities:
        supported = sum(1 for span in entities if all(w.lower() in source_lower for w in span.split()))
        entity_support = supported / len(entities)

    source_stems = {w[:6] if len(w) > 6 else w.rstrip("s") for w in _words(source_lower)}
    counted = supported_sentences = 0
    sentences = answer.lower().replace("\n", ". ").replace("! ", ". ").replace("? ", ". ").split(". ")
    for sentence in sentences[:400]:
        stems = {w[:6] if len(w) > 6 else w.rstrip("s") for w in _words(sentence) - _STOP}
        if len(stems) < 3:
            continue
        counted += 1
        if len(stems & source_stems) / len(stems) >= SENTENCE_SUPPORT:
            supported_sentences += 1
    sentence_support = supported_sentences / counted if counted else None

    parts = {"numbers": number_support, "entities": entity_support, "sentences": sentence_support}
    present = {kind: value for kind, value in parts.items() if value is not None}
    if not present:
        return Grounding(1.0, None, None, None)
    total = sum(WEIGHTS[kind] for kind in present)
    score = sum(WEIGHTS[kind] * value for kind, value in present.items()) / total
    return Grounding(round(score, 4), number_support, entity_support, sentence_support)


class GroundednessClassifier:
    """``ungrounded``: 1 - groundedness of the response in the retrieval context."""

    name: ClassVar[str] = RISK_UNGROUNDED
    categories: ClassVar[tuple[str, ...]] = (RISK_UNGROUNDED,)

    def classify(self, interaction: Interaction) -> Iterable[Signal]:
        if not interaction.context:
            return ()
        context = _text.as_text(interaction.context)
        response = _text.as_text(interaction.response)
        if not context.strip() or not response.strip():
            return ()
        result = groundedness(response, context, _text.as_text(interaction.prompt))
        if result.abstained:
            return ()
        reasons = [
            f"{kind}_unsupported"
            for kind, value in (
                ("numbers", result.numbers),
                ("entities", result.entities),
                ("claims", result.sentences),
            )
            if value is not None and value < SENTENCE_SUPPORT
        ]
        score = round(1.0 - result.groundedness, 4)
        if score <= 0.0:
            return ()
        return (Signal(RISK_UNGROUNDED, score, tuple(reasons)),)
