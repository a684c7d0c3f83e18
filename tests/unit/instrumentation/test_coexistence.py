"""One GenAI span per call: the Anthropic SDK's own spans and foreign instrumentations are duplicates."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan

from llm_soc2 import semconv
from llm_soc2.instrumentation.coexistence import is_duplicate_genai_span, is_foreign_instrumentor
from llm_soc2.testing import FakeProvider
from support.llm import ANTHROPIC_KEY, Recorder

MESSAGE = {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


def _scope(span: ReadableSpan) -> str:
    assert span.instrumentation_scope is not None
    return span.instrumentation_scope.name


@pytest.mark.parametrize("platform", ["anthropic", "bedrock"])
def test_the_anthropic_sdk_span_is_nested_in_ours_and_is_a_duplicate(
    platform: str, instrumented: Recorder, fake_provider: FakeProvider
) -> None:
    # The SDK's tracing on, into the same provider (as it would be with a global provider).
    tracing: Any = {"tracer_provider": instrumented.tracer_provider}
    client: anthropic.Anthropic | anthropic.AnthropicBedrock
    if platform == "bedrock":  # streams in AWS's event stream, decoded by botocore
        client = anthropic.AnthropicBedrock(
            base_url=fake_provider.url, api_key=ANTHROPIC_KEY, aws_region="us-east-1", max_retries=0,
            open_telemetry=tracing,
        )  # fmt: skip
    else:
        client = anthropic.Anthropic(
            base_url=fake_provider.anthropic.base_url,
            api_key=ANTHROPIC_KEY,
            max_retries=0,
            open_telemetry=tracing,
        )
    client.messages.create(**MESSAGE)
    with client.messages.stream(**MESSAGE) as stream:
        stream.get_final_text()
    for _ in client.messages.create(**MESSAGE, stream=True):
        pass

    spans = instrumented.genai_spans()
    ours = [s for s in spans if _scope(s) == semconv.INSTRUMENTATION_SCOPE]
    theirs = [s for s in spans if _scope(s).startswith(semconv.ANTHROPIC_SDK_SCOPE)]
    assert len(ours) == 3
    assert len(theirs) == 3  # the SDK really traced each call
    our_ids = {s.context.span_id for s in ours}
    for span in theirs:
        assert span.parent is not None
        assert span.parent.span_id in our_ids
        assert is_duplicate_genai_span(span)
    assert not any(is_duplicate_genai_span(s) for s in ours)
    # What survives the duplicate rule: exactly one GenAI span per call.
    assert len([s for s in spans if not is_duplicate_genai_span(s)]) == 3


def test_a_foreign_genai_span_around_ours_is_the_duplicate(
    instrumented: Recorder, openai_client: openai.OpenAI
) -> None:
    foreign = instrumented.tracer_provider.get_tracer("opentelemetry.instrumentation.genai.openai")
    with foreign.start_as_current_span(
        "chat gpt-4o-mini",
        attributes={semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_PROVIDER_NAME: "openai"},
    ):
        openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )

    spans = instrumented.genai_spans()
    assert len(spans) == 2
    kept = [s for s in spans if not is_duplicate_genai_span(s)]
    assert [_scope(s) for s in kept] == [semconv.INSTRUMENTATION_SCOPE]


def test_other_spans_around_or_inside_ours_are_kept(
    instrumented: Recorder, openai_client: openai.OpenAI
) -> None:
    app = instrumented.tracer_provider.get_tracer("my.app")
    with app.start_as_current_span("handle request"):
        openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )

    assert [s.name for s in instrumented.spans() if not is_duplicate_genai_span(s)] == [
        "chat gpt-4o-mini",
        "handle request",
    ]


def test_foreign_instrumentor_entry_points() -> None:
    assert is_foreign_instrumentor("openai", "opentelemetry.instrumentation.genai.openai:OpenAIInstrumentor")
    assert is_foreign_instrumentor(
        "anthropic", "opentelemetry.instrumentation.genai.anthropic:AnthropicInstrumentor"
    )
    assert is_foreign_instrumentor("openai_v2", "opentelemetry.instrumentation.openai_v2:OpenAIInstrumentor")
    assert is_foreign_instrumentor("whatever", "opentelemetry.instrumentation.openai.v2:X")
    assert not is_foreign_instrumentor(
        "llm_soc2_openai", "llm_soc2.instrumentation.openai:OpenAIInstrumentor"
    )
    assert not is_foreign_instrumentor(
        "requests", "opentelemetry.instrumentation.requests:RequestsInstrumentor"
    )
