"""The contract with the span processor: ``LLMSpanProcessor(sinks=[monitor.observe_interaction])``
feeds the monitor one scrubbed interaction per GenAI span."""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from llm_soc2 import semconv as sc
from llm_soc2.config import Settings
from llm_soc2.drift import DriftMonitor
from llm_soc2.processor import LLMSpanProcessor


def _messages(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])


def test_the_processor_sink_feeds_every_feature_it_has(tmp_path: Path) -> None:
    settings = Settings(service_name="svc", data_dir=tmp_path, audit_enabled=False)
    monitor = DriftMonitor(settings, telemetry=False)
    provider = TracerProvider()
    provider.add_span_processor(LLMSpanProcessor(settings=settings, sinks=[monitor.observe_interaction]))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("chat gpt-4o-mini") as span:
        span.set_attribute(sc.GEN_AI_OPERATION_NAME, "chat")
        span.set_attribute(sc.GEN_AI_PROVIDER_NAME, "openai")
        span.set_attribute(sc.GEN_AI_REQUEST_MODEL, "gpt-4o-mini")
        span.set_attribute(sc.GEN_AI_USAGE_INPUT_TOKENS, 12)
        span.set_attribute(sc.GEN_AI_USAGE_OUTPUT_TOKENS, 30)
        span.set_attribute(sc.GEN_AI_RESPONSE_FINISH_REASONS, ["stop"])
        span.set_attribute(
            sc.GEN_AI_INPUT_MESSAGES, _messages("user", "Mail jane@example.com the refund policy")
        )
        span.set_attribute(
            sc.GEN_AI_OUTPUT_MESSAGES, _messages("assistant", "Refunds are possible within 30 days.")
        )
    provider.shutdown()

    (item,) = monitor._buffer
    assert item[1] == "Refunds are possible within 30 days."  # the scrubbed response text
    assert monitor.drain() == 1
    assert monitor.keys == [("svc", "gpt-4o-mini", "chat")]
    (state,) = monitor._keys.values()
    space = monitor.space
    counted = {f.name for i, f in enumerate(space.features) if state.ring[:, space.n_columns[i]].sum() == 1}
    # everything but the prompt's characters (an attribute the processor may add) and the time to the
    # first chunk (not a streamed call)
    assert counted == {f.name for f in space.features} - {"prompt.chars", "time_to_first_chunk"}
    pii = space.index["pii.rate"]
    assert state.ring[:, space.offsets[pii] + space.vocabularies[pii]["yes"]].sum() == 1
