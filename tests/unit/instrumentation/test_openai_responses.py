"""The Responses API: plain, streamed, ``responses.stream(...)``, ``parse``; sync and async."""

from __future__ import annotations

import openai
from opentelemetry.trace import StatusCode
from pydantic import BaseModel

from llm_soc2 import semconv
from llm_soc2.fingerprint import template_hash
from llm_soc2.testing import FakeProvider, ToolCall
from support.llm import Recorder, content

INSTRUCTIONS = "Answer in one sentence."


def test_response_span(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(
        "Paris.", input_tokens=14, output_tokens=2, reasoning_tokens=1, cached_tokens=4
    )
    response = openai_client.responses.create(
        model="gpt-4.1-mini",
        instructions=INSTRUCTIONS,
        input="What is the capital of France?",
        temperature=0.5,
        max_output_tokens=50,
        conversation="conv_123",
    )

    assert response.output_text == "Paris."
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert span.name == "chat gpt-4.1-mini"
    assert attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 50
    assert attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.5
    assert attributes[semconv.GEN_AI_CONVERSATION_ID] == "conv_123"
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == response.id
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 14
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 2
    assert attributes[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 1
    assert attributes[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 4
    assert attributes[semconv.PROMPT_TEMPLATE_HASH] == template_hash(INSTRUCTIONS)
    assert content(span, semconv.GEN_AI_SYSTEM_INSTRUCTIONS) == [{"type": "text", "content": INSTRUCTIONS}]
    assert content(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "What is the capital of France?"}]}
    ]
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"}
    ]


def test_response_with_items_and_function_calls(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(text="", tool_calls=[ToolCall("get_weather", {"city": "Oslo"}, id="call_9")])
    openai_client.responses.create(
        model="gpt-4.1-mini",
        input=[
            {"role": "developer", "content": "Use tools."},
            {"role": "user", "content": [{"type": "input_text", "text": "Weather in Oslo?"}]},
            {"type": "function_call_output", "call_id": "call_0", "output": "earlier result"},
        ],
        tools=[{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
    )

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_call",)
    assert span.attributes[semconv.PROMPT_TEMPLATE_HASH] == template_hash("Use tools.")
    assert content(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "system", "parts": [{"type": "text", "content": "Use tools."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]},
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_0", "response": "earlier result"}],
        },
    ]
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "tool_call", "id": "call_9", "name": "get_weather", "arguments": '{"city":"Oslo"}'}
    ]
    assert content(span, semconv.GEN_AI_TOOL_DEFINITIONS) == [
        {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
    ]


def test_incomplete_response_is_a_length_finish(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris is", finish_reason="max_output_tokens")
    openai_client.responses.create(model="gpt-4.1-mini", input="Tell me everything.")

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("length",)


def test_streamed_response(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Streaming works fine.", chunk_size=4, input_tokens=8, output_tokens=5)
    events = list(openai_client.responses.create(model="gpt-4.1-mini", input="hi", stream=True))

    assert events[-1].type == "response.completed"
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert isinstance(attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK], float)
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "Streaming works fine."}
    ]


def test_streamed_response_closed_early_keeps_the_partial_text(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Streaming works fine.", chunk_size=4)
    stream = openai_client.responses.create(model="gpt-4.1-mini", input="hi", stream=True)
    deltas = []
    for event in stream:
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
            if len(deltas) == 2:
                break
    stream.close()

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_CLOSED
    assert span.attributes[semconv.GEN_AI_RESPONSE_ID].startswith("resp_")
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "".join(deltas)}
    ]


def test_responses_stream_helper(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Hello helper.", tool_calls=[ToolCall("noop", {})])
    with openai_client.responses.stream(
        model="gpt-4.1-mini", input="hi", instructions=INSTRUCTIONS
    ) as stream:
        final = stream.get_final_response()

    assert final.output_text == "Hello helper."
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    parts = content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"]
    assert [p["type"] for p in parts] == ["text", "tool_call"]


def test_responses_stream_helper_left_early(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Hello helper, with a longer text.", chunk_size=3)
    with openai_client.responses.stream(model="gpt-4.1-mini", input="hi") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                break

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_CLOSED


class Answer(BaseModel):
    city: str


def test_responses_parse(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script('{"city": "Paris"}')
    parsed = openai_client.responses.parse(
        model="gpt-4.1-mini", input="Capital of France?", text_format=Answer
    )

    assert parsed.output_parsed == Answer(city="Paris")
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_OUTPUT_TYPE] == "json"
    assert '"city"' in str(span.attributes[semconv.RESPONSE_FORMAT_SCHEMA])


async def test_async_responses(
    instrumented: Recorder, async_openai_client: openai.AsyncOpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("One.", times=2)
    response = await async_openai_client.responses.create(model="gpt-4.1-mini", input="hi")
    stream = await async_openai_client.responses.create(model="gpt-4.1-mini", input="hi", stream=True)
    kinds = [event.type async for event in stream]

    assert response.output_text == "One."
    assert kinds[-1] == "response.completed"
    plain, streamed = instrumented.genai_spans()
    assert plain.attributes is not None
    assert streamed.attributes is not None
    assert plain.attributes[semconv.GEN_AI_REQUEST_STREAM] is False
    assert streamed.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED


async def test_async_responses_stream_helper(
    instrumented: Recorder, async_openai_client: openai.AsyncOpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Async helper.")
    async with async_openai_client.responses.stream(model="gpt-4.1-mini", input="hi") as stream:
        final = await stream.get_final_response()

    assert final.output_text == "Async helper."
    span = instrumented.only_span()
    assert span.status.status_code is StatusCode.UNSET
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "Async helper."}
    ]


def test_streaming_response_of_the_responses_api_is_recorded_when_parsed(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris.", input_tokens=14, output_tokens=2)
    with openai_client.responses.with_streaming_response.create(
        model="gpt-4.1-mini", input="What is the capital of France?"
    ) as raw:
        response = raw.parse()

    assert response.output_text == "Paris."
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == response.id
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 2
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "Paris."}
    ]


def test_streaming_response_of_embeddings_is_recorded_when_parsed(
    instrumented: Recorder, openai_client: openai.OpenAI
) -> None:
    with openai_client.embeddings.with_streaming_response.create(
        model="text-embedding-3-small", input="hello"
    ) as raw:
        vectors = raw.parse().data

    assert vectors
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.GEN_AI_OPERATION_NAME] == "embeddings"
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
