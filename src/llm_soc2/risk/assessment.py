"""The input a classifier reads and the assessment the risk engine returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Interaction:
    """One LLM interaction as the classifiers see it: scrubbed text plus what the scrubber found.

    ``tool_results`` are texts that came back from tools (indirect injection lives there); ``context``
    is retrieval context (for groundedness); ``response_schema`` is the JSON schema the app asked for.
    """

    prompt: str = ""
    response: str = ""
    system: str = ""
    tool_results: tuple[str, ...] = ()
    context: str | None = None
    finish_reasons: tuple[str, ...] = ()
    response_schema: Mapping[str, object] | None = None
    input_entities: tuple[str, ...] = ()  # entity types the scrubber found in the input
    output_entities: tuple[str, ...] = ()  # ... and in the output


@dataclass(frozen=True, slots=True)
class Signal:
    """One classifier's verdict on one category: a score in [0, 1] and short reasons (no content)."""

    category: str
    score: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Assessment:
    """The combined result: overall score and level, the categories that crossed their thresholds."""

    score: float
    level: str  # low | medium | high | critical
    categories: tuple[str, ...]
    scores: Mapping[str, float] = field(default_factory=dict)
    reasons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    policy_version: str = ""
