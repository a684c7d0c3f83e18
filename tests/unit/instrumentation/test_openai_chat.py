"""Chat completions and embeddings through the real ``openai`` client against the fake provider."""

from __future__ import annotations

import gc
import json

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from llm_soc2 import semconv
from llm_soc2.fingerprint import KNOWN_SECRETS, fingerprint, template_hash
from llm_soc2.testing import FakeProvider, ToolCall
from support.llm import OPENAI_KEY, SECRET_KEY_HEX, Recorder, content

MESSAGES = [
    {"role": "system", "content": "You are a concise travel assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


def test_chat_span_has_genai_attributes_and_soc2_context(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris.", input_tokens=21, output_tokens=2, cached_tokens=5)

    result = openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        temperature=0.3,
        top_p=0.9,
        max_completion_tokens=64,
        seed=7,
        stop=["\n\n"],
        presence_penalty=0.1,
        frequency_penalty=0.2,
        safety_identifier="customer-42",
    )

    assert result.choices[0].message.content == "Paris."
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == semconv.INSTRUMENTATION_SCOPE
    assert span.status.status_code is StatusCode.UNSET
    assert attributes[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert attributes[semconv.GEN_AI_REQUEST_TOP_P] == 0.9
    assert attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 64
    assert attributes[semconv.GEN_AI_REQUEST_SEED] == 7
    assert attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("\n\n",)
    assert attributes[semconv.GEN_AI_REQUEST_PRESENCE_PENALTY] == 0.1
    assert attributes[semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY] == 0.2
    assert attributes[semconv.GEN_AI_REQUEST_STREAM] is False
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == result.id
    assert attributes[semconv.GEN_AI_RESPONSE_MODEL] == result.model
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 21
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 2
    assert attributes[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 5
    assert attributes[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert attributes[semconv.SERVER_PORT] == fake_provider.port
    assert attributes[semconv.PROVIDER_HOST] == f"127.0.0.1:{fake_provider.port}"

    key = bytes.fromhex(SECRET_KEY_HEX)
    assert attributes[semconv.API_KEY_FINGERPRINT] == fingerprint(OPENAI_KEY, key, purpose="api_key")
    assert attributes[semconv.END_USER_HASH] == fingerprint("customer-42", key, purpose="end_user")
    assert attributes[semconv.PROMPT_TEMPLATE_HASH] == template_hash("You are a concise travel assistant.")
    assert OPENAI_KEY in KNOWN_SECRETS.snapshot()
    # Neither the key nor the user id appears anywhere on the span.
    flat = json.dumps(attributes, default=str)
    assert OPENAI_KEY not in flat
    assert "customer-42" not in flat


def test_chat_content_follows_the_conventions_shape(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris.")
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    span = instrumented.only_span()
    assert content(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "system", "parts": [{"type": "text", "content": "You are a concise travel assistant."}]},
        {"role": "user", "parts": [{"type": "text", "content": "What is the capital of France?"}]},
    ]
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"}
    ]


def test_tool_calls_and_tool_results_are_parts(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    fake_provider.openai.script(text="", tool_calls=[ToolCall("get_weather", {"city": "Paris"}, id="call_1")])
    first = openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=tools)
    call = first.choices[0].message.tool_calls[0]
    history = [
        *MESSAGES,
        first.choices[0].message,  # a client model object, as applications append it
        {"role": "tool", "tool_call_id": call.id, "content": "18°C, sunny"},
    ]
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=history, tools=tools)

    call_span, answer_span = instrumented.genai_spans()
    assert call_span.attributes is not None
    assert call_span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert content(call_span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'}
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert content(call_span, semconv.GEN_AI_TOOL_DEFINITIONS) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    inputs = content(answer_span, semconv.GEN_AI_INPUT_MESSAGES)
    assert inputs[2]["role"] == "assistant"
    assert inputs[2]["parts"][-1] == {
        "type": "tool_call",
        "id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    assert inputs[3] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "18°C, sunny"}],
    }


def test_several_choices_are_several_output_messages(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Bonjour")
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=3)

    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_REQUEST_CHOICE_COUNT] == 3
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop", "stop", "stop")
    assert len(content(span, semconv.GEN_AI_OUTPUT_MESSAGES)) == 3


class Capital(BaseModel):
    city: str
    country: str


def test_parse_records_the_requested_schema(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script('{"city": "Paris", "country": "France"}')
    completion = openai_client.chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Capital
    )

    assert completion.choices[0].message.parsed == Capital(city="Paris", country="France")
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_OUTPUT_TYPE] == "json"
    schema = json.loads(str(span.attributes[semconv.RESPONSE_FORMAT_SCHEMA]))
    assert set(schema["properties"]) == {"city", "country"}
    # The request itself carried a json_schema format, which the fake provider received.
    assert fake_provider.openai.last_request.body["response_format"]["type"] == "json_schema"


def test_inline_json_schema_response_format(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    fake_provider.openai.script('{"answer": "Paris"}')
    openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
    )
    span = instrumented.only_span()
    assert span.attributes is not None
    assert json.loads(str(span.attributes[semconv.RESPONSE_FORMAT_SCHEMA])) == schema


async def test_async_chat_is_recorded_like_sync(
    instrumented: Recorder, async_openai_client: openai.AsyncOpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris.", input_tokens=11, output_tokens=2)
    result = await async_openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert result.choices[0].message.content == "Paris."
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 11
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == "Paris."


async def test_async_parse(
    instrumented: Recorder, async_openai_client: openai.AsyncOpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script('{"city": "Rome", "country": "Italy"}')
    completion = await async_openai_client.chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Capital
    )
    assert completion.choices[0].message.parsed == Capital(city="Rome", country="Italy")
    assert instrumented.only_span().attributes is not None


def test_metrics_use_the_conventions_names_and_buckets(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris.", input_tokens=30, output_tokens=3)
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    (duration,) = instrumented.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert duration.count == 1
    assert tuple(duration.explicit_bounds) == semconv.DURATION_BUCKETS
    assert duration.attributes[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert duration.attributes[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert duration.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert duration.attributes[semconv.SERVER_PORT] == fake_provider.port
    tokens = {
        p.attributes[semconv.GEN_AI_TOKEN_TYPE]: p
        for p in instrumented.metric_points(semconv.METRIC_TOKEN_USAGE)
    }
    assert tokens["input"].sum == 30
    assert tokens["output"].sum == 3
    assert tuple(tokens["input"].explicit_bounds) == tuple(float(b) for b in semconv.TOKEN_BUCKETS)


def test_embeddings_span(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(input_tokens=6)
    result = openai_client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], dimensions=16)

    assert len(result.data) == 2
    assert len(result.data[0].embedding) == 16
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert span.name == "embeddings text-embedding-3-small"
    assert attributes[semconv.GEN_AI_OPERATION_NAME] == "embeddings"
    assert attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 16
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 6
    assert semconv.GEN_AI_INPUT_MESSAGES not in attributes  # embeddings inputs are not recorded


async def test_async_embeddings(
    instrumented: Recorder, async_openai_client: openai.AsyncOpenAI, fake_provider: FakeProvider
) -> None:
    result = await async_openai_client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert len(result.data) == 1
    assert instrumented.only_span().name == "embeddings text-embedding-3-small"


def test_raw_response_calls_get_a_span_with_the_response(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris.", input_tokens=9, output_tokens=2)
    raw = openai_client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)

    assert raw.parse().choices[0].message.content == "Paris."
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 9
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "Paris."}
    ]


def test_messages_from_a_generator_reach_the_provider_untouched(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("ok")
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=(m for m in MESSAGES))

    assert fake_provider.openai.last_request.body["messages"] == MESSAGES
    span = instrumented.only_span()
    # A generator cannot be read twice: the instrumentation leaves it to the client and records no input.
    assert span.attributes is not None
    assert semconv.GEN_AI_INPUT_MESSAGES not in span.attributes
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0


@pytest.mark.parametrize("client_user", ["user", "safety_identifier"])
def test_end_user_ids_are_only_recorded_hashed(
    instrumented: Recorder, openai_client: openai.OpenAI, client_user: str
) -> None:
    openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, **{client_user: "jane@example.com"}
    )

    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    expected = fingerprint("jane@example.com", bytes.fromhex(SECRET_KEY_HEX), purpose="end_user")
    assert attributes[semconv.END_USER_HASH] == expected
    assert "jane@example.com" not in json.dumps(attributes, default=str)


def test_streaming_response_calls_get_one_span_and_the_body_reaches_the_app(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris.", input_tokens=9, output_tokens=2)
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    ) as response:
        body = json.loads(b"".join(response.iter_bytes()))

    assert body["choices"][0]["message"]["content"] == "Paris."
    span = instrumented.only_span()
    assert span.name == "chat gpt-4o-mini"
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    # Read as raw bytes, the body was not kept by the client: the span has the request, not the answer.
    assert semconv.GEN_AI_OUTPUT_MESSAGES not in span.attributes


@pytest.mark.parametrize("read", ["parse", "parse to dict", "json"])
def test_a_streaming_response_read_after_the_call_is_recorded_when_read(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider, read: str
) -> None:
    fake_provider.openai.script("Paris.", input_tokens=9, output_tokens=2)
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    ) as response:
        assert instrumented.spans() == []  # the body is not read yet: the call is not over
        if read == "parse":
            answer = response.parse().choices[0].message.content
        elif read == "parse to dict":
            answer = response.parse(to=dict)["choices"][0]["message"]["content"]
        else:
            answer = response.json()["choices"][0]["message"]["content"]  # type: ignore[index]

    assert answer == "Paris."
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 2
    assert span.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "Paris."}
    ]


def test_a_streaming_response_of_a_streamed_call_ends_as_a_stream(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris is the capital.", input_tokens=9, output_tokens=5)
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ) as response:
        stream = response.parse()
        assert response.parse() is stream
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    assert text == "Paris is the capital."
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in span.attributes
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == text


def test_a_raw_response_of_a_streamed_call_ends_as_a_stream(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris is the capital.", input_tokens=9, output_tokens=5)
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices)

    assert text == "Paris is the capital."
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.STREAM_OUTCOME] == semconv.STREAM_COMPLETED
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == text


def test_a_streaming_response_that_fails_while_read_records_the_error(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script(malformed=True)
    with (
        openai_client.chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        ) as response,
        pytest.raises((ValueError, openai.OpenAIError)) as raised,
    ):
        response.parse()

    span = instrumented.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes[semconv.ERROR_TYPE] == type(raised.value).__qualname__


def test_a_streaming_response_dropped_unread_still_ends_its_span(
    instrumented: Recorder, openai_client: openai.OpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris.")
    manager = openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    response = manager.__enter__()
    raw = response.__wrapped__
    del manager, response
    gc.collect()

    span = instrumented.only_span()
    assert span.end_time is not None
    assert span.status.status_code is StatusCode.UNSET
    raw.close()


async def test_async_streaming_response_is_recorded_when_parsed(
    instrumented: Recorder, async_openai_client: openai.AsyncOpenAI, fake_provider: FakeProvider
) -> None:
    fake_provider.openai.script("Paris.", input_tokens=11, output_tokens=2)
    async with async_openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    ) as response:
        completion = await response.parse()

    assert completion.choices[0].message.content == "Paris."
    span = instrumented.only_span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 11
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"][0]["content"] == "Paris."


@pytest.mark.parametrize("deployment_path", [True, False])
def test_azure_openai_client_is_recorded_as_azure(
    instrumented: Recorder, fake_provider: FakeProvider, deployment_path: bool
) -> None:
    fake_provider.openai.script("Paris.", input_tokens=9, output_tokens=2)
    if deployment_path:
        client = openai.AzureOpenAI(
            azure_endpoint=fake_provider.url, api_key=OPENAI_KEY, api_version="2024-10-21", max_retries=0
        )
    else:  # Azure's v1 API: the plain client on the resource's host (reached through the fake as a proxy)
        client = openai.OpenAI(
            base_url="http://contoso.openai.azure.com/openai/v1/",
            api_key=OPENAI_KEY,
            max_retries=0,
            http_client=openai.DefaultHttpxClient(proxy=fake_provider.url),
        )
    result = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert result.choices[0].message.content == "Paris."
    sent = fake_provider.openai.last_request.path
    assert sent.startswith("/openai/deployments/gpt-4o-mini/" if deployment_path else "/openai/v1/")
    span = instrumented.only_span()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_AZURE_OPENAI
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 9
    assert attributes[semconv.SERVER_ADDRESS] == (
        "127.0.0.1" if deployment_path else "contoso.openai.azure.com"
    )
    assert content(span, semconv.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "text", "content": "Paris."}
    ]
