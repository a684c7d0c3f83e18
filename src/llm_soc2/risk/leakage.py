"""Data leakage in responses: PII and secrets the model output, and echoes of the system prompt.

- Entities: ``Interaction.output_entities`` (filled by the scrubber) say which kinds of sensitive value
  the response held before scrubbing. Secrets weigh most, then identifiers that enable fraud (cards,
  national ids, bank accounts), then contact data. A kind the user also supplied in the prompt
  (``input_entities``) is most likely the model repeating the user's own data and counts half. When no
  entities are given (the library used on its own), the scrubber's placeholders in the response
  (``[EMAIL]``, ``[CREDIT_CARD:3f2a9c1b]``) stand in for them.
- System-prompt echo: word 6-grams of the system prompt found in the response. Texts arrive scrubbed,
  which does not matter here since both sides carry the same placeholders. Cost is bounded: per distinct
  system prompt (cached) a handful of anchor shingles compile into one RE2 pattern; only when an anchor
  occurs in the response is the full n-gram overlap computed, on bounded windows.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final

import re2

from llm_soc2.risk import text as _text
from llm_soc2.risk.assessment import Interaction, Signal
from llm_soc2.risk.base import RESPONSE, Cue, CueClassifier, Hits, combine
from llm_soc2.semconv import RISK_DATA_LEAKAGE

# ---- entity weights: what it means for the response to contain a value of this kind
SECRET_WEIGHT: Final = 0.9
SECRET_MARKERS: Final = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PRIVATE", "CREDENTIAL", "JWT",
                         "BEARER", "CONNECTION_STRING", "WEBHOOK")  # fmt: skip
ENTITY_WEIGHTS: Final = {
    # identifiers that enable fraud or identify a person officially
    "CREDIT_CARD": 0.7, "US_SSN": 0.7, "SSN": 0.7, "IBAN": 0.7, "IBAN_CODE": 0.7, "US_BANK_NUMBER": 0.7,
    "BANK_ACCOUNT": 0.7, "US_PASSPORT": 0.7, "PASSPORT": 0.7, "US_ITIN": 0.7, "UK_NHS": 0.65, "NHS": 0.65,
    "MEDICAL_LICENSE": 0.6, "US_DRIVER_LICENSE": 0.6, "DRIVER_LICENSE": 0.6, "NATIONAL_ID": 0.7,
    "TAX_ID": 0.7, "CRYPTO": 0.5, "DATE_OF_BIRTH": 0.5,
    # contact and location data
    "EMAIL": 0.45, "EMAIL_ADDRESS": 0.45, "PHONE": 0.45, "PHONE_NUMBER": 0.45, "PERSON": 0.35,
    "LOCATION": 0.3, "ADDRESS": 0.45, "IP_ADDRESS": 0.35, "MAC_ADDRESS": 0.3,
    # weak
    "URL": 0.1, "DATE_TIME": 0.05, "UUID": 0.1, "NRP": 0.2, "ORGANIZATION": 0.05,
}  # fmt: skip
UNKNOWN_ENTITY_WEIGHT: Final = 0.4
ECHO_FACTOR: Final = 0.5  # the user supplied this kind of value in the prompt

# ---- system-prompt echo
SHINGLE: Final = 6  # words per n-gram
_MIN_SYSTEM_WORDS: Final = 12
_MAX_ANCHORS: Final = 48
_MAX_WORDS: Final = 20_000
_WORDS: Final = re2.compile(r"\w+(?:['’]\w+)?")
_PLACEHOLDER: Final = re2.compile(r"\[([A-Z][A-Z0-9_]{1,40})(?::[0-9a-f]{6,64})?\]")

CUES: Final = (
    Cue("placeholder", r"\[[A-Z][A-Z0-9_]{1,40}(?::[0-9a-f]{6,64})?\]", 0.0, (RESPONSE,)),
)  # fmt: skip


def entity_weight(entity: str, weights: Mapping[str, float] = ENTITY_WEIGHTS) -> float:
    name = entity.strip().upper()
    if name in weights:
        return weights[name]
    if any(marker in name for marker in SECRET_MARKERS):
        return SECRET_WEIGHT
    return UNKNOWN_ENTITY_WEIGHT


def is_secret(entity: str) -> bool:
    name = entity.strip().upper()
    return name not in ENTITY_WEIGHTS and any(marker in name for marker in SECRET_MARKERS)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(_text.clean(text))[:_MAX_WORDS]]


@functools.lru_cache(maxsize=64)
def _system_profile(system: str) -> tuple[Any, frozenset[tuple[str, ...]]]:
    """Anchors (one compiled pattern) and the set of word n-grams of a system prompt."""
    words = _words(_text.window(system))
    if len(words) < _MIN_SYSTEM_WORDS:
        return None, frozenset()
    grams = frozenset(tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))
    count = len(words) - SHINGLE + 1
    stride = max(SHINGLE // 2, -(-count // _MAX_ANCHORS))
    anchors = []
    for start in range(0, count, stride):
        anchors.append(r"\W+".join(re2.escape(w) for w in words[start : start + SHINGLE]))
    pattern = re2.compile(r"(?i)\b(?:" + "|".join(anchors) + r")\b", _text.options())
    return pattern, grams


class DataLeakageClassifier(CueClassifier):
    """``data_leakage``: PII/secrets in the output, system-prompt echo."""

    name: ClassVar[str] = RISK_DATA_LEAKAGE
    categories: ClassVar[tuple[str, ...]] = (RISK_DATA_LEAKAGE,)
    CUES: ClassVar[tuple[Cue, ...]] = CUES

    def __init__(
        self, entity_weights: Mapping[str, float] | None = None, *, system_echo: bool = True
    ) -> None:
        super().__init__()
        self.entity_weights = {
            **ENTITY_WEIGHTS,
            **{k.upper(): float(v) for k, v in (entity_weights or {}).items()},
        }
        self.system_echo = system_echo

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DataLeakageClassifier:
        weights = options.get("entity_weights") or {}
        return cls(
            weights if isinstance(weights, Mapping) else {},
            system_echo=bool(options.get("system_echo", True)),
        )

    def wants(self, interaction: Interaction) -> bool:
        return bool(interaction.output_entities) or (
            self.system_echo
            and bool(interaction.system)
            and bool(interaction.response)
            and _system_profile(_text.as_text(interaction.system))[0] is not None  # long enough to echo
        )

    def score(self, interaction: Interaction, hits: Hits) -> Iterable[Signal]:
        families: dict[str, float] = {}
        reasons: list[str] = []
        entities = tuple(_text.as_text(e) for e in interaction.output_entities or ())
        if not entities and "placeholder" in hits.get(RESPONSE, ()):
            found = _PLACEHOLDER.findall(_text.encode(_text.window(_text.as_text(interaction.response))))
            entities = tuple(
                name.decode() for name in dict.fromkeys(found)
                if name.decode() in self.entity_weights or is_secret(name.decode())
            )  # fmt: skip
        supplied = {_text.as_text(e).upper() for e in interaction.input_entities or ()} if entities else set()
        for entity in dict.fromkeys(entities):
            upper = entity.strip().upper()
            weight = entity_weight(upper, self.entity_weights)
            if upper in supplied:
                weight *= ECHO_FACTOR
            families[upper] = max(families.get(upper, 0.0), weight)
            reasons.append(("secret:" if is_secret(upper) else "pii:") + upper.lower())
        if self.system_echo and interaction.system and interaction.response:
            echo = system_echo_score(_text.as_text(interaction.system), _text.as_text(interaction.response))
            if echo > 0.0:
                families["system_prompt_echo"] = echo
                reasons.append("system_prompt_echo")
        value = combine(families)
        if value <= 0.0:
            return ()
        return (Signal(RISK_DATA_LEAKAGE, round(value, 4), tuple(reasons[:8])),)


def system_echo_score(system: str, response: str) -> float:
    """How much of the system prompt the response repeats (0 when nothing, 0.9 when half or more)."""
    anchors, grams = _system_profile(system)
    if anchors is None or not grams:
        return 0.0
    window = _text.window(response)
    if anchors.search(_text.encode(window)) is None:
        return 0.0
    words = _words(window)
    shared = {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)} & grams
    containment = len(shared) / len(grams)
    if containment >= 0.5:
        return 0.9
    if containment >= 0.25:
        return 0.75
    if containment >= 0.1 or len(shared) >= 8:
        return 0.6
    if len(shared) >= 3:
        return 0.4
    return 0.2
