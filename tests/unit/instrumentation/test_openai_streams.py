"""Streamed chat completions: the span ends exactly once, however the stream ends, and records what
was received; the application gets the same chunks and exceptions as without instrumentation."""

from __future__ import annotations

import gc

import openai
import pytest
from opentelemetry.trace import StatusCode

from llm_soc2 import semconv
from llm_soc2.testing import FakeProvider, ToolCall
from support.llm import Recorder, content

MESSAGES = [{"role": "user", "content": "Tell me about Paris."}]
TEXT = "Paris is the capital and largest city of France."


def test_exhausted_stream_records_text_usage_and_time_to_first_chunk(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT, chunk_size=5, input_tokens=12, output_tokens=11)
    stream = openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    assert instrumented.genai_spans() == []  # still open while the application reads
    chunks = list(stream)

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert chunks[-1].usage is not None  # the include_usage chunk reached the application
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 11
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == chunks[0].id
    ttfc = attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert isinstance(ttfc, float)
    assert span.end_time is not None
    assert span.start_time is not None
    assert 0 < ttfc <= (span.end_time - span.start_time) / 1e9
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {"role": "assistant", "parts": [{"type": "text", "content": TEXT}], "finish_reason": "stop"}
    ]
    (ttfc_point,) = instrumented.metric_points(semconv.METRIC_TIME_TO_FIRST_CHUNK)
    assert ttfc_point.count == 1


def test_streamed_tool_call_arguments_are_reassembled(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(
        text="", tool_calls=[ToolCall("lookup", {"query": "Paris population"}, id="c1")]
    )
    for _ in openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
        pass

    outputs = content(instrumented.only_span(), semconv.GEN_AI_OUTPUT_MESSAGES)
    assert outputs == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "c1",
                    "name": "lookup",
                    "arguments": '{"query":"Paris population"}',
                }
            ],
            "finish_reason": "tool_call",
        }
    ]


def test_stream_closed_early_ends_the_span_with_what_was_read(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT, chunk_size=4)
    stream = openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    iterator = iter(stream)
    received = [next(iterator) for _ in range(3)]  # role chunk + two text chunks
    stream.close()

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_CLOSED
    text = "".join(c.choices[0].delta.content or "" for c in received)
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": text}]
    stream.close()  # closing again changes nothing
    assert len(instrumented.genai_spans()) == 1


def test_stream_as_context_manager_ends_on_exit(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT)
    with openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True) as stream:
        first = next(iter(stream))
        assert first.choices[0].delta.role == "assistant"

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_CLOSED


def test_abandoned_stream_ends_when_garbage_collected(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT, chunk_size=4)

    def read_a_little() -> None:
        stream = openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        next(iter(stream))
        next(iter(stream))

    read_a_little()
    gc.collect()

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_ABANDONED
    assert span.status.status_code is StatusCode.UNSET
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": TEXT[:4]}
    ]


def test_connection_dropped_mid_stream(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT, chunk_size=4, drop_after=3)
    stream = openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    received: list[openai.types.chat.ChatCompletionChunk] = []

    def read_all() -> None:
        received.extend(stream)

    with pytest.raises(openai.APIConnectionError) as raised:
        read_all()

    assert len(received) == 3
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert span.status.status_code is StatusCode.ERROR
    assert attributes[semconv.ERROR_TYPE] == type(raised.value).__qualname__ == "APIConnectionError"
    assert attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_FAILED
    expected = "".join(c.choices[0].delta.content or "" for c in received)
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": expected}
    ]
    (duration,) = instrumented.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert duration.attributes[semconv.ERROR_TYPE] == "APIConnectionError"


def test_error_event_in_stream(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT, drop_after=2, stream_error=True)
    with pytest.raises(openai.APIError) as raised:
        for _ in openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
            pass

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__qualname__
    assert span.status.status_code is StatusCode.ERROR


def test_stream_helper_exhausted(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT)
    with openai_client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        final = stream.get_final_completion()

    assert final.choices[0].message.content == TEXT
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": TEXT}]


def test_stream_helper_left_early_ends_the_span_on_exit(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT, chunk_size=4)
    with openai_client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        for event in stream:
            if event.type == "content.delta":
                break
        assert instrumented.genai_spans() == []

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_CLOSED


async def test_async_stream_exhausted(
    instrumented: Recorder, async_openai_client: openai.AsyncOpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT, chunk_size=6)
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]

    assert "".join(pieces) == TEXT
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert semconv.GEN_AI_USAGE_OUTPUT_TOKENS in span.attributes


async def test_async_stream_closed_early(
    instrumented: Recorder, async_openai_client: openai.AsyncOpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT, chunk_size=4)
    async with await async_openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as stream:
        await stream.__anext__()

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_CLOSED


async def test_async_stream_helper(
    instrumented: Recorder, async_openai_client: openai.AsyncOpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT)
    async with async_openai_client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        final = await stream.get_final_completion()

    assert final.choices[0].message.content == TEXT
    assert instrumented.only_span().attributes is not None


async def test_async_connection_dropped_mid_stream(
    instrumented: Recorder, async_openai_client: openai.AsyncOpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT, chunk_size=4, drop_after=2)
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    with pytest.raises(openai.APIConnectionError):
        async for _ in stream:
            pass

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_FAILED
    assert span.status.status_code is StatusCode.ERROR


def test_stream_chunks_are_identical_to_an_uninstrumented_run(
    instrument: object, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(TEXT, chunk_size=3, times=2)
    plain = [
        c.model_dump(exclude={"id", "created"})
        for c in openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    ]
    recorder = instrument()  # type: ignore[operator]
    traced = [
        c.model_dump(exclude={"id", "created"})
        for c in openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    ]
    assert traced == plain
    assert len(recorder.genai_spans()) == 1
