"""The input a classifier reads and the assessment the risk engine returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from llm_soc2.semconv import (
    RISK_DATA_LEAKAGE,
    RISK_HARMFUL_CONTENT,
    RISK_INVALID_OUTPUT,
    RISK_PROMPT_INJECTION,
    RISK_REFUSAL,
    RISK_TRUNCATION,
    RISK_UNGROUNDED,
)

# Our category -> the value of ``gen_ai.guardrail.security.risk.category`` in the draft GenAI guardrail
# conventions (OWASP LLM Top 10 2025 names where one fits; ``custom:*`` where none does).
GUARDRAIL_RISK_CATEGORIES: Final = {
    RISK_PROMPT_INJECTION: "prompt_injection",  # LLM01; jailbreaks are reported here too
    RISK_DATA_LEAKAGE: "sensitive_info_disclosure",  # LLM02 (system-prompt echo is LLM07, see reasons)
    RISK_HARMFUL_CONTENT: "custom:harmful_content",
    RISK_UNGROUNDED: "misinformation",  # LLM09
    RISK_INVALID_OUTPUT: "improper_output_handling",  # LLM05
    RISK_REFUSAL: "custom:refusal",
    RISK_TRUNCATION: "custom:truncation",
}


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
    failed: tuple[str, ...] = ()  # classifiers that raised (their categories carry a classifier_error reason)

    def guardrail_categories(self) -> tuple[str, ...]:
        """``categories`` in the draft GenAI guardrail conventions' vocabulary."""
        out: list[str] = []
        for category in self.categories:
            if category == RISK_DATA_LEAKAGE and "system_prompt_echo" in self.reasons.get(category, ()):
                out.append("system_prompt_leakage")
            mapped = GUARDRAIL_RISK_CATEGORIES.get(category, f"custom:{category}")
            if mapped not in out:
                out.append(mapped)
        return tuple(out)
