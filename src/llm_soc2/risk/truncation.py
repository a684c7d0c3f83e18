"""Truncated or filtered responses, from the provider's finish reasons.

``gen_ai.response.finish_reasons`` carries the provider's own words; the table below maps the known
ones (OpenAI, Anthropic, Gemini, Bedrock, Mistral, Cohere spellings) to a reason code and a score.
Matching ignores case. A refusal stop reason (Anthropic's ``refusal``) belongs to the refusal classifier.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Final

from llm_soc2.risk import text as _text
from llm_soc2.risk.assessment import Interaction, Signal
from llm_soc2.semconv import RISK_TRUNCATION

# finish reason (lower case) -> (reason code, score)
FINISH_REASONS: Final = {
    "length": ("length", 0.6),
    "max_tokens": ("length", 0.6),
    "max_output_tokens": ("length", 0.6),
    "max_completion_tokens": ("length", 0.6),
    "model_length": ("length", 0.6),
    "token_limit": ("length", 0.6),
    "model_context_window_exceeded": ("context_window", 0.6),
    "context_length_exceeded": ("context_window", 0.6),
    "content_filter": ("content_filter", 0.8),
    "content_filtered": ("content_filter", 0.8),
    "safety": ("content_filter", 0.8),
    "prohibited_content": ("content_filter", 0.8),
    "blocklist": ("content_filter", 0.8),
    "spii": ("content_filter", 0.8),
    "recitation": ("content_filter", 0.7),
    "guardrail_intervened": ("content_filter", 0.8),
    "error": ("error", 0.4),
    "pause_turn": ("paused", 0.3),
}
_MAX_REASONS: Final = 16
_STOP: Final = ("stop",)


class TruncationClassifier:
    """``truncation``: the response stopped at a length limit, was filtered, or ended in error."""

    name: ClassVar[str] = RISK_TRUNCATION
    categories: ClassVar[tuple[str, ...]] = (RISK_TRUNCATION,)

    def classify(self, interaction: Interaction) -> Iterable[Signal]:
        reasons = interaction.finish_reasons
        if not reasons or reasons == _STOP:  # the usual ending, decided without the loop
            return ()
        if isinstance(reasons, str):
            reasons = (reasons,)
        best = 0.0
        codes: list[str] = []
        for raw in tuple(reasons)[:_MAX_REASONS]:
            entry = FINISH_REASONS.get(_text.as_text(raw).strip().lower()[:64])
            if entry is not None:
                best = max(best, entry[1])
                if entry[0] not in codes:
                    codes.append(entry[0])
        if best <= 0.0:
            return ()
        return (Signal(RISK_TRUNCATION, best, tuple(codes)),)
