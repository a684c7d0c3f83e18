"""Anthropic Messages through the real ``anthropic`` client against the fake provider."""

from __future__ import annotations

import gc
import json

import anthropic
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from llm_soc2 import semconv
from llm_soc2.fingerprint import KNOWN_SECRETS, fingerprint, template_hash
from llm_soc2.testing import FakeProvider, ToolCall
from support.llm import ANTHROPIC_KEY, SECRET_KEY_HEX, Recorder, assert_completed_anthropic_stream, content

MODEL = "claude-sonnet-4-6"
SYSTEM = "You are a careful assistant."
MESSAGES = [{"role": "user", "content": "Summarise the plot of Hamlet."}]
TEXT = "A prince avenges his father, at great cost."


def test_message_span(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(
        TEXT, input_tokens=20, output_tokens=9, cached_tokens=100, cache_creation_tokens=7
    )
    message = anthropic_client.messages.create(
        model=MODEL,
        max_tokens=300,
        system=SYSTEM,
        messages=MESSAGES,
        stop_sequences=["END"],
        metadata={"user_id": "user-7"},
    )

    assert message.content[0].text == TEXT
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 300
    assert attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert attributes[semconv.GEN_AI_REQUEST_STREAM] is False
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == message.id
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    # The conventions' input tokens include the cached ones, which Anthropic reports apart.
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 20 + 100 + 7
    assert attributes[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 100
    assert attributes[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 7
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 9
    key = bytes.fromhex(SECRET_KEY_HEX)
    assert attributes[semconv.API_KEY_FINGERPRINT] == fingerprint(ANTHROPIC_KEY, key, purpose="api_key")
    assert attributes[semconv.END_USER_HASH] == fingerprint("user-7", key, purpose="end_user")
    assert attributes[semconv.PROMPT_TEMPLATE_HASH] == template_hash(SYSTEM)
    assert ANTHROPIC_KEY in KNOWN_SECRETS.snapshot()
    assert ANTHROPIC_KEY not in json.dumps(attributes, default=str)
    assert "user-7" not in json.dumps(attributes, default=str)
    assert content(span, semconv.GEN_AI_SYSTEM_INSTRUCTIONS) == [{"type": "text", "content": SYSTEM}]
    assert content(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "Summarise the plot of Hamlet."}]}
    ]
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {"role": "assistant", "parts": [{"type": "text", "content": TEXT}], "finish_reason": "stop"}
    ]


def test_tool_use_thinking_and_tool_results(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(
        "Let me check.",
        reasoning="Need the weather.",
        tool_calls=[ToolCall("weather", {"city": "Oslo"}, id="tu_1")],
    )
    tools = [{"name": "weather", "description": "Weather", "input_schema": {"type": "object"}}]
    first = anthropic_client.messages.create(model=MODEL, max_tokens=200, messages=MESSAGES, tools=tools)
    history = [
        *MESSAGES,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "4°C"}]},
    ]
    anthropic_client.messages.create(model=MODEL, max_tokens=200, messages=history, tools=tools)

    call_span, answer_span = instrumented.genai_spans()
    assert content(call_span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Need the weather."},
                {"type": "text", "content": "Let me check."},
                {"type": "tool_call", "id": "tu_1", "name": "weather", "arguments": {"city": "Oslo"}},
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert content(call_span, semconv.GEN_AI_TOOL_DEFINITIONS) == [
        {"type": "function", "name": "weather", "description": "Weather", "parameters": {"type": "object"}}
    ]
    inputs = content(answer_span, semconv.GEN_AI_INPUT_MESSAGES)
    assert inputs[1]["parts"][2] == {
        "type": "tool_call",
        "id": "tu_1",
        "name": "weather",
        "arguments": {"city": "Oslo"},
    }
    assert inputs[2] == {
        "role": "user",
        "parts": [{"type": "tool_call_response", "id": "tu_1", "response": "4°C"}],
    }


def test_raw_stream(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, chunk_size=6, output_tokens=9)
    events = list(
        anthropic_client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES, stream=True)
    )

    assert events[-1].type == "message_stop"
    assert_completed_anthropic_stream(instrumented.only_span(), TEXT, output_tokens=9)


def test_raw_stream_abandoned(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, chunk_size=5)

    def read_a_little() -> None:
        stream = anthropic_client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES, stream=True)
        for event in stream:
            if event.type == "content_block_delta":
                break

    read_a_little()
    gc.collect()
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_ABANDONED
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": TEXT[:5]}
    ]


def test_stream_helper_text_stream(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, chunk_size=7)
    with anthropic_client.messages.stream(
        model=MODEL, max_tokens=100, system=SYSTEM, messages=MESSAGES
    ) as stream:
        text = "".join(stream.text_stream)

    assert text == TEXT
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert attributes[semconv.PROMPT_TEMPLATE_HASH] == template_hash(SYSTEM)
    assert isinstance(attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK], float)
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": TEXT}]


def test_stream_helper_final_message(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, output_tokens=12)
    with anthropic_client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as stream:
        message = stream.get_final_message()

    assert message.usage.output_tokens == 12
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 12
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED


def test_stream_helper_left_early(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, chunk_size=4)
    with anthropic_client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as stream:
        for event in stream:
            if event.type == "text":
                break
        assert instrumented.genai_spans() == []

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_CLOSED
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": TEXT[:4]}
    ]


def test_stream_helper_error_on_enter(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(status=529)
    with (
        pytest.raises(anthropic.APIStatusError) as raised,
        anthropic_client.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream,
    ):
        stream.get_final_text()

    assert raised.value.status_code == 529
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == 529


async def test_async_message_and_streams(
    instrumented: Recorder, async_anthropic_client: anthropic.AsyncAnthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, times=3)
    message = await async_anthropic_client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES)
    raw = await async_anthropic_client.messages.create(
        model=MODEL, max_tokens=100, messages=MESSAGES, stream=True
    )
    kinds = [event.type async for event in raw]
    async with async_anthropic_client.messages.stream(
        model=MODEL, max_tokens=100, messages=MESSAGES
    ) as stream:
        text = "".join([piece async for piece in stream.text_stream])

    assert message.content[0].text == TEXT
    assert kinds[-1] == "message_stop"
    assert text == TEXT
    spans = instrumented.genai_spans()
    assert len(spans) == 3
    for span in spans:
        assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
            {"type": "text", "content": TEXT}
        ]
    assert [s.attributes.get(semconv.STREAM_OUTCOME) for s in spans if s.attributes is not None] == [
        None,
        semconv.STREAM_COMPLETED,
        semconv.STREAM_COMPLETED,
    ]


async def test_async_stream_helper_final_text(
    instrumented: Recorder, async_anthropic_client: anthropic.AsyncAnthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT)
    async with async_anthropic_client.messages.stream(
        model=MODEL, max_tokens=100, messages=MESSAGES
    ) as stream:
        assert await stream.get_final_text() == TEXT

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED


def test_parse(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    from pydantic import BaseModel

    class Verdict(BaseModel):
        ok: bool

    fake_provider.anthropic.script('{"ok": true}')
    parsed = anthropic_client.messages.parse(
        model=MODEL, max_tokens=50, messages=MESSAGES, output_format=Verdict
    )

    assert parsed.parsed_output == Verdict(ok=True)
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_OUTPUT_TYPE] == "json"
    assert '"ok"' in str(span.attributes[semconv.RESPONSE_FORMAT_SCHEMA])


def test_beta_messages_plain_raw_stream_and_helper(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, times=3, output_tokens=9)
    betas = ["context-management-2025-06-27"]
    message = anthropic_client.beta.messages.create(
        model=MODEL, max_tokens=100, system=SYSTEM, messages=MESSAGES, betas=betas
    )
    events = list(
        anthropic_client.beta.messages.create(
            model=MODEL, max_tokens=100, messages=MESSAGES, stream=True, betas=betas
        )
    )
    with anthropic_client.beta.messages.stream(
        model=MODEL, max_tokens=100, messages=MESSAGES, betas=betas
    ) as stream:
        text = "".join(stream.text_stream)

    assert message.content[0].text == TEXT
    assert events[-1].type == "message_stop"
    assert text == TEXT
    assert [r.headers.get("anthropic-beta") for r in fake_provider.anthropic.requests[-3:]] == betas * 3
    spans = instrumented.genai_spans()
    assert [span.name for span in spans] == [f"chat {MODEL}"] * 3
    first = dict(spans[0].attributes or {})
    assert first[semconv.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert first[semconv.GEN_AI_RESPONSE_ID] == message.id
    assert first[semconv.PROMPT_TEMPLATE_HASH] == template_hash(SYSTEM)
    assert [s.attributes.get(semconv.STREAM_OUTCOME) for s in spans if s.attributes is not None] == [
        None,
        semconv.STREAM_COMPLETED,
        semconv.STREAM_COMPLETED,
    ]
    for span in spans:
        assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
            {"type": "text", "content": TEXT}
        ]
    assert spans[1].attributes is not None
    assert spans[1].attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 9


async def test_async_beta_messages(
    instrumented: Recorder, async_anthropic_client: anthropic.AsyncAnthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, times=2)
    message = await async_anthropic_client.beta.messages.create(
        model=MODEL, max_tokens=100, messages=MESSAGES
    )
    async with async_anthropic_client.beta.messages.stream(
        model=MODEL, max_tokens=100, messages=MESSAGES
    ) as stream:
        text = await stream.get_final_text()

    assert message.content[0].text == TEXT
    assert text == TEXT
    spans = instrumented.genai_spans()
    assert len(spans) == 2
    assert spans[1].attributes is not None
    assert spans[1].attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED


def test_raw_response_call_gets_a_span_with_the_response(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, input_tokens=20, output_tokens=9)
    raw = anthropic_client.messages.with_raw_response.create(model=MODEL, max_tokens=100, messages=MESSAGES)

    assert raw.parse().content[0].text == TEXT
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 9
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": TEXT}]


def test_streaming_response_call_is_recorded_when_the_app_parses_it(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, input_tokens=20, output_tokens=9)
    with anthropic_client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=100, messages=MESSAGES
    ) as response:
        message = response.parse()

    assert message.content[0].text == TEXT
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 9
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": TEXT}]


def test_streaming_response_of_a_stream_call_ends_as_a_stream(
    instrumented: Recorder, anthropic_client: anthropic.Anthropic, fake_provider: FakeProvider
) -> None:
    fake_provider.anthropic.script(TEXT, input_tokens=20, output_tokens=9)
    with anthropic_client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=100, messages=MESSAGES, stream=True
    ) as response:
        events = list(response.parse())

    assert events
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": TEXT}]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_on_vertex_ai_is_recorded_as_vertex(
    instrumented: Recorder, fake_provider: FakeProvider, stream: bool
) -> None:
    fake_provider.anthropic.script(TEXT, input_tokens=20, output_tokens=9)
    client = anthropic.AnthropicVertex(
        access_token="ya29.fake-token",
        region="us-east5",
        project_id="acme-llm",
        base_url=f"{fake_provider.url}/v1",
        max_retries=0,
    )
    if stream:
        with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as events:
            text = events.get_final_text()
    else:
        text = client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES).content[0].text

    assert text == TEXT
    sent = fake_provider.anthropic.last_request.path
    assert sent.startswith("/v1/projects/acme-llm/locations/us-east5/publishers/anthropic/models/")
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_GCP_VERTEX_AI
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == MODEL
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 9
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": TEXT}]
